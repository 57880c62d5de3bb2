package pglocal

import (
	"os/exec"
	"testing"
)

// The owner recorded in the state file counts as alive only while that very process
// runs: not once it has exited, not as a zombie nobody reaped, and not when its id has
// gone to another process.
func TestAnOwnerIsAliveOnlyWhileItRuns(t *testing.T) {
	t.Parallel()
	self, err := current()
	if err != nil || !self.alive() {
		t.Fatalf("this process is not alive: %+v %v", self, err)
	}
	if reused := (process{PID: self.PID, Start: self.Start + 1}); self.Start != 0 && reused.alive() {
		t.Error("a process started at another time under the same id counts as the owner")
	}

	zombie := exec.Command("sleep", "60")
	if err := zombie.Start(); err != nil {
		t.Fatal(err)
	}
	p := process{PID: zombie.Process.Pid}
	p.Start, _, _ = procStat(p.PID)
	if !p.alive() {
		t.Fatal("a running child is not alive")
	}
	if err := zombie.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	// Not yet reaped: a zombie until Wait.
	if _, zombieState, err := procStat(p.PID); err == nil && zombieState && p.alive() {
		t.Error("a killed process nobody reaped yet counts as alive")
	}
	_ = zombie.Wait()
	if p.alive() {
		t.Error("a process that exited counts as alive")
	}
	if (process{}).alive() {
		t.Error("no process counts as alive")
	}
}

package pglocal

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// process names a running process by its id and, where the system tells it, its start
// time, so an id the system has handed to a new process since is not taken for the old.
type process struct {
	PID   int    `json:"pid"`
	Start uint64 `json:"start,omitempty"` // clock ticks since boot; 0 where unknown
}

func current() (process, error) {
	p := process{PID: os.Getpid()}
	p.Start, _, _ = procStat(p.PID)
	if p.PID <= 0 {
		return process{}, errors.New("no process id")
	}
	return p, nil
}

// alive reports whether the process still runs: a zombie (killed, not yet reaped) or a
// new process under the same id does not count.
func (p process) alive() bool {
	if p.PID <= 0 {
		return false
	}
	if err := syscall.Kill(p.PID, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	start, zombie, err := procStat(p.PID)
	if err != nil {
		return true // no /proc to ask: the signal's answer stands
	}
	return !zombie && (p.Start == 0 || start == p.Start)
}

// procStat reads a process's start time and whether it is a zombie from /proc.
func procStat(pid int) (start uint64, zombie bool, err error) {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false, err
	}
	// "pid (comm) state ppid …": comm may hold spaces and parentheses, so count from
	// the last ')'. The start time is field 22; state is field 3.
	s := string(raw)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 20 {
		return 0, false, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(fields))
	}
	start, err = strconv.ParseUint(fields[19], 10, 64)
	return start, fields[0] == "Z", err
}

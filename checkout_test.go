package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	nethttp "net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/supermock/engine/internal/testdb"
)

// asBinary makes the test binary run as the engine's binary when a test starts it as
// a child process, so commands run as separate processes, as a developer runs them.
const asBinary = "SUPERMOCK_TEST_AS_BINARY"

// checkout is a folder holding a module, as a fresh clone does, with no DATABASE_URL:
// its commands share the private PostgreSQL in its .data/.
type checkout struct {
	t    *testing.T
	root string
}

func newCheckout(t *testing.T) *checkout {
	t.Helper()
	// Not t.TempDir: PostgreSQL, run as its own user under root, must reach the folder.
	root, err := os.MkdirTemp("", "supermock-checkout-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "deep", "inside"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "go.mod"), []byte("module example.test/checkout\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return &checkout{t: t, root: root}
}

// command is the binary started in dir (relative to the checkout) with args.
func (c *checkout) command(dir string, env []string, args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Dir = filepath.Join(c.root, dir)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DATABASE_URL=") && !strings.HasPrefix(kv, "PORT=") && !strings.HasPrefix(kv, "METRICS_PORT=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(append(cmd.Env, asBinary+"=1"), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	return cmd, &stdout, &stderr
}

// run runs the binary to its end and returns its exit code and output.
func (c *checkout) run(dir string, args ...string) (int, string, string) {
	c.t.Helper()
	cmd, stdout, stderr := c.command(dir, nil, args...)
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		c.t.Fatalf("%v: %v", args, err)
	}
	return cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()
}

// serve starts `serve` on port and waits until it answers healthy.
func (c *checkout) serve(dir string, port int) (*exec.Cmd, *bytes.Buffer) {
	c.t.Helper()
	cmd, stdout, _ := c.command(dir, []string{"PORT=" + strconv.Itoa(port), "METRICS_PORT=" + strconv.Itoa(freePort(c.t))}, "serve")
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	testdb.Eventually(c.t, 2*time.Minute, func() bool { return healthStatus(port) == 200 })
	return cmd, stdout
}

// state is the checkout's record of its private server, or nil when there is none.
func (c *checkout) state() map[string]any {
	raw, err := os.ReadFile(filepath.Join(c.root, ".data", "postgres.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	var st map[string]any
	if err != nil || json.Unmarshal(raw, &st) != nil {
		c.t.Fatalf("the state file: %v %s", err, raw)
	}
	return st
}

func healthStatus(port int) int {
	resp, err := nethttp.Get(fmt.Sprintf("http://127.0.0.1:%d/api/health", port))
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func answers(port int) bool {
	conn, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second)
	if err == nil {
		conn.Close()
	}
	return err == nil
}

// stop ends a command as SIGTERM does and returns its exit code.
func stop(t *testing.T, cmd *exec.Cmd) int {
	t.Helper()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	return cmd.ProcessState.ExitCode()
}

// With an engine serving from a checkout without DATABASE_URL, every other command of
// the binary, with or without --help and from any folder of the checkout, uses the
// same private PostgreSQL and leaves it running: health stays 200 throughout, and the
// tools see what the engine wrote.
func TestCommandsBesideAServingEngineShareItsPrivateDatabase(t *testing.T) {
	t.Parallel()
	c := newCheckout(t)
	port := freePort(t)
	serve, _ := c.serve(".", port)

	// What a user would see: health asked without pause while the tools run.
	var healthy, sick int
	var mu sync.Mutex
	watching, stopWatching := context.WithCancel(context.Background())
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		for watching.Err() == nil {
			code := healthStatus(port)
			mu.Lock()
			if code == 200 {
				healthy++
			} else {
				sick++
			}
			mu.Unlock()
			time.Sleep(20 * time.Millisecond)
		}
	}()

	resp, err := nethttp.Post(fmt.Sprintf("http://127.0.0.1:%d/api/auth/dev", port), "application/json",
		strings.NewReader(`{"telegram_id": 4242, "username": "beside_the_tools"}`))
	if err != nil || resp.StatusCode != nethttp.StatusCreated {
		t.Fatalf("dev login: %v %v", err, resp)
	}
	resp.Body.Close()

	for _, name := range []string{"serve", "migrate", "rebuild", "replay", "demo", "healthcheck", "version"} {
		for _, help := range []string{"--help", "-h"} {
			code, stdout, stderr := c.run("deep/inside", name, help)
			if code != 0 || !strings.Contains(stdout, "usage: supermock "+name) || stderr != "" {
				t.Errorf("%s %s: exit %d\nstdout %s\nstderr %s", name, help, code, stdout, stderr)
			}
		}
	}
	for _, args := range [][]string{{"migrate"}, {"rebuild", "--all"}, {"demo", "--users", "4", "--days", "1"}} {
		if code, _, stderr := c.run("deep", args...); code != 0 {
			t.Errorf("%v: exit %d\n%s", args, code, stderr)
		}
	}
	code, stdout, stderr := c.run("deep/inside", "replay", "--type", "UserRegistered")
	if code != 0 || !strings.Contains(stdout, "beside_the_tools") {
		t.Errorf("replay from a folder inside the checkout: exit %d, the engine's user not among\n%s\n%s", code, stdout, stderr)
	}
	second, _ := c.serve("deep", freePort(t))
	if code := stop(t, second); code != 0 {
		t.Errorf("a second serve beside the first exited %d", code)
	}

	stopWatching()
	<-watched
	if healthStatus(port) != 200 || sick > 0 || healthy == 0 {
		t.Fatalf("health while the tools ran: %d answers 200, %d not", healthy, sick)
	}
	st := c.state()
	if st == nil {
		t.Fatal("no state file while the engine serves")
	}
	dbPort := int(st["port"].(float64))
	if code := stop(t, serve); code != 0 {
		t.Errorf("serve exited %d after SIGTERM", code)
	}
	if c.state() != nil || answers(dbPort) {
		t.Errorf("the engine that started the private PostgreSQL stopped, and left it running (state %v)", c.state())
	}
}

// A server left running by a killed engine is taken over by the next command, which
// stops it when it is done, since nobody else uses it.
func TestAServerLeftByAKilledEngineIsTakenOver(t *testing.T) {
	t.Parallel()
	c := newCheckout(t)
	serve, _ := c.serve(".", freePort(t))
	if err := serve.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = serve.Wait()
	st := c.state()
	if st == nil {
		t.Fatal("no state file after the engine was killed")
	}
	dbPort := int(st["port"].(float64))
	if !answers(dbPort) {
		t.Fatal("the private PostgreSQL died with the engine")
	}
	code, logs, _ := c.run("deep/inside", "migrate")
	if code != 0 || !strings.Contains(logs, fmt.Sprintf("127.0.0.1:%d/supermock", dbPort)) || !strings.Contains(logs, "owner=true") {
		t.Fatalf("migrate after the kill: exit %d, want it to own the server left on port %d\n%s", code, dbPort, logs)
	}
	if c.state() != nil || answers(dbPort) {
		t.Errorf("the command that took the server over left it running (state %v)", c.state())
	}
}

// When the engine that started the server stops while another still uses it, the other
// keeps its database and becomes the owner; it stops the server when it stops.
func TestTheServerOutlivesItsStarterWhileAnotherEngineUsesIt(t *testing.T) {
	t.Parallel()
	c := newCheckout(t)
	first, _ := c.serve(".", freePort(t))
	port := freePort(t)
	second, _ := c.serve("deep/inside", port)
	dbPort := int(c.state()["port"].(float64))
	if code := stop(t, first); code != 0 {
		t.Fatalf("the first serve exited %d", code)
	}
	if healthStatus(port) != 200 {
		t.Fatal("the second engine lost its database when the first stopped")
	}
	owner := c.state()["owner"].(map[string]any)
	if int(owner["pid"].(float64)) != second.Process.Pid {
		t.Errorf("the owner is now %v, want the second engine (pid %d)", owner, second.Process.Pid)
	}
	if code := stop(t, second); code != 0 {
		t.Errorf("the second serve exited %d", code)
	}
	if c.state() != nil || answers(dbPort) {
		t.Errorf("the last engine stopped and left the server running (state %v)", c.state())
	}
}

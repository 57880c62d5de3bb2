package testdb

import (
	"bufio"
	"fmt"
	"net"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// natsServerPaths are where Debian's nats-server package puts the binary, for a PATH
// that lacks /usr/sbin.
var natsServerPaths = []string{"/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"}

// NATSServer is a private nats-server with JetStream, started from the installed
// binary the way the private PostgreSQL is. It stores its streams in a folder of the
// test, so a restart keeps them.
type NATSServer struct {
	t      testing.TB
	binary string
	dir    string
	port   int
	cmd    *osexec.Cmd
	exited chan struct{}
}

// NATS starts a nats-server with JetStream for the test and stops it when the test
// ends. Without nats-server installed the test fails and says how to install it.
func NATS(t testing.TB) *NATSServer {
	t.Helper()
	binary, err := osexec.LookPath("nats-server")
	for _, p := range natsServerPaths {
		if err == nil {
			break
		}
		if _, serr := os.Stat(p); serr == nil {
			binary, err = p, nil
		}
	}
	if err != nil {
		t.Fatal("nats-server is not installed: the forwarding tests run a real one with JetStream. " +
			"Install Debian's package (bash .ci/install-nats, or apt-get install nats-server) or put a nats-server binary on PATH")
	}
	s := &NATSServer{t: t, binary: binary, dir: t.TempDir()}
	s.Start()
	t.Cleanup(s.Stop)
	return s
}

// URL is the server's client URL.
func (s *NATSServer) URL() string { return "nats://127.0.0.1:" + strconv.Itoa(s.port) }

// Start runs the server (again, after Stop, on the same port and streams) and returns
// once it accepts clients.
func (s *NATSServer) Start() {
	s.t.Helper()
	if s.port == 0 {
		s.port = freePort(s.t)
	}
	log, err := os.Create(filepath.Join(s.dir, fmt.Sprintf("nats-%d.log", time.Now().UnixNano())))
	if err != nil {
		s.t.Fatal(err)
	}
	defer log.Close()
	s.cmd = osexec.Command(s.binary, "-a", "127.0.0.1", "-p", strconv.Itoa(s.port), "-js", "-sd", filepath.Join(s.dir, "jetstream"))
	s.cmd.Stdout, s.cmd.Stderr = log, log
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("start nats-server: %v", err)
	}
	s.exited = make(chan struct{})
	go func(cmd *osexec.Cmd, exited chan struct{}) {
		_ = cmd.Wait()
		close(exited)
	}(s.cmd, s.exited)
	deadline := time.Now().Add(waitLimit)
	for !s.answers() {
		select {
		case <-s.exited:
			out, _ := os.ReadFile(log.Name())
			s.t.Fatalf("nats-server exited at start:\n%s", out)
		default:
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("nats-server does not answer on port %d", s.port)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// answers reports whether the server greets a client with its INFO line.
func (s *NATSServer) answers() bool {
	conn, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(s.port), time.Second)
	if err != nil {
		return false
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(time.Second))
	line, err := bufio.NewReader(conn).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "INFO ")
}

// Stop ends the server and waits until it has exited; a second Stop does nothing.
func (s *NATSServer) Stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.exited:
	case <-time.After(waitLimit):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
	s.cmd = nil
}

// freePort is a loopback port nobody listens on right now.
func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

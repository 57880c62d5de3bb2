package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	nethttp "net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/supermock/engine/internal/testdb"
)

// served is one `serve` running in this process until stop.
type served struct {
	base              string
	port, metricsPort int
	logs              *lockedBuffer
	stop              func()
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startServe starts the binary's serve command on a free port and waits until it answers
// on host.
func startServe(t *testing.T, vars map[string]string, host string) *served {
	t.Helper()
	vars = maps.Clone(vars)
	port, metricsPort := freePort(t), freePort(t)
	vars["PORT"], vars["METRICS_PORT"] = strconv.Itoa(port), strconv.Itoa(metricsPort)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	logs := &lockedBuffer{}
	go func() { done <- run(ctx, []string{"serve"}, env(vars), logs, io.Discard) }()
	s := &served{base: fmt.Sprintf("http://%s:%d", host, port), port: port, metricsPort: metricsPort, logs: logs}
	var once sync.Once
	s.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("serve: %v", err)
			}
		})
	}
	t.Cleanup(s.stop)
	testdb.Eventually(t, 30*time.Second, func() bool {
		select {
		case err := <-done:
			t.Fatalf("serve ended: %v\n%s", err, logs)
		default:
		}
		resp, err := nethttp.Get(s.base + "/api/health")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return true
	})
	return s
}

func (s *served) post(t *testing.T, path, token string, body any) (int, []byte) {
	t.Helper()
	raw, _ := json.Marshal(body)
	req, _ := nethttp.NewRequest("POST", s.base+path, bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	return s.do(t, req, token)
}

func (s *served) get(t *testing.T, path, token string) (int, []byte) {
	t.Helper()
	req, _ := nethttp.NewRequest("GET", s.base+path, nil)
	return s.do(t, req, token)
}

func (s *served) do(t *testing.T, req *nethttp.Request, token string) (int, []byte) {
	t.Helper()
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := nethttp.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// A development engine without JWT_SECRET keeps its secret in the checkout's .data:
// a restart logs nobody out.
func TestDevelopmentSessionsSurviveARestart(t *testing.T) {
	t.Parallel()
	vars := map[string]string{"DATABASE_URL": testdb.NewDatabase(t)}
	first := startServe(t, vars, "127.0.0.1")
	status, body := first.post(t, "/api/auth/dev", "", map[string]any{"telegram_id": 4701, "username": "dev"})
	var login struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(body, &login); err != nil || status != 201 || login.Token == "" {
		t.Fatalf("dev login: %d %s", status, body)
	}
	first.stop()
	if strings.Contains(first.logs.String(), login.Token) {
		t.Fatal("the token is in the log")
	}
	second := startServe(t, vars, "127.0.0.1")
	if status, body := second.get(t, "/api/queue", login.Token); status != 200 {
		t.Fatalf("the session after a restart: %d %s", status, body)
	}
}

// otherAddress is an address of this machine that is not loopback.
func otherAddress(t *testing.T) string {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if ipnet, ok := a.(*net.IPNet); ok && !ipnet.IP.IsLoopback() && ipnet.IP.To4() != nil {
			return ipnet.IP.String()
		}
	}
	t.Skip("this machine has no address but loopback: nothing to tell the bindings apart by")
	return ""
}

func reachable(host string, port int) bool {
	conn, err := net.DialTimeout("tcp", net.JoinHostPort(host, strconv.Itoa(port)), 5*time.Second)
	if err == nil {
		conn.Close()
	}
	return err == nil
}

// Development (the default) answers on loopback only and says so; HOST opens it up;
// production listens on every interface. Metrics are on their own port, never the API's.
func TestDevelopmentListensOnLoopbackOnly(t *testing.T) {
	t.Parallel()
	other := otherAddress(t)
	db := testdb.NewDatabase(t)
	dev := startServe(t, map[string]string{"DATABASE_URL": db}, "127.0.0.1")
	if !strings.Contains(dev.logs.String(), "listening on loopback only") {
		t.Errorf("a development start does not say it is loopback-only:\n%s", dev.logs)
	}
	if reachable(other, dev.port) || reachable(other, dev.metricsPort) {
		t.Errorf("a development engine answers on %s", other)
	}
	if status, _ := dev.get(t, "/metrics", ""); status != 404 {
		t.Errorf("/metrics on the API's port: %d", status)
	}
	metrics := &served{base: fmt.Sprintf("http://127.0.0.1:%d", dev.metricsPort)}
	if status, body := metrics.get(t, "/metrics", ""); status != 200 || !strings.Contains(string(body), "supermock_http_requests_total") {
		t.Errorf("/metrics on METRICS_PORT: %d %.200s", status, body)
	}

	opened := startServe(t, map[string]string{"DATABASE_URL": db, "HOST": "0.0.0.0"}, other)
	if strings.Contains(opened.logs.String(), "listening on loopback only") {
		t.Errorf("HOST=0.0.0.0 still says loopback only")
	}
	prod := startServe(t, map[string]string{"DATABASE_URL": db, "APP_ENV": "production",
		"JWT_SECRET": strings.Repeat("p", 32), "DATA_KEY": strings.Repeat("0f", 32)}, other)
	if !reachable(other, prod.metricsPort) || !reachable("127.0.0.1", prod.port) {
		t.Errorf("production does not listen on every interface")
	}
}

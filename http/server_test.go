package http_test

import (
	"context"
	"log/slog"
	"net"
	nethttp "net/http"
	"testing"
	"time"

	api "github.com/supermock/engine/http"
	"github.com/supermock/engine/internal/testdb"
)

// Shutdown drains: a request in flight when the context ends gets its answer, and no
// new connection is accepted after.
func TestServeDrainsRequestsInFlight(t *testing.T) {
	t.Parallel()
	app, err := api.New(api.Deps{Pool: testdb.New(t), Logger: slog.New(slog.DiscardHandler), Config: testConfig()})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- api.Serve(ctx, app, addr) }()
	base := "http://" + addr
	e := &env{t: t, base: base}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if _, err := nethttp.Get(base + "/api/health"); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	l := e.loginDev(12001)

	// No projection runs, so this read waits its full 3 s for the login to be projected.
	answered := make(chan response, 1)
	go func() {
		answered <- e.call("GET", "/api/queue", l.Token, nil)
	}()
	time.Sleep(500 * time.Millisecond)
	cancel()
	select {
	case r := <-answered:
		if r.status != 200 || r.header.Get("X-Projection-Lag") != "true" {
			t.Fatalf("the request in flight got %s", r)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the request in flight was not answered")
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if _, err := nethttp.Get(base + "/api/health"); err == nil {
		t.Fatal("a connection was accepted after shutdown")
	}
}

package http_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	nethttp "net/http"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	api "github.com/supermock/engine/http"
	"github.com/supermock/engine/internal/pglocal"
)

type healthBody struct {
	Status    string            `json:"status"`
	Timestamp time.Time         `json:"timestamp"`
	Database  string            `json:"database"`
	Services  map[string]string `json:"services"`
}

// The database goes away under a running server and comes back: health says so each
// time, with no restart of the server.
func TestHealthFollowsTheDatabaseDownAndUp(t *testing.T) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "supermock-health-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	pg, err := pglocal.Start(ctx, dir, pglocal.Options{Ephemeral: true})
	if err != nil {
		t.Fatalf("PostgreSQL is needed for this test: %v", err)
	}
	t.Cleanup(func() { _ = pg.Stop() })
	pool, err := pgxpool.New(ctx, pg.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)

	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	app := api.New(api.Deps{Pool: pool, Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return now }})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = app.Listener(ln) }()
	t.Cleanup(func() { _ = app.Shutdown() })
	url := fmt.Sprintf("http://%s/api/health", ln.Addr())

	get := func() (int, healthBody) {
		t.Helper()
		resp, err := nethttp.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		var body healthBody
		if err := json.Unmarshal(raw, &body); err != nil {
			t.Fatalf("health body %s: %v", raw, err)
		}
		return resp.StatusCode, body
	}

	code, body := get()
	want := healthBody{Status: "ok", Timestamp: now, Database: "connected",
		Services: map[string]string{"eventstore": "ok", "projections": "ok", "telegram": "disabled"}}
	if code != 200 || fmt.Sprint(body) != fmt.Sprint(want) {
		t.Fatalf("healthy: %d %+v, want 200 %+v", code, body, want)
	}

	if err := pg.Stop(); err != nil {
		t.Fatal(err)
	}
	code, body = get()
	if code != 503 || body.Status != "error" || body.Database != "disconnected" || body.Services["eventstore"] != "error" {
		t.Fatalf("database down: %d %+v, want 503 with status error", code, body)
	}

	if pg, err = pglocal.Start(ctx, dir, pglocal.Options{Ephemeral: true, Port: pg.Port()}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for code != 200 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		code, body = get()
	}
	if code != 200 || body.Status != "ok" {
		t.Fatalf("database back: %d %+v, want 200 ok", code, body)
	}
}

package http_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/supermock/engine/internal/config"
)

type healthBody struct {
	Status    string            `json:"status"`
	Timestamp time.Time         `json:"timestamp"`
	Database  string            `json:"database"`
	Services  map[string]string `json:"services"`
}

func (e *env) health() (int, healthBody) {
	e.t.Helper()
	r := e.call("GET", "/api/health", "", nil)
	var body healthBody
	if err := json.Unmarshal(r.body, &body); err != nil {
		e.t.Fatalf("health body %s: %v", r.body, err)
	}
	return r.status, body
}

// PostgreSQL stops and starts under a running server: health says so each time, with
// no restart of the server, and no command is acknowledged without being stored.
func TestDatabaseDownAndUp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pg := startPrivate(t)
	e := start(t, options{poolFromURL: pg.URL(), config: func(c *config.Config) { c.TelegramToken = "" }})
	code, body := e.health()
	want := healthBody{Status: "ok", Database: "connected", Timestamp: body.Timestamp,
		Services: map[string]string{"eventstore": "ok", "projections": "ok", "telegram": "disabled"}}
	if code != 200 || fmt.Sprint(body) != fmt.Sprint(want) || time.Since(body.Timestamp) > time.Minute {
		t.Fatalf("healthy: %d %+v, want 200 %+v", code, body, want)
	}
	l := e.loginDev(11001)
	acknowledged := map[string]bool{}
	join := func(day int) response {
		r := e.call("POST", "/api/queue", l.Token, window("candidate", "qa-engineer", time.Now().Add(time.Duration(24*day)*time.Hour), 2*time.Hour))
		if r.status == 201 || r.status == 202 {
			var j struct {
				ID string `json:"id"`
			}
			r.json(t, &j)
			acknowledged[j.ID] = true
		}
		return r
	}
	wantDone(t, join(1))

	pg.Stop()
	code, body = e.health()
	if code != 503 || body.Status != "error" || body.Database != "disconnected" || body.Services["eventstore"] != "error" {
		t.Fatalf("database down: %d %+v, want 503 with status error", code, body)
	}
	for day := 2; day < 5; day++ {
		wantError(t, join(day), 503, "database-unavailable")
	}
	wantError(t, e.call("PUT", "/api/me/professions", l.Token, map[string]any{"professions": []string{"qa-engineer"}}),
		503, "database-unavailable")

	pg.Start()
	deadline := time.Now().Add(2 * time.Minute)
	for code != 200 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		code, body = e.health()
	}
	if code != 200 || body.Status != "ok" {
		t.Fatalf("database back: %d %+v, want 200 ok", code, body)
	}
	// Connections broken by the restart may refuse a command or two; none is acknowledged
	// without being stored.
	for day := 5; len(acknowledged) < 2 && time.Now().Before(deadline); day++ {
		if r := join(day); r.status != 201 && r.status != 202 && r.status < 500 {
			t.Fatalf("a join after the restart: %s", r)
		}
	}
	if len(acknowledged) < 2 {
		t.Fatal("no command succeeded after the database came back")
	}
	rows, err := e.pool.Query(ctx, `SELECT payload->>'entry_id' FROM watermill_events WHERE event_type = 'QueueJoined'`)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]bool{}
	for rows.Next() {
		var id string
		_ = rows.Scan(&id)
		stored[id] = true
	}
	if fmt.Sprint(stored) != fmt.Sprint(acknowledged) {
		t.Fatalf("acknowledged %v, stored %v", acknowledged, stored)
	}
}

// A projection stalled on an event shows in health while the API keeps serving.
func TestHealthShowsAStalledProjection(t *testing.T) {
	t.Parallel()
	e := start(t, options{})
	if code, body := e.health(); code != 200 || body.Services["projections"] != "ok" || body.Services["telegram"] != "ok" {
		t.Fatalf("healthy: %d %+v", code, body)
	}
	if _, err := e.pool.Exec(context.Background(), `INSERT INTO projection_checkpoints (name, last_error, last_error_at, error_position)
		VALUES ('users', 'boom', now(), '1-1')`); err != nil {
		t.Fatal(err)
	}
	if code, body := e.health(); code != 200 || body.Status != "ok" || body.Services["projections"] != "error" {
		t.Fatalf("stalled projection: %d %+v", code, body)
	}
}

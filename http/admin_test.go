package http_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
)

func TestAdminRebuild(t *testing.T) {
	t.Parallel()
	e := start(t, options{consumers: true})
	admin, user := e.loginDev(adminTG), e.loginDev(9101)
	pos := e.command("PUT", "/api/me", user.Token, map[string]any{"first_name": "Renamed"})
	var before me
	e.get("/api/me", user.Token, pos, &before)

	wantError(t, e.call("POST", "/api/admin/projections/users/rebuild", user.Token, nil), 403, "forbidden")
	wantError(t, e.call("POST", "/api/admin/projections/nothing/rebuild", admin.Token, nil), 404, "projection-not-found")

	// A rebuild held by another process is refused, not queued.
	ctx := context.Background()
	conn, err := e.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(hashtextextended('projection-rebuild:users', 0))`); err != nil {
		t.Fatal(err)
	}
	wantError(t, e.call("POST", "/api/admin/projections/users/rebuild", admin.Token, nil), 409, "rebuild-running")
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_unlock_all()`); err != nil {
		t.Fatal(err)
	}
	conn.Release()

	r := e.call("POST", "/api/admin/projections/users/rebuild", admin.Token, nil)
	if r.status != 202 && r.status != 200 {
		t.Fatalf("rebuild: %s", r)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var rebuilt bool
		err := e.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM projection_checkpoints WHERE name = 'users' AND rebuilt_at IS NOT NULL)
			AND NOT EXISTS (SELECT 1 FROM projection_rebuilds)`).Scan(&rebuilt)
		if err != nil {
			t.Fatal(err)
		}
		var after me
		e.get("/api/me", user.Token, "", &after) // reads go on during the rebuild
		if after.ID != before.ID {
			t.Fatalf("during the rebuild: %+v, before %+v", after, before)
		}
		if rebuilt {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the rebuild did not finish")
		}
		time.Sleep(20 * time.Millisecond)
	}
	var name string
	if err := e.pool.QueryRow(ctx, `SELECT first_name FROM users WHERE user_id = $1`, user.User.ID).Scan(&name); err != nil || name != "Renamed" {
		t.Fatalf("rebuilt users row: %q %v", name, err)
	}
}

func TestAdminProjectionStatus(t *testing.T) {
	t.Parallel()
	e := start(t, options{consumers: true})
	admin, user := e.loginDev(adminTG), e.loginDev(9201)
	e.command("PUT", "/api/me/professions", user.Token, map[string]any{"professions": []string{"qa-engineer"}})
	wantError(t, e.call("GET", "/api/admin/projections", user.Token, nil), 403, "forbidden")
	type status struct {
		Name          string `json:"name"`
		LagEvents     int64  `json:"lag_events"`
		EventsApplied int64  `json:"events_applied"`
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var got struct {
			Projections []status `json:"projections"`
		}
		r := e.call("GET", "/api/admin/projections", admin.Token, nil)
		wantStatus(t, r, 200)
		r.json(t, &got)
		lagging := 0
		applied := map[string]int64{}
		for _, p := range got.Projections {
			lagging += int(p.LagEvents)
			applied[p.Name] = p.EventsApplied
		}
		if len(got.Projections) == 8 && lagging == 0 && applied["users"] == 2 && applied["selected_professions"] == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("projection status: %s", r)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestAdminReplay(t *testing.T) {
	t.Parallel()
	e := start(t, options{})
	admin, user := e.loginDev(adminTG), e.loginDev(9301)
	e.command("PUT", "/api/me/professions", user.Token, map[string]any{"professions": []string{"qa-engineer"}})
	e.command("POST", "/api/queue", user.Token, window("candidate", "qa-engineer", time.Now().Add(24*time.Hour), 2*time.Hour))
	// A replay reads up to what readers may see: wait for the commands' events.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	e.waitVisible(ctx)
	lines := func(path string) []map[string]any {
		t.Helper()
		r := e.call("GET", path, admin.Token, nil)
		if r.status != 200 || r.header.Get("Content-Type") != "application/x-ndjson" {
			t.Fatalf("GET %s: %s %v", path, r, r.header)
		}
		var out []map[string]any
		for _, line := range strings.Split(strings.TrimSpace(string(r.body)), "\n") {
			if line == "" {
				continue
			}
			var ev map[string]any
			if err := json.Unmarshal([]byte(line), &ev); err != nil {
				t.Fatalf("line %q: %v", line, err)
			}
			out = append(out, ev)
		}
		return out
	}
	all := lines("/api/admin/events")
	if len(all) != e.events() || all[0]["event_type"] != "TelegramIDClaimed" {
		t.Fatalf("replay of %d events: %v", e.events(), all)
	}
	first := e.call("GET", "/api/admin/events", admin.Token, nil)
	if again := e.call("GET", "/api/admin/events", admin.Token, nil); string(again.body) != string(first.body) {
		t.Fatal("two replays of the same log differ")
	}
	if got := lines("/api/admin/events?type=UserRegistered"); len(got) != 2 {
		t.Fatalf("UserRegistered: %v", got)
	}
	if got := lines("/api/admin/events?stream=user-" + user.User.ID + "&type=QueueJoined,ProfessionsSelected"); len(got) != 2 {
		t.Fatalf("the user's stream: %v", got)
	}
	for i, ev := range all {
		if ev["sequence"] != float64(i+1) || ev["recorded_at"] == nil || ev["occurred_at"] == nil {
			t.Fatalf("event %d: %v", i+1, ev)
		}
	}
	if got := lines("/api/admin/events?after=" + all[1]["position"].(string)); len(got) != len(all)-2 || got[0]["position"] != all[2]["position"] ||
		got[0]["sequence"] != float64(3) {
		t.Fatalf("after the second event: %v", got)
	}
	if got := lines("/api/admin/events?since=" + time.Now().Add(time.Hour).UTC().Format(time.RFC3339)); len(got) != 0 {
		t.Fatalf("events from the future: %v", got)
	}
	wantError(t, e.call("GET", "/api/admin/events?after=x", admin.Token, nil), 400, "bad-cursor")
	today := time.Now().UTC().Format("2006-01-02")
	if got := lines("/api/admin/events?since=" + today); len(got) != len(all) {
		t.Fatalf("since %s, a date: %d events of %d", today, len(got), len(all))
	}
	for query, code := range map[string]string{"since=yesterday": "invalid-request", "type=QueueJoined,Foo": "unknown-event-type",
		"until=2025-02-30": "invalid-request"} {
		r := e.call("GET", "/api/admin/events?"+query, admin.Token, nil)
		wantError(t, r, 400, code)
		if _, value, _ := strings.Cut(query, "="); !strings.Contains(string(r.body), strings.TrimPrefix(value, "QueueJoined,")) {
			t.Errorf("%s: the error does not name the value: %s", query, r.body)
		}
	}
	if r := e.call("GET", "/api/admin/events?type=Foo", admin.Token, nil); !strings.Contains(string(r.body), "QueueJoined") {
		t.Errorf("an unknown type's error does not list the known ones: %s", r.body)
	}
	wantError(t, e.call("GET", "/api/admin/events?format=xml", admin.Token, nil), 400, "invalid-request")
	wantError(t, e.call("GET", "/api/admin/events", user.Token, nil), 403, "forbidden")
	// Parquet: a zip of one file per event type, holding every event.
	zipped := e.call("GET", "/api/admin/events?format=parquet", admin.Token, nil)
	if zipped.status != 200 || zipped.header.Get("Content-Type") != "application/zip" {
		t.Fatalf("parquet: %d %v", zipped.status, zipped.header)
	}
	archive, err := zip.NewReader(bytes.NewReader(zipped.body), int64(len(zipped.body)))
	if err != nil {
		t.Fatal(err)
	}
	var rows int64
	names := map[string]bool{}
	for _, entry := range archive.File {
		r, err := entry.Open()
		if err != nil {
			t.Fatal(err)
		}
		raw, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		file, err := parquet.OpenFile(bytes.NewReader(raw), int64(len(raw)))
		if err != nil {
			t.Fatalf("%s: %v", entry.Name, err)
		}
		rows += file.NumRows()
		names[entry.Name] = true
	}
	if rows != int64(len(all)) || !names["UserRegistered.parquet"] || !names["QueueJoined.parquet"] {
		t.Fatalf("the zip holds %d rows in %v, the log %d events", rows, names, len(all))
	}
	csv := e.call("GET", "/api/admin/events?format=csv", admin.Token, nil)
	if csv.status != 200 || !strings.HasPrefix(string(csv.body), "position,sequence,event_id,") || strings.Count(string(csv.body), "\n") != len(all)+1 {
		t.Fatalf("csv: %s", csv)
	}
}

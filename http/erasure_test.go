package http_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/supermock/engine/internal/testdb"
	"github.com/supermock/engine/projections"
)

// zelda's personal data: every value she gave, each unlike anything else in a history.
var zeldaSecrets = []string{"zeldaunique", "Zeldafirst", "Zeldalast", "zelda@mail.example", "+4915112345678",
	"zeldatool", "zeldacomment", "zeldareason"}

// history gives zelda a full one with paul: a completed interview with feedback both
// ways, a cancelled one with her reason, her form, her profile and notifications; olga
// only fills her form. It returns zelda's and paul's logins and the completed interview.
func (e *env) erasureHistory(clock *testdb.Clock) (zelda, paul, olga login, done string) {
	e.t.Helper()
	zelda, paul, olga = e.loginWidget(7101, "zeldaunique"), e.loginWidget(7102, "paulpartner"), e.loginWidget(7103, "olgaother")
	e.command("PUT", "/api/me", zelda.Token, map[string]any{"first_name": "Zeldafirst", "last_name": "Zeldalast"})
	e.command("PUT", "/api/me/form", zelda.Token, map[string]any{"profession": "backend-developer", "country": "DE",
		"experience": "3-5", "language": "en", "email": "zelda@mail.example", "phone": "+4915112345678", "tools": []string{"zeldatool"}})
	e.command("PUT", "/api/me/form", olga.Token, map[string]any{"profession": "backend-developer", "country": "FR",
		"experience": "1-3", "language": "en", "email": "olga@mail.example"})

	now := clock.Now()
	e.command("POST", "/api/queue", zelda.Token, window("candidate", "backend-developer", now, 3*time.Hour))
	e.command("POST", "/api/queue", paul.Token, window("interviewer", "backend-developer", now, 3*time.Hour))
	done = e.interviewOf(zelda.Token)
	e.inboxOf(zelda.Token, 1) // before the clock moves past the time to tell them
	var iv interview
	e.get("/api/interviews/"+done, zelda.Token, "", &iv)
	e.command("POST", "/api/interviews/"+done+"/start", zelda.Token, nil)
	clock.Set(iv.ScheduledAt.Add(45 * time.Minute))
	e.command("POST", "/api/interviews/"+done+"/complete", paul.Token, nil)
	e.command("POST", "/api/interviews/"+done+"/feedback", zelda.Token, map[string]any{"rating": 5, "comment": "zeldacomment on paul"})
	e.command("POST", "/api/interviews/"+done+"/feedback", paul.Token, map[string]any{"rating": 4, "comment": "paul on her"})

	later := clock.Now().Add(24 * time.Hour)
	e.command("POST", "/api/queue", zelda.Token, window("interviewer", "backend-developer", later, 3*time.Hour))
	e.command("POST", "/api/queue", paul.Token, window("candidate", "backend-developer", later, 3*time.Hour))
	var cancelled string
	testdb.Eventually(e.t, 2*time.Minute, func() bool {
		var list struct {
			Interviews []interview `json:"interviews"`
		}
		e.get("/api/interviews", zelda.Token, "", &list)
		for _, i := range list.Interviews {
			if i.Status == "scheduled" {
				cancelled = i.ID
			}
		}
		return cancelled != ""
	})
	e.command("POST", "/api/interviews/"+cancelled+"/cancel", zelda.Token, map[string]any{"reason": "zeldareason cancel"})
	return zelda, paul, olga, done
}

// plaintextIn lists every column of every table in the database whose text (text,
// varchar, JSON, bytes) holds one of the needles.
func plaintextIn(t *testing.T, pool *pgxpool.Pool, needles []string) []string {
	t.Helper()
	ctx := context.Background()
	rows, err := pool.Query(ctx, `SELECT table_name, column_name, data_type FROM information_schema.columns
		WHERE table_schema = 'public' AND data_type IN ('text', 'character varying', 'json', 'jsonb', 'bytea', 'ARRAY')`)
	if err != nil {
		t.Fatal(err)
	}
	type column struct{ table, name, typ string }
	var cols []column
	for rows.Next() {
		var c column
		if err := rows.Scan(&c.table, &c.name, &c.typ); err != nil {
			t.Fatal(err)
		}
		cols = append(cols, c)
	}
	if rows.Err() != nil || len(cols) < 20 {
		t.Fatalf("columns to scan: %d (%v)", len(cols), rows.Err())
	}
	var found []string
	for _, c := range cols {
		text := pgx.Identifier{c.name}.Sanitize() + "::text"
		if c.typ == "bytea" {
			text = "encode(" + pgx.Identifier{c.name}.Sanitize() + ", 'escape')"
		}
		for _, n := range needles {
			var hit bool
			if err := pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM `+pgx.Identifier{c.table}.Sanitize()+
				` WHERE strpos(`+text+`, $1) > 0)`, n).Scan(&hit); err != nil {
				t.Fatalf("scan %s.%s: %v", c.table, c.name, err)
			}
			if hit {
				found = append(found, fmt.Sprintf("%s.%s holds %q", c.table, c.name, n))
			}
		}
	}
	return found
}

// readTables is every row of the read tables an erasure changes, as JSON.
func readTables(t *testing.T, pool *pgxpool.Pool) string {
	t.Helper()
	var b strings.Builder
	for _, table := range []string{"users", "user_form_data", "interviews", "feedback", "notifications"} {
		var rows string
		if err := pool.QueryRow(context.Background(), `SELECT coalesce(string_agg(to_jsonb(t)::text, E'\n' ORDER BY to_jsonb(t)::text), '')
			FROM `+table+` t`).Scan(&rows); err != nil {
			t.Fatal(err)
		}
		b.WriteString(table + ":\n" + rows + "\n")
	}
	return b.String()
}

func TestErasureLeavesNoPlaintextAndKeepsTheHistory(t *testing.T) {
	t.Parallel()
	clock := testdb.NewClock(time.Now())
	e := start(t, options{consumers: true, notifier: true, clock: clock})
	zelda, paul, olga, done := e.erasureHistory(clock)
	admin := e.loginWidget(adminTG, "admin")
	if found := plaintextIn(t, e.pool, zeldaSecrets[:1]); len(found) == 0 {
		t.Fatal("the scan finds not even the username in the read tables before the erasure")
	}
	var events int
	if err := e.pool.QueryRow(context.Background(), `SELECT count(*) FROM watermill_events`).Scan(&events); err != nil {
		t.Fatal(err)
	}

	// Her export holds every value she gave, and nothing of paul's.
	r := e.call("GET", "/api/me/export", zelda.Token, nil)
	wantStatus(t, r, 200)
	var export struct {
		Streams []struct {
			StreamID string `json:"stream_id"`
		} `json:"streams"`
		Tables map[string][]map[string]any `json:"tables"`
	}
	r.json(t, &export)
	for _, s := range zeldaSecrets {
		if !strings.Contains(string(r.body), s) {
			t.Errorf("her export lacks %q", s)
		}
	}
	for _, s := range []string{"paul on her", "paulpartner", "olga"} {
		if strings.Contains(string(r.body), s) {
			t.Errorf("her export holds another's %q", s)
		}
	}
	if len(export.Streams) != 4 || len(export.Tables["feedback"]) != 2 || len(export.Tables["interviews"]) != 2 ||
		len(export.Tables["users"]) != 1 || len(export.Tables["notifications"]) == 0 {
		t.Fatalf("her export: %d streams, tables %v", len(export.Streams), export.Tables)
	}

	wantError(t, e.call("DELETE", "/api/me", zelda.Token, map[string]any{}), 400, "erasure-not-confirmed")
	wantError(t, e.call("DELETE", "/api/me", zelda.Token, map[string]any{"confirm": "yes"}), 400, "erasure-not-confirmed")
	r = e.call("DELETE", "/api/me", zelda.Token, map[string]any{"confirm": "erase my data"})
	wantStatus(t, r, 200)
	erased := r.header.Get("X-Event-Position")

	// Her sessions end and she cannot come back; her partner still reads their interview.
	wantError(t, e.call("GET", "/api/me", zelda.Token, nil), 401, "session-ended")
	wantError(t, e.call("POST", "/api/auth/telegram", "", widgetFields(7101, "zeldaunique", time.Now())), 403, "user-erased")
	var iv struct {
		interview
		Partner struct {
			Username  string `json:"username"`
			FirstName string `json:"first_name"`
		} `json:"partner"`
		Feedback []struct {
			FromUserID string `json:"from_user_id"`
			Comment    string `json:"comment"`
		} `json:"feedback"`
	}
	e.get("/api/interviews/"+done, paul.Token, erased, &iv)
	if iv.Status != "completed" || iv.Partner.FirstName != "deleted user" || iv.Partner.Username != "" || len(iv.Feedback) != 2 {
		t.Fatalf("paul's interview with zelda after her erasure: %+v", iv)
	}
	for _, f := range iv.Feedback {
		if (f.FromUserID == paul.User.ID) != (f.Comment == "paul on her") {
			t.Fatalf("feedback after the erasure: %+v, want paul's comment kept and zelda's gone", iv.Feedback)
		}
	}
	var o struct {
		Form struct {
			Email string `json:"email"`
		} `json:"form"`
	}
	e.get("/api/me", olga.Token, erased, &o)
	if o.Form.Email != "olga@mail.example" {
		t.Fatalf("olga's profile after zelda's erasure: %+v", o)
	}
	// Every consumer has applied the erasure once the notifier and the projections
	// passed it; then no column of any table holds her data in clear.
	testdb.Eventually(t, 2*time.Minute, func() bool { return len(plaintextIn(t, e.pool, zeldaSecrets)) == 0 })
	for _, theirs := range []string{"olga@mail.example", "paul on her", "paulpartner"} {
		if len(plaintextIn(t, e.pool, []string{theirs})) == 0 {
			t.Fatalf("the others' data lost %q", theirs)
		}
	}

	// Replays and rebuilds succeed and show her data as erased; the history keeps its shape.
	for _, format := range []string{"ndjson", "csv"} {
		r := e.call("GET", "/api/admin/events?format="+format, admin.Token, nil)
		wantStatus(t, r, 200)
		for _, s := range zeldaSecrets {
			if strings.Contains(string(r.body), s) {
				t.Fatalf("the %s replay holds %q", format, s)
			}
		}
		if !strings.Contains(string(r.body), "PersonalDataErased") {
			t.Fatalf("the %s replay lacks the erasure", format)
		}
	}
	live := readTables(t, e.pool)
	if err := projections.Rebuild(context.Background(), e.pool, e.store.Log(), projections.All(), projections.RebuildConfig{}); err != nil {
		t.Fatal(err)
	}
	if rebuilt := readTables(t, e.pool); rebuilt != live {
		t.Fatalf("rebuilt read tables differ from the live ones:\nlive\n%s\nrebuilt\n%s", live, rebuilt)
	}
	if found := plaintextIn(t, e.pool, zeldaSecrets); len(found) > 0 {
		t.Fatalf("after a rebuild: %v", found)
	}
	var after int
	if err := e.pool.QueryRow(context.Background(), `SELECT count(*) FROM watermill_events`).Scan(&after); err != nil {
		t.Fatal(err)
	}
	if after <= events {
		t.Fatalf("%d events after the erasure, %d before: every event stays and the erasure is one more", after, events)
	}
	// An admin erases on request too, and an erased account stays erased.
	wantStatus(t, e.call("POST", "/api/admin/users/"+paul.User.ID+"/erase", admin.Token, nil), 200)
	wantStatus(t, e.call("POST", "/api/admin/users/"+zelda.User.ID+"/erase", admin.Token, nil), 200)
	wantError(t, e.call("POST", "/api/admin/users/"+paul.User.ID+"/erase", zelda.Token, nil), 401, "session-ended")
	wantError(t, e.call("POST", "/api/admin/users/"+olga.User.ID+"/erase", olga.Token, nil), 403, "forbidden")
}

// caughtUp waits until every projection has applied the log up to its head as it is now.
func (e *env) caughtUp() {
	e.t.Helper()
	ctx := context.Background()
	head, err := e.store.Log().LastCommitted(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	testdb.Eventually(e.t, 5*time.Minute, func() bool {
		for _, p := range projections.All() {
			pos, err := e.store.Log().GroupPosition(ctx, projections.Group(p.Name()))
			if err != nil {
				e.t.Fatal(err)
			}
			if pos.Less(head) {
				return false
			}
		}
		return true
	})
}

// Commands of the user race their erasure: whatever each of them got, nothing they
// wrote is left in clear anywhere once the read tables have applied the whole log.
func TestErasureRacingTheUsersCommandsLeavesNoPlaintext(t *testing.T) {
	t.Parallel()
	e := start(t, options{consumers: true})
	racer := e.loginWidget(7201, "racer")
	const writers = 40
	statuses := make(chan int, 3*writers+1)
	ready := make(chan struct{})
	var wg sync.WaitGroup
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-ready
			statuses <- e.call("PUT", "/api/me", racer.Token, map[string]any{"first_name": fmt.Sprintf("racename%02d", i)}).status
			statuses <- e.call("PUT", "/api/me/form", racer.Token, map[string]any{"profession": "backend-developer", "country": "DE",
				"experience": "3-5", "language": "en", "email": fmt.Sprintf("racemail%02d@x.example", i)}).status
			start := time.Now().Add(time.Duration(i) * 2 * time.Hour)
			statuses <- e.call("POST", "/api/queue", racer.Token, window("candidate", "backend-developer", start, time.Hour)).status
		}()
	}
	var erased response
	wg.Add(1)
	go func() {
		defer wg.Done()
		<-ready
		erased = e.call("DELETE", "/api/me", racer.Token, map[string]any{"confirm": "erase my data"})
	}()
	close(ready)
	wg.Wait()
	close(statuses)
	wantStatus(t, erased, 200)
	for s := range statuses {
		if s >= 500 {
			t.Fatalf("a racing command answered %d", s)
		}
	}
	wantError(t, e.call("GET", "/api/me", racer.Token, nil), 401, "session-ended")
	e.caughtUp()
	if found := plaintextIn(t, e.pool, []string{"racename", "racemail", "User racer"}); len(found) > 0 {
		t.Fatalf("after the race: %v", found)
	}
	var waiting int
	if err := e.pool.QueryRow(context.Background(), `SELECT count(*) FROM interview_queue q JOIN users u USING (user_id)
		WHERE u.username = '' AND q.status = 'waiting'`).Scan(&waiting); err != nil || waiting != 0 {
		t.Fatalf("%d waiting entries of the erased user (%v)", waiting, err)
	}
}

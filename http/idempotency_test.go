package http_test

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/supermock/engine/internal/testdb"
)

// holdAppends keeps every append of the test's database waiting until release is
// called: a command started meanwhile is in flight, holding its key, for as long as the
// test needs. It returns the process id of the first backend that waits.
func holdAppends(t *testing.T, e *env) (waiting func() int32, release func()) {
	t.Helper()
	ctx := context.Background()
	tx, err := e.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `LOCK TABLE watermill_events IN EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release = func() { once.Do(func() { _ = tx.Rollback(ctx) }) }
	t.Cleanup(release)
	waiting = func() int32 {
		var pid int32
		testdb.Eventually(t, time.Minute, func() bool {
			err := e.pool.QueryRow(ctx, `SELECT pid FROM pg_stat_activity
				WHERE datname = current_database() AND wait_event_type = 'Lock' LIMIT 1`).Scan(&pid)
			return err == nil
		})
		return pid
	}
	return waiting, release
}

// joined counts the QueueJoined events in the log.
func (e *env) joined() int {
	e.t.Helper()
	n, err := e.store.Log().CountEvents(context.Background(), "QueueJoined")
	if err != nil {
		e.t.Fatal(err)
	}
	return int(n)
}

// A retry while the first request is in flight is 409 and runs nothing; once the first
// has answered, every retry gets that answer.
func TestAKeyInFlightIsInUseUntilItsCommandAnswers(t *testing.T) {
	t.Parallel()
	e := start(t, options{})
	l := e.loginDev(4101)
	body := window("candidate", "qa-engineer", time.Now().Add(24*time.Hour), 2*time.Hour)
	waiting, release := holdAppends(t, e)
	first := make(chan response, 1)
	go func() { first <- e.call("POST", "/api/queue", l.Token, body, "Idempotency-Key", "flight") }()
	waiting()
	wantError(t, e.call("POST", "/api/queue", l.Token, body, "Idempotency-Key", "flight"), 409, "idempotency-key-in-use")
	release()
	answer := <-first
	wantStatus(t, answer, 201)
	again := e.call("POST", "/api/queue", l.Token, body, "Idempotency-Key", "flight")
	if again.status != 201 || !bytes.Equal(again.body, answer.body) || again.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry after the first answered: %s, first %s", again, answer)
	}
	if n := e.joined(); n != 1 {
		t.Fatalf("%d joins in the log, want 1", n)
	}
}

// A command whose database connection dies under it answers 503, not 500, and leaves
// its key free: the retry runs the command at once, and only that run is in the log.
func TestACommandThatDidNotRunLeavesNoClaim(t *testing.T) {
	t.Parallel()
	e := start(t, options{})
	l := e.loginDev(4102)
	body := window("candidate", "qa-engineer", time.Now().Add(24*time.Hour), 2*time.Hour)
	waiting, release := holdAppends(t, e)
	first := make(chan response, 1)
	go func() { first <- e.call("POST", "/api/queue", l.Token, body, "Idempotency-Key", "died") }()
	if _, err := e.pool.Exec(context.Background(), `SELECT pg_terminate_backend($1, 10000)`, waiting()); err != nil {
		t.Fatal(err)
	}
	died := <-first
	wantError(t, died, 503, "database-unavailable")
	if died.header.Get("Retry-After") == "" {
		t.Fatalf("503 without Retry-After: %v", died.header)
	}
	release()
	retry := e.call("POST", "/api/queue", l.Token, body, "Idempotency-Key", "died")
	if retry.status != 201 || retry.header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("the retry of a command that did not run: %s %v", retry, retry.header)
	}
	again := e.call("POST", "/api/queue", l.Token, body, "Idempotency-Key", "died")
	if again.status != 201 || !bytes.Equal(again.body, retry.body) || again.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("a retry after the run: %s, the run %s", again, retry)
	}
	if n := e.joined(); n != 1 {
		t.Fatalf("%d joins in the log, want 1", n)
	}
}

// Dozens of retries of one key at once run the command once: each gets the first
// answer or, while it is in flight, 409; the log holds one join.
func TestRacingRetriesOfAKeyRunItsCommandOnce(t *testing.T) {
	t.Parallel()
	e := start(t, options{})
	l := e.loginDev(4103)
	body := window("candidate", "qa-engineer", time.Now().Add(24*time.Hour), 2*time.Hour)
	const racers = 30
	answers := make(chan response, racers)
	var wg sync.WaitGroup
	for range racers {
		wg.Go(func() { answers <- e.call("POST", "/api/queue", l.Token, body, "Idempotency-Key", "race") })
	}
	wg.Wait()
	close(answers)
	var created []byte
	for r := range answers {
		switch {
		case r.status == 409 && strings.Contains(string(r.body), "idempotency-key-in-use"):
		case r.status != 201:
			t.Fatalf("a racing retry: %s", r)
		case created == nil:
			created = r.body
		case !bytes.Equal(created, r.body):
			t.Fatalf("two answers to one key: %s and %s", created, r.body)
		}
	}
	final := e.call("POST", "/api/queue", l.Token, body, "Idempotency-Key", "race")
	if final.status != 201 || (created != nil && !bytes.Equal(final.body, created)) {
		t.Fatalf("the retry after the race: %s, the race's %s", final, created)
	}
	if n := e.joined(); n != 1 {
		t.Fatalf("%d joins in the log, want 1", n)
	}
}

// A key is printable ASCII of 1 to 255 characters, sent once; anything else is 400
// naming the header, and runs nothing.
func TestIdempotencyKeyIsPrintableASCII(t *testing.T) {
	t.Parallel()
	e := start(t, options{})
	l := e.loginDev(4104)
	body := window("candidate", "qa-engineer", time.Now().Add(24*time.Hour), 2*time.Hour)
	for name, keys := range map[string][]string{
		"bytes beyond ASCII": {"\xff\xfe"},
		"UTF-8":              {"ключ"},
		"a tab inside":       {"a\tb"},
		"empty":              {""},
		"256 characters":     {strings.Repeat("k", 256)},
		"sent twice":         {"one", "two"},
	} {
		before := e.events()
		r := e.call("POST", "/api/queue", l.Token, body, keyHeaders(keys)...)
		wantError(t, r, 400, "invalid-request")
		if !strings.Contains(string(r.body), "Idempotency-Key") {
			t.Errorf("%s: the refusal does not name the header: %s", name, r)
		}
		if e.events() != before {
			t.Errorf("%s: a refused key ran its command", name)
		}
	}
	for i, key := range []string{strings.Repeat("k", 255), "a b ~!@#$%^&*()", "x"} {
		late := window("candidate", "qa-engineer", time.Now().Add(time.Duration(24*(i+2))*time.Hour), 2*time.Hour)
		wantStatus(t, e.call("POST", "/api/queue", l.Token, late, "Idempotency-Key", key), 201)
	}
}

func keyHeaders(keys []string) []string {
	var headers []string
	for _, k := range keys {
		headers = append(headers, "Idempotency-Key", k)
	}
	return headers
}

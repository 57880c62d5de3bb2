package http_test

import (
	"context"
	"testing"
	"time"

	api "github.com/supermock/engine/http"
	"github.com/supermock/engine/internal/testdb"
)

// keyKept says whether the key's row is still in the table.
func (e *env) keyKept(key string) bool {
	e.t.Helper()
	var kept bool
	if err := e.pool.QueryRow(context.Background(), `SELECT EXISTS (SELECT 1 FROM idempotency_keys WHERE key = $1)`,
		key).Scan(&kept); err != nil {
		e.t.Fatal(err)
	}
	return kept
}

// The periodic purge deletes a key once it is more than a day old by the API's clock,
// and keeps younger ones.
func TestKeysOlderThanADayArePurged(t *testing.T) {
	t.Parallel()
	begin := time.Now().UTC()
	clock := testdb.NewClock(begin)
	e := start(t, options{clock: clock})
	l := e.loginDev(4201)
	wantStatus(t, e.call("POST", "/api/queue", l.Token, window("candidate", "qa-engineer", begin.Add(48*time.Hour), 2*time.Hour),
		"Idempotency-Key", "old"), 201)
	clock.Set(begin.Add(2 * time.Hour))
	l = e.loginDev(4201) // the test's sessions last an hour of the clock
	wantStatus(t, e.call("POST", "/api/queue", l.Token, window("candidate", "qa-engineer", begin.Add(96*time.Hour), 2*time.Hour),
		"Idempotency-Key", "young"), 201)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- api.NewKeyPurge(e.pool, clock, nil).Run(ctx, 10*time.Millisecond) }()
	t.Cleanup(func() { cancel(); <-done })
	if !e.keyKept("old") || !e.keyKept("young") {
		t.Fatal("keys were purged before they were a day old")
	}
	clock.Set(begin.Add(24*time.Hour + time.Minute))
	testdb.Eventually(t, time.Minute, func() bool { return !e.keyKept("old") })
	if !e.keyKept("young") {
		t.Fatal("a key 22 hours old was purged")
	}
	clock.Set(begin.Add(26*time.Hour + time.Minute))
	testdb.Eventually(t, time.Minute, func() bool { return !e.keyKept("young") })
}

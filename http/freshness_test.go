package http_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/supermock/engine/eventstore"
)

// With no projection running, a read after the caller's own write waits its bound,
// then is served, marked stale; a read of somebody who wrote nothing does not wait.
func TestReadAfterWriteIsMarkedWhenTheTablesLag(t *testing.T) {
	t.Parallel()
	e := start(t, options{})
	writer := e.loginDev(5002)
	// The command is done, but its answer cannot show the profile the tables lack.
	done := e.call("PUT", "/api/me/professions", writer.Token, map[string]any{"professions": []string{"qa-engineer"}})
	if done.status != 202 || done.header.Get("X-Projection-Lag") != "true" || done.header.Get("X-Event-Position") == "" {
		t.Fatalf("a command answered before its tables caught up: %s %v", done, done.header)
	}
	got := e.call("GET", "/api/queue", writer.Token, nil)
	if got.status != 200 || got.header.Get("X-Projection-Lag") != "true" {
		t.Fatalf("stale read: %s %v", got, got.header)
	}
}

// X-Min-Position past the newest event of the log is refused at once; a malformed one
// is a bad cursor; one the log holds is waited for.
func TestMinPositionPastTheHead(t *testing.T) {
	t.Parallel()
	e := start(t, options{consumers: true})
	l := e.loginDev(5003)
	head, err := e.store.Log().LastCommitted(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	before := e.events()
	ahead := eventstore.Position{TxID: head.TxID + 1000, Offset: 1}.String()
	for _, pos := range []string{ahead, "18446744073709551615-0"} {
		wantError(t, e.call("GET", "/api/queue", l.Token, nil, "X-Min-Position", pos), 400, "position-ahead-of-log")
	}
	wantError(t, e.call("GET", "/api/queue", l.Token, nil, "X-Min-Position", "yesterday"), 400, "bad-cursor")
	got := e.call("GET", "/api/queue", l.Token, nil, "X-Min-Position", head.String())
	if got.status != 200 || got.header.Get("X-Projection-Lag") != "" {
		t.Fatalf("a read after the head: %s", got)
	}
	if e.events() != before {
		t.Fatal("refused reads changed the log")
	}
}

// One user's waiting requests are capped; the rest of them are refused at once, and
// another user's read is served as usual.
func TestWaitersAreCappedPerUser(t *testing.T) {
	t.Parallel()
	e := start(t, options{freshWait: 3 * time.Second})
	greedy, other := e.loginDev(5004), e.loginDev(5005)
	const n = 40
	statuses := make(chan response, n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses <- e.call("GET", "/api/me", greedy.Token, nil)
		}()
	}
	wg.Wait()
	close(statuses)
	counts := map[string]int{}
	for r := range statuses {
		switch {
		case r.status == 429 && strings.Contains(string(r.body), "too-many-waits"):
			counts["refused"]++
		case r.header.Get("X-Projection-Lag") == "true":
			counts["waited"]++
		default:
			t.Errorf("unexpected answer %s", r)
		}
	}
	if counts["waited"] > 16 || counts["waited"] == 0 || counts["refused"] < n-16 {
		t.Fatalf("answers of %d concurrent waits: %v", n, counts)
	}
	// The consumers are off, so the other user's read waits too, and is not refused.
	got := e.call("GET", "/api/me", other.Token, nil)
	if got.status == 429 {
		t.Fatalf("another user's read was refused: %s", got)
	}
}

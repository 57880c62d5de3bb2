package testdb

import (
	"context"
	"testing"
	"time"

	"github.com/supermock/engine/eventstore"
)

// waitLimit bounds every wait: a consumer that has not caught up by then is stuck.
const waitLimit = 3 * time.Minute

// WaitVisible waits until page readers see every event committed so far and returns
// that position. Any open transaction on the server, another test's too, hides newer
// events from them for a while (pg_snapshot_xmin is server-wide).
func WaitVisible(t testing.TB, store *eventstore.Store) eventstore.Position {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(waitLimit)
	for {
		last, err := store.LastCommitted(ctx)
		if err != nil {
			t.Fatal(err)
		}
		head, err := store.Head(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if head == last {
			return head
		}
		if time.Now().After(deadline) {
			t.Fatalf("page readers never saw %s (they see up to %s)", last, head)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// WaitConsumed waits until every group has consumed every committed event, including
// what the groups themselves append meanwhile.
func WaitConsumed(t testing.TB, store *eventstore.Store, groups ...string) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(waitLimit)
	for {
		last, err := store.LastCommitted(ctx)
		if err != nil {
			t.Fatal(err)
		}
		behind := ""
		for _, g := range groups {
			at, err := store.GroupPosition(ctx, g)
			if err != nil {
				t.Fatal(err)
			}
			if at.Less(last) {
				behind = g + " at " + at.String()
				break
			}
		}
		if behind == "" {
			if again, err := store.LastCommitted(ctx); err == nil && again == last {
				return
			}
		} else if time.Now().After(deadline) {
			t.Fatalf("%s, behind the last event %s", behind, last)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Eventually polls cond until it holds and fails the test if it still does not after
// timeout. The timeout is a bound for a stuck test, never a measure of speed: pick it
// far above what the slowest machine needs.
func Eventually(t testing.TB, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("the condition did not hold within %s", timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

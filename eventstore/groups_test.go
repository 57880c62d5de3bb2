package eventstore_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/supermock/engine/eventstore"
	"github.com/supermock/engine/internal/testdb"
)

// A group locked and moved in a transaction stands where it was put once that
// commits, and the events counted after it are those it has left to read; the log
// counts its events by type.
func TestLockAndMoveAGroup(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, pool := newStore(t)
	var positions []eventstore.Position
	for _, item := range []string{"a", "b", "c"} {
		pos, err := appendTx(ctx, store, pool, eventstore.Meta{}, eventstore.StreamAppend{StreamID: "cart-" + item,
			Expected: eventstore.NoStream, Events: []any{itemAdded{Item: item}}})
		if err != nil {
			t.Fatal(err)
		}
		positions = append(positions, pos)
	}
	// Another test's open transaction hides the events for a while (pg_snapshot_xmin is
	// server-wide).
	count := func(after eventstore.Position) int64 {
		n, err := store.CountAfter(ctx, after)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	testdb.Eventually(t, hangGuard, func() bool { return count(eventstore.Position{}) == 3 })
	for types, want := range map[string]int64{"": 3, "ItemAdded": 3, "ItemRemoved": 0} {
		var of []string
		if types != "" {
			of = []string{types}
		}
		if n, err := store.CountEvents(ctx, of...); err != nil || n != want {
			t.Fatalf("%d events of %q (%v), want %d", n, types, err, want)
		}
	}
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if err := store.LockGroup(ctx, tx, "moved"); err != nil {
			return err
		}
		return store.SetGroupPosition(ctx, tx, "moved", positions[0])
	})
	if err != nil {
		t.Fatal(err)
	}
	at, err := store.GroupPosition(ctx, "moved")
	if err != nil || at != positions[0] {
		t.Fatalf("the group stands at %s (%v), want %s", at, err, positions[0])
	}
	lags, err := store.GroupLags(ctx, []string{"moved"}, 10)
	if err != nil || lags["moved"].Events != 2 {
		t.Fatalf("lag %+v (%v), want 2 events", lags["moved"], err)
	}
	if n := count(at); n != 2 {
		t.Fatalf("%d events after the group, want 2", n)
	}
}

package eventstore_test

import (
	"context"
	"testing"
	"time"

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
		positions = append(positions, addItem(ctx, t, store, "cart-"+item, item))
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

// A running group moved back by LockGroup and SetGroupPosition reads on from its new
// position once the move commits: its subscriber keeps no offset of its own.
func TestARunningGroupMovedBackReadsOnFromItsNewPosition(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	store, pool := newStore(t)
	add := func(item string) eventstore.Position { return addItem(ctx, t, store, "cart-"+item, item) }
	positions := []eventstore.Position{add("a"), add("b")}
	got := make(chan eventstore.Position, 10)
	consumeCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- store.ConsumeAtomic(consumeCtx, eventstore.SubscriberConfig{ConsumerGroup: "held"},
			func(ctx context.Context, tx pgx.Tx, env eventstore.Envelope) error {
				got <- env.Position
				return nil
			}, nil)
	}()
	next := func() eventstore.Position {
		t.Helper()
		select {
		case p := <-got:
			return p
		case <-ctx.Done():
			t.Fatal("the group read nothing more")
			return eventstore.Position{}
		}
	}
	for _, want := range positions {
		if p := next(); p != want {
			t.Fatalf("read %s, want %s", p, want)
		}
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if err := store.LockGroup(ctx, tx, "held"); err != nil {
		t.Fatal(err)
	}
	if err := store.SetGroupPosition(ctx, tx, "held", positions[0]); err != nil {
		t.Fatal(err)
	}
	last := add("c") // hidden from the group until the move commits: it holds pg_snapshot_xmin
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	for _, want := range []eventstore.Position{positions[1], last} {
		if p := next(); p != want {
			t.Fatalf("read %s after the move, want %s: the group did not go on from its new position", p, want)
		}
	}
	stop()
	<-done
}

// A group reading only some types, moved back while events it does not read keep
// coming, reads again the first one it reads after its new position: the looks that
// pass what it does not read neither move it while it is held nor undo the move.
func TestAGroupOfSomeTypesMovedBackReadsAgainWhatItReads(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	store, pool := newStore(t)
	from := addItem(ctx, t, store, "cart", "thing")
	if _, err := store.AppendCommitted(ctx, eventstore.Meta{}, eventstore.StreamAppend{StreamID: "cart",
		Expected: eventstore.Exact(1), Events: []any{itemRemoved{Item: "thing"}}}); err != nil {
		t.Fatal(err)
	}
	head := addItems(ctx, t, store, "before", 10)
	got := make(chan string, 10)
	stop := consumeAtomic(ctx, t, store, eventstore.SubscriberConfig{
		ConsumerGroup: "removals", BatchSize: 3, Types: []string{"ItemRemoved"},
	}, func(ctx context.Context, tx pgx.Tx, env eventstore.Envelope) error {
		if env.EventType == "ItemRemoved" {
			got <- env.StreamID
		}
		return nil
	})
	removed := func() {
		t.Helper()
		select {
		case stream := <-got:
			if stream != "cart" {
				t.Fatalf("read the removal of %s, want cart", stream)
			}
		case <-ctx.Done():
			t.Fatal("the group read no removal")
		}
	}
	removed()
	waitGroupAt(ctx, t, store, "removals", head)

	hold := func() pgx.Tx {
		t.Helper()
		tx, err := pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = tx.Rollback(context.Background()) })
		if err := store.LockGroup(ctx, tx, "removals"); err != nil {
			t.Fatal(err)
		}
		return tx
	}
	// Held (by a transaction that writes nothing, so the new events are visible).
	tx := hold()
	addItems(ctx, t, store, "held", 10)
	time.Sleep(100 * time.Millisecond) // looks that find only what the group does not read
	if pos, err := store.GroupPosition(ctx, "removals"); err != nil || pos != head {
		t.Fatalf("the held group is at %s (%v), want %s where its lock caught it", pos, err, head)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	// Moved back.
	tx = hold()
	if err := store.SetGroupPosition(ctx, tx, "removals", from); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	removed()
	waitGroupAt(ctx, t, store, "removals", addItems(ctx, t, store, "after", 5))
	stop()
	if len(got) != 0 {
		t.Fatalf("%d more removals read: the group read the one after its new position more than once", len(got))
	}
}

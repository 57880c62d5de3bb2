package eventstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/supermock/engine/eventstore"
	"github.com/supermock/engine/internal/testdb"
)

// A handler fails once, after writing, in the middle of a batch: the savepoint undoes
// the failed attempt, the event comes again, and every event lands exactly once.
func TestConsumeAppliesEveryEventOnceDespiteAFailedAttempt(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	store, pool := newStore(t)
	if _, err := pool.Exec(ctx, `CREATE TABLE applied (item TEXT NOT NULL, position TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	const total = 120
	for i := 0; i < total; i += 40 {
		events := make([]any, 40)
		for k := range events {
			events[k] = itemAdded{Item: fmt.Sprintf("item-%d", i+k)}
		}
		if _, err := appendTx(ctx, store, pool, eventstore.Meta{}, eventstore.StreamAppend{
			StreamID: fmt.Sprintf("batch-%d", i), Expected: eventstore.NoStream, Events: events,
		}); err != nil {
			t.Fatal(err)
		}
	}

	var failed, attempts atomic.Int32
	var handled atomic.Int32
	consumeCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- store.Consume(consumeCtx, eventstore.SubscriberConfig{
			ConsumerGroup: "applier", BatchSize: 50, ResendInterval: 5 * time.Millisecond,
		}, func(ctx context.Context, tx pgx.Tx, env eventstore.Envelope) error {
			attempts.Add(1)
			var ev itemAdded
			if err := json.Unmarshal(env.Payload, &ev); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO applied VALUES ($1, $2)`, ev.Item, env.Position.String()); err != nil {
				return err
			}
			if ev.Item == "item-77" && failed.CompareAndSwap(0, 1) {
				return errors.New("injected failure after the write")
			}
			if handled.Add(1) == total {
				stop()
			}
			return nil
		}, func(env eventstore.Envelope, err error) { t.Logf("attempt on %s failed: %v", env.EventID, err) })
	}()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("consume ended with %v", err)
	}
	if failed.Load() != 1 || attempts.Load() != total+1 {
		t.Fatalf("%d injected failures, %d attempts: want 1 and %d", failed.Load(), attempts.Load(), total+1)
	}
	// The last batch may have ended with the context; let what was acked settle.
	var rows, distinct int
	if err := pool.QueryRow(ctx, `SELECT count(*), count(DISTINCT item) FROM applied`).Scan(&rows, &distinct); err != nil {
		t.Fatal(err)
	}
	if rows > total || distinct != rows {
		t.Fatalf("%d rows for %d distinct items: an event was applied twice", rows, distinct)
	}

	// A restart picks up exactly what the stopped consumer had not committed.
	restartCtx, stopAgain := context.WithCancel(ctx)
	go func() {
		done <- store.Consume(restartCtx, eventstore.SubscriberConfig{ConsumerGroup: "applier"},
			func(ctx context.Context, tx pgx.Tx, env eventstore.Envelope) error {
				var ev itemAdded
				if err := json.Unmarshal(env.Payload, &ev); err != nil {
					return err
				}
				_, err := tx.Exec(ctx, `INSERT INTO applied VALUES ($1, $2)`, ev.Item, env.Position.String())
				return err
			}, nil)
	}()
	deadline := time.Now().Add(2 * time.Minute)
	for rows < total && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		if err := pool.QueryRow(ctx, `SELECT count(*), count(DISTINCT item) FROM applied`).Scan(&rows, &distinct); err != nil {
			t.Fatal(err)
		}
	}
	stopAgain()
	<-done
	if rows != total || distinct != total {
		t.Fatalf("after a restart: %d rows for %d distinct items, want %d each", rows, distinct, total)
	}
}

// An event that keeps failing stalls only its own group: the group gives its batch up
// between rounds of attempts, so its transaction does not hide newer events from every
// other reader, and the event is applied, not skipped, once it can be.
func TestAPoisonEventHoldsBackOnlyItsOwnGroup(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	store, _ := newStore(t)
	add := func(item string) eventstore.Position { return addItem(ctx, t, store, "stream-"+item, item) }
	add("poison")
	var healed atomic.Bool
	var attempts atomic.Int32
	applied := make(chan string, 10)
	consumeCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- store.Consume(consumeCtx, eventstore.SubscriberConfig{ConsumerGroup: "fragile"},
			func(ctx context.Context, tx pgx.Tx, env eventstore.Envelope) error {
				var ev itemAdded
				if err := json.Unmarshal(env.Payload, &ev); err != nil {
					return err
				}
				if ev.Item == "poison" && !healed.Load() {
					attempts.Add(1)
					return errors.New("cannot apply this yet")
				}
				applied <- ev.Item
				return nil
			}, nil)
	}()
	for attempts.Load() < 3 {
		time.Sleep(5 * time.Millisecond)
	}
	later := add("later")
	testdb.WaitVisible(t, store) // never returns while a batch holds the poison
	head, err := store.Head(ctx)
	if err != nil || head != later {
		t.Fatalf("page readers see up to %s (%v), want %s", head, err, later)
	}
	healed.Store(true)
	for _, want := range []string{"poison", "later"} {
		select {
		case got := <-applied:
			if got != want {
				t.Fatalf("applied %s, want %s: an event was skipped or reordered", got, want)
			}
		case <-ctx.Done():
			t.Fatalf("%s was never applied", want)
		}
	}
	stop()
	<-done
}

// Events Wants refuses never reach the handler, and the group still passes them: the
// wanted ones after them are handled.
func TestConsumeHandsOnlyTheEventsItWants(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	store, pool := newStore(t)
	for _, stream := range []string{"skipped-1", "wanted-1", "skipped-2", "wanted-2"} {
		if _, err := appendTx(ctx, store, pool, eventstore.Meta{}, eventstore.StreamAppend{
			StreamID: stream, Expected: eventstore.NoStream, Events: []any{itemAdded{Item: stream}, itemAdded{Item: stream}},
		}); err != nil {
			t.Fatal(err)
		}
	}
	var seen []string
	consumeCtx, stop := context.WithCancel(ctx)
	err := store.Consume(consumeCtx, eventstore.SubscriberConfig{
		ConsumerGroup: "picky",
		Wants:         func(env eventstore.Envelope) bool { return strings.HasPrefix(env.StreamID, "wanted-") },
	}, func(ctx context.Context, tx pgx.Tx, env eventstore.Envelope) error {
		if seen = append(seen, env.StreamID); len(seen) == 4 {
			stop()
		}
		return nil
	}, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("consume ended with %v", err)
	}
	if want := []string{"wanted-1", "wanted-1", "wanted-2", "wanted-2"}; !slices.Equal(seen, want) {
		t.Fatalf("handled %v, want %v", seen, want)
	}
}

// A group reading only some types gets every event of them, once and in log order,
// while writers race to append and two processes run the group; the other events stay
// in the database but for the last of a batch, which carries the offset past them, and
// what the looks pass without a poll.
func TestConsumeWithTypesGetsEachOfThemOnceWhileWritersRace(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	store, pool := newStore(t)
	elsewhere := eventstore.New(pool, newCodec(t), nil)
	const writers, appends = 16, 20
	var (
		mu      sync.Mutex
		removed []eventstore.Envelope
		others  int
	)
	var stops []func()
	for _, s := range []*eventstore.Store{store, elsewhere} {
		stops = append(stops, consumeAtomic(ctx, t, s, eventstore.SubscriberConfig{
			ConsumerGroup: "removals", BatchSize: 10, Types: []string{"ItemRemoved"},
		}, func(ctx context.Context, tx pgx.Tx, env eventstore.Envelope) error {
			mu.Lock()
			defer mu.Unlock()
			if env.EventType == "ItemRemoved" {
				removed = append(removed, env)
			} else {
				others++
			}
			return nil
		}))
	}
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range appends {
				item := fmt.Sprintf("w%d-%d", w, i)
				if _, err := store.AppendCommitted(ctx, eventstore.Meta{}, eventstore.StreamAppend{
					StreamID: fmt.Sprintf("writer-%d", w), Expected: eventstore.Exact(int64(4 * i)),
					Events: []any{itemAdded{Item: item}, itemAdded{Item: item}, itemAdded{Item: item}, itemRemoved{Item: item}},
				}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	testdb.Eventually(t, 2*time.Minute, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(removed) >= writers*appends
	})
	for _, stop := range stops {
		stop()
	}
	mu.Lock()
	defer mu.Unlock()
	seen := map[string]bool{}
	for i, env := range removed {
		var ev itemRemoved
		if err := json.Unmarshal(env.Payload, &ev); err != nil {
			t.Fatal(err)
		}
		if seen[ev.Item] {
			t.Fatalf("the removal of %s came twice", ev.Item)
		}
		seen[ev.Item] = true
		if i > 0 && !removed[i-1].Position.Less(env.Position) {
			t.Fatalf("removal at %s came after one at %s: out of log order", env.Position, removed[i-1].Position)
		}
	}
	if len(seen) != writers*appends {
		t.Fatalf("%d removals came, want %d", len(seen), writers*appends)
	}
	if others >= writers*appends*3/2 {
		t.Fatalf("%d of the %d events of other types reached the handler: the group reads them all", others, writers*appends*3)
	}
}

// A group reading only some types passes the others without polling for them: its
// handler sees none of them, yet its offset follows the log's head. The first event it
// wants after them comes once, one still behind an open transaction is not passed, and
// events appended before the group's first poll are passed as well.
func TestAGroupPassesWhatItDoesNotReadWithoutItsHandler(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	store, pool := newStore(t)
	remove := func(stream string) eventstore.StreamAppend {
		return eventstore.StreamAppend{StreamID: stream, Expected: eventstore.Exact(1), Events: []any{itemRemoved{Item: "thing"}}}
	}
	addItems(ctx, t, store, "before", 30)
	var (
		mu      sync.Mutex
		handled []string
	)
	stop := consumeAtomic(ctx, t, store, eventstore.SubscriberConfig{
		ConsumerGroup: "passing", BatchSize: 5, Types: []string{"ItemRemoved"},
	}, func(ctx context.Context, tx pgx.Tx, env eventstore.Envelope) error {
		mu.Lock()
		defer mu.Unlock()
		handled = append(handled, env.EventType+" "+env.StreamID)
		return nil
	})
	handledSoFar := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(handled)
	}
	waitGroupAt(ctx, t, store, "passing", addItems(ctx, t, store, "while", 40))
	if got := handledSoFar(); len(got) != 0 {
		t.Fatalf("the handler was given %q; the group reads none of these types", got)
	}

	// A removal behind an open transaction, events of other types committed after it.
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	addItem(ctx, t, store, "late", "thing")
	if _, err := store.Append(ctx, tx, eventstore.Meta{}, remove("late")); err != nil {
		t.Fatal(err)
	}
	head := addItems(ctx, t, store, "after", 20)
	time.Sleep(200 * time.Millisecond) // looks that find only what is hidden behind tx
	if pos, err := store.GroupPosition(ctx, "passing"); err != nil || !pos.Less(head) {
		t.Fatalf("the group is at %s (%v), past events behind an open transaction that holds one it wants", pos, err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	addItem(ctx, t, store, "removed", "thing")
	if _, err := store.AppendCommitted(ctx, eventstore.Meta{}, remove("removed")); err != nil {
		t.Fatal(err)
	}
	waitGroupAt(ctx, t, store, "passing", addItems(ctx, t, store, "last", 10))
	stop()
	var removals []string
	for _, h := range handledSoFar() {
		if strings.HasPrefix(h, "ItemRemoved") {
			removals = append(removals, h)
		}
	}
	if want := []string{"ItemRemoved late", "ItemRemoved removed"}; !slices.Equal(removals, want) {
		t.Fatalf("the handler was given the removals %q, want %q once each, in order", removals, want)
	}
}

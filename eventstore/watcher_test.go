package eventstore_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/supermock/engine/eventstore"
	"github.com/supermock/engine/internal/testdb"
)

// The log knows each actor's newest append on any connection, never the system's, and
// an older append committing later does not move it back.
func TestActorsPosition(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, pool := newStore(t)
	add := func(actor, stream string, expected eventstore.ExpectedVersion) eventstore.Position {
		t.Helper()
		pos, err := store.AppendCommitted(ctx, eventstore.Meta{Actor: actor},
			eventstore.StreamAppend{StreamID: stream, Expected: expected, Events: []any{itemAdded{Item: "x", Count: 1}, itemRemoved{Item: "x"}}})
		if err != nil {
			t.Fatal(err)
		}
		return pos
	}
	first := add("alice", "cart-1", eventstore.NoStream)
	add(eventstore.ActorSystem, "cart-1", eventstore.Exact(2))
	add("bob", "cart-2", eventstore.NoStream)
	if got, err := store.ActorsPosition(ctx, "alice"); err != nil || got != first {
		t.Fatalf("alice's position %s (%v), want %s, her append's last event", got, err, first)
	}
	if got, _ := store.ActorsPosition(ctx, eventstore.ActorSystem); got != (eventstore.Position{}) {
		t.Fatalf("the system's appends were kept: %s", got)
	}

	// An append that began first (older transaction id) and commits last.
	older, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer older.Rollback(ctx)
	if _, err := older.Exec(ctx, `SELECT pg_current_xact_id()`); err != nil {
		t.Fatal(err)
	}
	newer := add("alice", "cart-3", eventstore.NoStream)
	if _, err := store.Append(ctx, older, eventstore.Meta{Actor: "alice"},
		eventstore.StreamAppend{StreamID: "cart-4", Expected: eventstore.Any, Events: []any{itemAdded{Item: "y"}}}); err != nil {
		t.Fatal(err)
	}
	if err := older.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := store.ActorsPosition(ctx, "alice", "nobody"); got != newer {
		t.Fatalf("alice's position %s after an older append committed, want %s", got, newer)
	}
}

// countingTracer counts the offset reads a pool runs.
type countingTracer struct {
	mu sync.Mutex
	n  int
}

func (c *countingTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	if strings.Contains(d.SQL, "consumer_group = ANY") {
		c.mu.Lock()
		c.n++
		c.mu.Unlock()
	}
	return ctx
}

func (c *countingTracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (c *countingTracer) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// One watcher releases every waiter once its groups pass the position, gives up on a
// waiter whose context ends, and reads nothing while nobody waits.
func TestWatcher(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, plain := newStore(t)
	cfg := plain.Config().Copy()
	tracer := &countingTracer{}
	cfg.ConnConfig.Tracer = tracer
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	store := eventstore.New(pool, newCodec(t), nil)
	w := store.NewWatcher(eventstore.WatcherConfig{})
	go func() { _ = w.Run(ctx) }()

	at, err := appendTx(ctx, store, pool, eventstore.Meta{}, eventstore.StreamAppend{StreamID: "cart-1",
		Expected: eventstore.NoStream, Events: []any{itemAdded{Item: "x"}}})
	if err != nil {
		t.Fatal(err)
	}
	groups := []string{"g1", "g2"}
	const waiters = 50
	released := make(chan error, waiters)
	for range waiters {
		go func() { released <- w.Wait(ctx, groups, at) }()
	}
	// A waiter whose deadline passes is let go with its context's error.
	short, stop := context.WithTimeout(ctx, 50*time.Millisecond)
	defer stop()
	if err := w.Wait(short, []string{"g3"}, at); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a waiter past its deadline got %v", err)
	}
	for _, g := range groups {
		if _, err := pool.Exec(ctx, `INSERT INTO watermill_offsets_events (consumer_group, offset_acked, last_processed_transaction_id)
			VALUES ($1, $2, $3::text::xid8)`, g, at.Offset, strconv.FormatUint(at.TxID, 10)); err != nil {
			t.Fatal(err)
		}
	}
	for range waiters {
		if err := <-released; err != nil {
			t.Fatal(err)
		}
	}
	if !w.Passed(groups, at) || w.Passed([]string{"g3"}, at) {
		t.Fatal("Passed disagrees with the offsets")
	}
	// Nobody waits: no more reads.
	idle := tracer.count()
	time.Sleep(100 * time.Millisecond)
	if now := tracer.count(); now != idle {
		t.Fatalf("the watcher read offsets %d times with nobody waiting", now-idle)
	}
}

// A waiter is released when a subscriber of the process commits past its position,
// though the watcher's interval, an hour here, never comes round: the commit wakes it.
func TestWatcherWakesOnASubscribersCommit(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	_, plain := newStore(t)
	cfg := plain.Config().Copy()
	tracer := &countingTracer{}
	cfg.ConnConfig.Tracer = tracer
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	store := eventstore.New(pool, newCodec(t), nil)
	w := store.NewWatcher(eventstore.WatcherConfig{Interval: time.Hour})
	go func() { _ = w.Run(ctx) }()
	waitListening(t, pool)

	// Appended by another store outside InTx: the commit announces nothing.
	at, err := appendTx(ctx, eventstore.New(plain, newCodec(t), nil), plain, eventstore.Meta{}, eventstore.StreamAppend{StreamID: "cart-1",
		Expected: eventstore.NoStream, Events: []any{itemAdded{Item: "x"}}})
	if err != nil {
		t.Fatal(err)
	}
	released := make(chan error, 1)
	go func() { released <- w.Wait(ctx, []string{"woken"}, at) }()
	testdb.Eventually(t, hangGuard, func() bool { return tracer.count() > 0 })
	if w.Passed([]string{"woken"}, at) {
		t.Fatal("the group passed before it consumed anything")
	}
	items := consumeItems(t, store)
	expectItem(t, items, "x")
	if err := <-released; err != nil {
		t.Fatalf("the waiter was never released: %v", err)
	}
}

package eventstore_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/supermock/engine/eventstore"
	"github.com/supermock/engine/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }

type itemAdded struct {
	Item  string `json:"item"`
	Count int    `json:"count"`
}

type itemRemoved struct {
	Item string `json:"item"`
}

func newCodec(t testing.TB) *eventstore.Codec {
	t.Helper()
	c := eventstore.NewCodec()
	if err := c.Register("ItemAdded", 1, itemAdded{}); err != nil {
		t.Fatal(err)
	}
	if err := c.Register("ItemRemoved", 1, itemRemoved{}); err != nil {
		t.Fatal(err)
	}
	return c
}

func newStore(t testing.TB) (*eventstore.Store, *pgxpool.Pool) {
	t.Helper()
	pool := testdb.New(t)
	return eventstore.New(pool, newCodec(t), nil), pool
}

// appendTx appends in a transaction the caller owns and then commits.
func appendTx(ctx context.Context, store *eventstore.Store, pool *pgxpool.Pool, meta eventstore.Meta, appends ...eventstore.StreamAppend) (eventstore.Position, error) {
	var pos eventstore.Position
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		var err error
		pos, err = store.Append(ctx, tx, meta, appends...)
		return err
	})
	return pos, err
}

// appendCommitted appends in a transaction of the store's own, as a command does.
func appendCommitted(ctx context.Context, store *eventstore.Store, _ *pgxpool.Pool, meta eventstore.Meta, appends ...eventstore.StreamAppend) (eventstore.Position, error) {
	return store.AppendCommitted(ctx, meta, appends...)
}

// addItem appends an ItemAdded of item as the first event of stream and returns its
// position.
func addItem(ctx context.Context, t testing.TB, store *eventstore.Store, stream, item string) eventstore.Position {
	t.Helper()
	pos, err := store.AppendCommitted(ctx, eventstore.Meta{}, eventstore.StreamAppend{StreamID: stream,
		Expected: eventstore.NoStream, Events: []any{itemAdded{Item: item}}})
	if err != nil {
		t.Fatal(err)
	}
	return pos
}

// addItems appends an ItemAdded as the first event of each of n streams named after
// prefix and returns the position of the last.
func addItems(ctx context.Context, t testing.TB, store *eventstore.Store, prefix string, n int) eventstore.Position {
	t.Helper()
	var pos eventstore.Position
	for i := range n {
		pos = addItem(ctx, t, store, fmt.Sprintf("%s-%d", prefix, i), "thing")
	}
	return pos
}

// consumeAtomic runs store's ConsumeAtomic of cfg with handle until the function it
// returns stops it, which fails the test unless the consumer ended by being stopped.
func consumeAtomic(ctx context.Context, t testing.TB, store *eventstore.Store, cfg eventstore.SubscriberConfig, handle eventstore.Handler) (stop func()) {
	t.Helper()
	consumeCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- store.ConsumeAtomic(consumeCtx, cfg, handle, nil) }()
	return func() {
		t.Helper()
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("consume of %s ended with %v", cfg.ConsumerGroup, err)
		}
	}
}

// waitGroupAt waits until group has consumed the log up to at.
func waitGroupAt(ctx context.Context, t testing.TB, store *eventstore.Store, group string, at eventstore.Position) {
	t.Helper()
	testdb.Eventually(t, time.Minute, func() bool {
		pos, err := store.GroupPosition(ctx, group)
		return err == nil && !pos.Less(at)
	})
}

// appenders are the two ways to append, which keep the same promises.
var appenders = []struct {
	name   string
	append func(context.Context, *eventstore.Store, *pgxpool.Pool, eventstore.Meta, ...eventstore.StreamAppend) (eventstore.Position, error)
}{{"in the caller's transaction", appendTx}, {"committed alone", appendCommitted}}

func countEvents(t testing.TB, pool *pgxpool.Pool) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM watermill_events`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

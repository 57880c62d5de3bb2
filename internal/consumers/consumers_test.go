package consumers_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/supermock/engine/eventstore"
	"github.com/supermock/engine/internal/consumers"
	"github.com/supermock/engine/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }

type poison struct {
	Why string `json:"why"`
}

func status(t *testing.T, b *consumers.Board, name string) consumers.Status {
	t.Helper()
	statuses, err := b.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range statuses {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("%s is not on the board: %+v", name, statuses)
	return consumers.Status{}
}

// A consumer that fails on an event shows its error and its lag at once, and counts
// as stuck once it has not moved for a minute; a loop shows whether it runs and how
// long its oldest due item has waited.
func TestAStalledConsumerShowsAndIsStuckAfterAMinute(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pool := testdb.New(t)
	codec := eventstore.NewCodec()
	if err := codec.Register("Poison", 1, poison{}); err != nil {
		t.Fatal(err)
	}
	store := eventstore.New(pool, codec, nil)
	if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		_, err := store.Append(ctx, tx, eventstore.Meta{}, eventstore.StreamAppend{
			StreamID: "s-1", Expected: eventstore.NoStream, Events: []any{poison{Why: "no handler takes it"}}})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	clock := testdb.NewClock(time.Now())
	board := consumers.NewBoard(store, clock.Now)
	board.Group("stalled")
	due := int64(0)
	loop := board.Loop("loop", func(context.Context) (int64, float64, error) {
		if due == 0 {
			return 0, 0, nil
		}
		return due, 90, nil
	})

	if s := status(t, board, "stalled"); s.Running || s.Stuck || s.LagEvents != 1 {
		t.Fatalf("before it runs: %+v, want not running, one event behind, not stuck", s)
	}
	go func() {
		_ = store.Consume(ctx, eventstore.SubscriberConfig{ConsumerGroup: "stalled", Attempts: 1},
			func(context.Context, pgx.Tx, eventstore.Envelope) error { return errors.New("refused") }, nil)
	}()
	loopDone := make(chan error, 1)
	go func() { loopDone <- loop.Run(ctx, func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }) }()
	testdb.Eventually(t, 2*time.Minute, func() bool {
		s := status(t, board, "stalled")
		return s.Running && s.LastError != "" && !s.LastErrorAt.IsZero() && status(t, board, "loop").Running
	})
	statuses, err := board.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ready, bad := consumers.Ready(statuses); !ready {
		t.Fatalf("not ready before a minute has passed: %+v", bad)
	}

	clock.Set(clock.Now().Add(consumers.StuckAfter + time.Second))
	due = 3
	statuses, err = board.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ready, bad := consumers.Ready(statuses)
	if ready || len(bad) != 2 || !bad[0].Stuck || bad[0].Name != "stalled" || !bad[1].Stuck || bad[1].LagEvents != 3 {
		t.Fatalf("a minute later: ready %v, %+v; want the group and the loop stuck", ready, bad)
	}

	cancel()
	<-loopDone
	testdb.Eventually(t, 2*time.Minute, func() bool {
		return !status(t, board, "stalled").Running && !status(t, board, "loop").Running
	})
}

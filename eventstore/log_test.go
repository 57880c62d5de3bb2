package eventstore_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/supermock/engine/eventstore"
	"github.com/supermock/engine/internal/testdb"
)

// recorder keeps every record at every level.
type recorder struct {
	mu      sync.Mutex
	records []slog.Record
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *recorder) WithGroup(string) slog.Handler            { return r }
func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.records = append(r.records, rec)
	return nil
}

// levels are the levels each message was logged at, as often as it was.
func (r *recorder) levels() map[string][]slog.Level {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string][]slog.Level{}
	for _, rec := range r.records {
		out[rec.Message] = append(out[rec.Message], rec.Level)
	}
	return out
}

// watermill's own log reaches slog, and what it says on every poll or subscription
// stays below debug: LOG_LEVEL=debug shows no line per poll.
func TestWatermillLogsReachSlogWithNoLinePerPollAtDebug(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var rec recorder
	pool := testdb.New(t)
	store := eventstore.New(pool, newCodec(t), eventstore.WatermillLogger(slog.New(&rec)))
	const appends = 5
	for i := range appends {
		if _, err := appendTx(ctx, store, pool, eventstore.Meta{}, eventstore.StreamAppend{
			StreamID: "logged", Expected: eventstore.Any, Events: []any{itemAdded{Item: "item", Count: i}},
		}); err != nil {
			t.Fatal(err)
		}
	}
	sub, err := store.Subscriber(eventstore.SubscriberConfig{ConsumerGroup: "logged"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sub.Subscribe(ctx, eventstore.Topic); err != nil {
		t.Fatal(err)
	}
	testdb.Eventually(t, time.Minute, func() bool { return len(rec.levels()["Executing before subscribing query"]) > 0 })
	_ = sub.Close()

	// Said on every subscription's start: never shown.
	const msg = "Executing before subscribing query"
	for _, l := range rec.levels()[msg] {
		if l >= slog.LevelDebug {
			t.Errorf("watermill's %q is logged at %s, where LOG_LEVEL=debug shows it", msg, l)
		}
	}
}

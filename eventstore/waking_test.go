package eventstore_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/supermock/engine/eventstore"
	"github.com/supermock/engine/internal/testdb"
)

// hangGuard only stops a test that would otherwise hang: a wake-up that never comes.
const hangGuard = time.Minute

// consumeItems runs a consumer whose safety poll is an hour: what it delivers while
// nothing is held back was woken by a commit. (Events hidden behind an open
// transaction, any test's on the server, are looked for every poll interval.)
func consumeItems(t *testing.T, store *eventstore.Store) <-chan string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	items := make(chan string, 16)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = store.Consume(ctx, eventstore.SubscriberConfig{
			ConsumerGroup: "woken", SafetyPoll: time.Hour,
		}, func(ctx context.Context, tx pgx.Tx, env eventstore.Envelope) error {
			var ev itemAdded
			if err := json.Unmarshal(env.Payload, &ev); err != nil {
				return err
			}
			items <- ev.Item
			return nil
		}, func(env eventstore.Envelope, err error) { t.Logf("event %s: %v", env.EventID, err) })
	}()
	t.Cleanup(func() { cancel(); <-done })
	return items
}

func expectItem(t *testing.T, items <-chan string, want string) {
	t.Helper()
	select {
	case got := <-items:
		if got != want {
			t.Fatalf("delivered %q, want %q", got, want)
		}
	case <-time.After(hangGuard):
		t.Fatalf("%q was never delivered: no wake-up", want)
	}
}

func appendItem(ctx context.Context, store *eventstore.Store, tx pgx.Tx, item string) error {
	_, err := store.Append(ctx, tx, eventstore.Meta{}, eventstore.StreamAppend{
		StreamID: item, Expected: eventstore.NoStream, Events: []any{itemAdded{Item: item}},
	})
	return err
}

// Commits of this process and of another one (a second store on the same database
// stands for it) both wake a sleeping consumer.
func TestConsumerWakesOnCommitsHereAndElsewhere(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, pool := newStore(t)
	elsewhere := eventstore.New(pool, newCodec(t), nil)
	items := consumeItems(t, store)
	waitListening(t, pool)
	for _, w := range []struct {
		item  string
		store *eventstore.Store
	}{{"here", store}, {"elsewhere", elsewhere}, {"here-again", store}, {"elsewhere-again", elsewhere}} {
		if err := w.store.InTx(ctx, func(tx pgx.Tx) error { return appendItem(ctx, w.store, tx, w.item) }); err != nil {
			t.Fatal(err)
		}
		expectItem(t, items, w.item)
	}
}

// An append that commits after a later one is read first, in log order: the later one
// is not read while the earlier transaction is open.
func TestLateCommitWakesItsReaderInLogOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, pool := newStore(t)
	items := consumeItems(t, store)
	late, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer late.Rollback(ctx)
	if err := appendItem(ctx, store, late, "late"); err != nil {
		t.Fatal(err)
	}
	if err := store.InTx(ctx, func(tx pgx.Tx) error { return appendItem(ctx, store, tx, "early") }); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-items:
		t.Fatalf("%q delivered while an earlier append was still open", got)
	default:
	}
	if err := late.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	store.Committed()
	expectItem(t, items, "late")
	expectItem(t, items, "early")
}

// A watcher of the log's commits (the read-your-writes wait, a log tail) wakes when
// another process commits.
func TestWatchCommitsWakesOnACommitElsewhere(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	store, pool := newStore(t)
	elsewhere := eventstore.New(pool, newCodec(t), nil)
	next := store.WatchCommits(ctx)
	waitListening(t, pool)
	woken := next()
	if err := elsewhere.InTx(ctx, func(tx pgx.Tx) error { return appendItem(ctx, elsewhere, tx, "watched") }); err != nil {
		t.Fatal(err)
	}
	select {
	case <-woken:
	case <-ctx.Done():
		t.Fatal("the watcher was never woken by the commit")
	}
}

// waitListening returns once this database has a connection listening for commits, so
// that what a test commits next reaches it as a notification.
func waitListening(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	testdb.Eventually(t, hangGuard, func() bool {
		var n int
		err := pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND query = 'LISTEN eventstore_commits' AND state = 'idle'`).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		return n > 0
	})
}

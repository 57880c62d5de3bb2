package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/supermock/engine/internal/pipeline"
	"github.com/supermock/engine/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// newItems makes the tables the tests write: items, each row keeping the transaction
// that wrote it; entries, with no key, where a batch sent twice would show twice; and
// released, whose first row ends wait_for_release().
func newItems(t *testing.T) *pgxpool.Pool {
	t.Helper()
	pool := testdb.New(t)
	if _, err := pool.Exec(context.Background(), `CREATE TABLE items (id int PRIMARY KEY, tx xid8 NOT NULL DEFAULT pg_current_xact_id());
		CREATE TABLE entries (id int NOT NULL);
		CREATE TABLE released (at timestamptz NOT NULL DEFAULT now());
		CREATE FUNCTION wait_for_release() RETURNS void LANGUAGE plpgsql AS $$
		BEGIN
			WHILE NOT EXISTS (SELECT 1 FROM released) LOOP
				PERFORM pg_sleep(0.005);
			END LOOP;
		END $$`); err != nil {
		t.Fatal(err)
	}
	return pool
}

// insert is a batch that inserts the item id and reads back its id into got.
func insert(id int, got *int) func() *pgx.Batch {
	return func() *pgx.Batch {
		b := &pgx.Batch{}
		b.Queue(`INSERT INTO items (id) VALUES ($1) RETURNING id`, id).QueryRow(func(row pgx.Row) error { return row.Scan(got) })
		return b
	}
}

// holdItem inserts the item id in a transaction left open: a batch inserting it waits
// for the returned release (which rolls the transaction back).
func holdItem(t *testing.T, pool *pgxpool.Pool, id int) (release func()) {
	t.Helper()
	ctx := context.Background()
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO items (id) VALUES ($1)`, id); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release = func() { once.Do(func() { _ = tx.Rollback(ctx) }) }
	t.Cleanup(release)
	return release
}

// blocked is a group whose first batch is at the server, waiting until the test
// releases it (no lock, so no lock timeout ends the wait): the group in flight, until
// unblock.
type blocked struct {
	pool  *pgxpool.Pool
	g     *pipeline.Group
	first <-chan error
}

func newBlocked(t *testing.T) blocked {
	t.Helper()
	pool := newItems(t)
	b := blocked{pool: pool, g: pipeline.New(pool)}
	first := make(chan error, 1)
	go func() {
		first <- b.g.Send(context.Background(), func() *pgx.Batch {
			batch := &pgx.Batch{}
			batch.Queue(`SELECT wait_for_release()`)
			return batch
		})
	}()
	b.first = first
	testdb.Eventually(t, 30*time.Second, func() bool {
		var waiting bool
		err := pool.QueryRow(context.Background(), `SELECT EXISTS (SELECT 1 FROM pg_stat_activity
			WHERE datname = current_database() AND state = 'active' AND query LIKE 'SELECT wait_for_release()%')`).Scan(&waiting)
		return err == nil && waiting
	})
	return b
}

// unblock lets the first batch end.
func (b blocked) unblock(t *testing.T) {
	t.Helper()
	if _, err := b.pool.Exec(context.Background(), `INSERT INTO released DEFAULT VALUES`); err != nil {
		t.Fatal(err)
	}
	if err := <-b.first; err != nil {
		t.Fatal(err)
	}
}

// within fails the test unless done yields within a minute: what must not wait for
// something the test still holds.
func within[T any](t *testing.T, done <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-done:
		return v
	case <-time.After(time.Minute):
		t.Fatalf("%s still waits", what)
	}
	panic("unreachable")
}

// sendAll sends the batches in goroutines of their own, waits until every one of them
// waits behind the group in flight, and returns their results in order once they end.
func sendAll(t *testing.T, g *pipeline.Group, batches ...func() *pgx.Batch) (wait func() []error) {
	t.Helper()
	errs := make([]error, len(batches))
	var wg sync.WaitGroup
	before := pipeline.Waiting(g)
	for i, b := range batches {
		wg.Go(func() { errs[i] = g.Send(context.Background(), b) })
	}
	testdb.Eventually(t, 30*time.Second, func() bool { return pipeline.Waiting(g) == before+len(batches) })
	return func() []error {
		wg.Wait()
		return errs
	}
}

// items is a batch for each of the items from, from+1, …, each reading back its id
// into got.
func items(from int, got []int) []func() *pgx.Batch {
	batches := make([]func() *pgx.Batch, len(got))
	for i := range got {
		batches[i] = insert(from+i, &got[i])
	}
	return batches
}

// count is what the counting query gives.
func count(t *testing.T, pool *pgxpool.Pool, query string, args ...any) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestBatchesThatComeWhileAGroupIsInFlightCommitAsOne(t *testing.T) {
	t.Parallel()
	b := newBlocked(t)
	got := make([]int, 24)
	wait := sendAll(t, b.g, items(1, got)...)
	b.unblock(t)
	for i, err := range wait() {
		if err != nil || got[i] != i+1 {
			t.Fatalf("batch %d: %v, read back %d", i, err, got[i])
		}
	}
	if n := count(t, b.pool, `SELECT count(DISTINCT tx) FROM items WHERE id > 0`); n != 1 {
		t.Fatalf("the batches that waited together committed in %d transactions, want 1", n)
	}
}

func TestAFailingBatchOfAGroupFailsAloneAndTheOthersLand(t *testing.T) {
	t.Parallel()
	b := newBlocked(t)
	if _, err := b.pool.Exec(context.Background(), `INSERT INTO items (id) VALUES (0)`); err != nil {
		t.Fatal(err)
	}
	got := make([]int, 10)
	batches := items(1, got)
	const duplicate = 5
	batches[duplicate] = insert(0, &got[duplicate])
	wait := sendAll(t, b.g, batches...)
	b.unblock(t)
	for i, err := range wait() {
		var pgErr *pgconn.PgError
		switch {
		case i == duplicate:
			if !errors.As(err, &pgErr) || pgErr.Code != "23505" {
				t.Fatalf("the duplicate's batch got %v, want its unique violation", err)
			}
		case err != nil || got[i] != i+1:
			t.Fatalf("batch %d, in the duplicate's group: %v, read back %d", i, err, got[i])
		}
	}
	if n := count(t, b.pool, `SELECT count(*) FROM items`); n != len(got) {
		t.Fatalf("%d items, want %d: the one there before and every batch but the duplicate", n, len(got))
	}
}

// A group waits for a lock only briefly: a batch stuck behind another transaction
// goes on waiting alone, outside any group, and neither the rest of its group nor the
// groups after it wait with it.
func TestABatchStuckOnALockHoldsUpNoOther(t *testing.T) {
	t.Parallel()
	for _, behind := range []bool{true, false} {
		t.Run(fmt.Sprintf("queued behind a group %t", behind), func(t *testing.T) {
			t.Parallel()
			var b blocked
			if behind {
				b = newBlocked(t)
			} else {
				pool := newItems(t)
				b = blocked{pool: pool, g: pipeline.New(pool)}
			}
			releaseStuck := holdItem(t, b.pool, 100)
			var stuckGot, mateGot, laterGot int
			stuck := make(chan error, 1)
			go func() { stuck <- b.g.Send(context.Background(), insert(100, &stuckGot)) }()
			var mate func() []error
			if behind {
				testdb.Eventually(t, 30*time.Second, func() bool { return pipeline.Waiting(b.g) == 1 })
				mate = sendAll(t, b.g, insert(101, &mateGot))
				b.unblock(t)
				done := make(chan []error, 1)
				go func() { done <- mate() }()
				if errs := within(t, done, "the stuck batch's group mate"); errs[0] != nil || mateGot != 101 {
					t.Fatalf("the stuck batch's group mate: %v, read back %d", errs[0], mateGot)
				}
			}
			later := make(chan error, 1)
			go func() { later <- b.g.Send(context.Background(), insert(102, &laterGot)) }()
			if err := within(t, later, "a batch sent after the stuck one"); err != nil || laterGot != 102 {
				t.Fatalf("a batch sent after the stuck one: %v, read back %d", err, laterGot)
			}
			if n := count(t, b.pool, `SELECT count(*) FROM items WHERE id = 100`); n != 0 {
				t.Fatal("the stuck batch landed before the lock it waits for was released")
			}
			releaseStuck()
			if err := <-stuck; err != nil || stuckGot != 100 {
				t.Fatalf("the stuck batch after the release: %v, read back %d", err, stuckGot)
			}
		})
	}
}

func TestACallerWhoGivesUpWhileWaitingIsAnsweredAtOnceAndNotSent(t *testing.T) {
	t.Parallel()
	b := newBlocked(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	var got int
	gaveUp := make(chan error, 1)
	go func() { gaveUp <- b.g.Send(ctx, insert(1, &got)) }()
	testdb.Eventually(t, 30*time.Second, func() bool { return pipeline.Waiting(b.g) == 1 })
	cancel()
	if err := within(t, gaveUp, "the caller who gave up"); !errors.Is(err, context.Canceled) {
		t.Fatalf("the caller who gave up got %v, want context.Canceled", err)
	}
	b.unblock(t)
	if count(t, b.pool, `SELECT count(*) FROM items WHERE id = 1`) != 0 {
		t.Fatal("the batch of a caller who gave up was sent")
	}
}

// A callback that cannot read its answer leaves unknown what the group did: nothing is
// sent again, and every caller of the group hears of it.
func TestABatchWhoseAnswerIsUnreadableIsNotSentAgain(t *testing.T) {
	t.Parallel()
	b := newBlocked(t)
	unreadable := errors.New("an answer the callback cannot read")
	entry := func(id int, callback error) func() *pgx.Batch {
		return func() *pgx.Batch {
			batch := &pgx.Batch{}
			batch.Queue(`INSERT INTO entries (id) VALUES ($1) RETURNING id`, id).QueryRow(func(row pgx.Row) error {
				var got int
				if err := row.Scan(&got); err != nil {
					return err
				}
				return callback
			})
			return batch
		}
	}
	wait := sendAll(t, b.g, entry(1, nil), entry(2, unreadable))
	b.unblock(t)
	for i, err := range wait() {
		if !errors.Is(err, unreadable) {
			t.Fatalf("caller %d of the group got %v, want the unreadable answer's error", i, err)
		}
	}
	if n := count(t, b.pool, `SELECT count(*) FROM entries`); n != 2 {
		t.Fatalf("%d entries, want each batch's once", n)
	}
}

// Dozens of callers at once, in rounds: every batch lands once, in whatever groups
// they formed, and reads back its own row.
func TestConcurrentCallersEachLandOnce(t *testing.T) {
	t.Parallel()
	pool := newItems(t)
	g := pipeline.New(pool)
	const callers, rounds = 48, 20
	var wg sync.WaitGroup
	errs := make(chan error, callers*rounds)
	for c := range callers {
		wg.Go(func() {
			for r := range rounds {
				id := r*callers + c
				var got int
				if err := g.Send(context.Background(), insert(id, &got)); err != nil || got != id {
					errs <- fmt.Errorf("item %d: %v, read back %d", id, err, got)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := count(t, pool, `SELECT count(DISTINCT id) FROM items`); n != callers*rounds {
		t.Fatalf("%d distinct items, want %d", n, callers*rounds)
	}
}

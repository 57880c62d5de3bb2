package demo_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/supermock/engine/internal/demo"
	"github.com/supermock/engine/internal/eventlog"
	"github.com/supermock/engine/internal/testdb"
	"github.com/supermock/engine/projections"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// history is a digest of the log without what differs between runs by design: the
// envelope's event ids and recorded_at, and the ciphertext of personal fields (their
// nonces are random): payloads are digested decrypted, with their keys sorted.
func history(t *testing.T, pool *pgxpool.Pool) (string, int) {
	t.Helper()
	ctx := context.Background()
	store, err := eventlog.New(pool)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := pool.Query(ctx, `SELECT stream_id FROM watermill_events GROUP BY stream_id ORDER BY min(transaction_id), min("offset")`)
	if err != nil {
		t.Fatal(err)
	}
	streams, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	n := 0
	for _, stream := range streams {
		envs, err := store.Log().ReadStream(ctx, stream)
		if err != nil {
			t.Fatal(err)
		}
		for _, env := range envs {
			var payload any
			if err := json.Unmarshal(env.Payload, &payload); err != nil {
				t.Fatal(err)
			}
			sorted, _ := json.Marshal(payload)
			fmt.Fprintf(h, "%s\x00%d\x00%s\x00%s\x00%s\n", stream, env.StreamVersion, env.EventType, sorted, env.OccurredAt.UTC().Format(time.RFC3339Nano))
			n++
		}
	}
	return fmt.Sprintf("%x", h.Sum(nil)), n
}

func TestTheSameSeedGivesTheSameHistory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	gen := func(seed uint64) (demo.Stats, string, int) {
		pool := testdb.New(t)
		start := time.Now()
		stats, err := demo.Generate(ctx, pool, demo.Config{Users: 60, Seed: seed, Days: 5})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("seed %d: %+v in %s", seed, stats, time.Since(start))
		h, n := history(t, pool)
		return stats, h, n
	}
	s1, h1, n1 := gen(7)
	_, h2, n2 := gen(7)
	_, h3, _ := gen(8)
	if n1 != s1.Events || n1 == 0 {
		t.Fatalf("the log holds %d events, the generator counted %d", n1, s1.Events)
	}
	if h1 != h2 || n1 != n2 {
		t.Fatalf("seed 7 gave two histories: %d events %s, %d events %s", n1, h1, n2, h2)
	}
	if h1 == h3 {
		t.Fatal("seeds 7 and 8 gave the same history")
	}
	for name, v := range map[string]int{"matches": s1.Matches, "completed": s1.Completed, "cancelled": s1.Cancelled,
		"no-shows": s1.NoShows, "feedback": s1.Feedback, "notifications": s1.Notifications} {
		if v == 0 {
			t.Errorf("a realistic history has %s, this one none: %+v", name, s1)
		}
	}
}

// A history that ends now reads like a site in use: the read tables show entries
// waiting and interviews booked in the days ahead, and the history behind them.
func TestAHistoryEndingNowLeavesTheDaysAheadBooked(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	now := time.Now().UTC().Truncate(time.Hour)
	stats, err := demo.Generate(ctx, pool, demo.Config{Users: 60, Seed: 4, Days: 7, Start: now.Add(-7 * 24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if !stats.SimulatedUntil.Equal(now) {
		t.Fatalf("the history ends at %s, not now (%s)", stats.SimulatedUntil, now)
	}
	store, err := eventlog.New(pool)
	if err != nil {
		t.Fatal(err)
	}
	testdb.WaitVisible(t, store.Log())
	if err := projections.Rebuild(ctx, pool, store.Log(), projections.All(), projections.RebuildConfig{}); err != nil {
		t.Fatal(err)
	}
	var waiting, booked, past, future int
	err = pool.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM interview_queue WHERE status = 'waiting' AND window_end > $1),
		(SELECT count(*) FROM interviews WHERE status = 'scheduled' AND scheduled_at > $1),
		(SELECT count(*) FROM interviews WHERE status = 'completed' AND scheduled_at < $1),
		(SELECT count(*) FROM watermill_events WHERE (metadata->>'occurred_at')::timestamptz > $1)`, now).
		Scan(&waiting, &booked, &past, &future)
	if err != nil {
		t.Fatal(err)
	}
	if waiting == 0 || booked == 0 || past == 0 || future != 0 {
		t.Errorf("%d entries waiting and %d interviews booked ahead, %d completed before now, %d events after now", waiting, booked, past, future)
	}
}

// A seed gives its users fixed Telegram ids: a second history of it is refused before
// it writes anything, naming a seed that is free.
func TestASeedUsedBeforeIsRefusedWithAFreeOne(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	for _, seed := range []uint64{3, 4} {
		if _, err := demo.Generate(ctx, pool, demo.Config{Users: 5, Seed: seed, Days: 1}); err != nil {
			t.Fatal(err)
		}
	}
	_, before := history(t, pool)
	_, err := demo.Generate(ctx, pool, demo.Config{Users: 5, Seed: 3, Days: 1})
	var used *demo.SeedUsedError
	if !errors.As(err, &used) || used.Seed != 3 || used.Free != 5 {
		t.Fatalf("a second history of seed 3: %v", err)
	}
	if _, after := history(t, pool); after != before {
		t.Errorf("the refused history wrote %d events", after-before)
	}
}

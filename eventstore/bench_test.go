package eventstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/supermock/engine/eventstore"
	"github.com/supermock/engine/internal/testdb"
)

// Every benchmark times our code and a raw SQL baseline in the same run, taking turns
// so that both share the machine's noise, and reports the two rates and their ratio.

// BenchmarkAppend: 8 writers, one event per transaction, each writer on its own stream
// with exact expected versions; the baseline inserts the same bytes with a plain
// single-row INSERT per transaction into a table of the same shape.
func BenchmarkAppend(b *testing.B) {
	const writers, perSide, rounds = 8, 2000, 10
	const perRound = perSide / writers / rounds // events per writer, per side and round
	ctx := context.Background()
	store, pool := newStore(b)
	if _, err := pool.Exec(ctx, `CREATE TABLE raw_events (LIKE watermill_events INCLUDING ALL)`); err != nil {
		b.Fatal(err)
	}
	var versions, rawVersions [writers]int64
	var rows [writers][][]any // the baseline's INSERT arguments
	// prepare encodes the baseline's next rows as Append would, outside the timed part.
	prepare := func(n int) {
		for w := range writers {
			rows[w] = rows[w][:0]
			for range n {
				rawVersions[w]++
				v := rawVersions[w]
				id := uuid.Must(uuid.NewV7()).String()
				payload, _ := json.Marshal(itemAdded{Item: "i" + strconv.FormatInt(v, 10), Count: int(v)})
				metadata, _ := json.Marshal(map[string]string{
					eventstore.MetaEventID: id, eventstore.MetaStreamID: streamOf(w), eventstore.MetaStreamVersion: strconv.FormatInt(v, 10),
					eventstore.MetaEventType: "ItemAdded", eventstore.MetaSchemaVersion: "1",
					eventstore.MetaOccurredAt: time.Now().UTC().Format(time.RFC3339Nano), eventstore.MetaCorrelationID: "",
					eventstore.MetaCausationID: "", eventstore.MetaActor: eventstore.ActorSystem,
				})
				rows[w] = append(rows[w], []any{id, string(payload), string(metadata), streamOf(w), v})
			}
		}
	}
	raw := func(w int) error {
		for _, r := range rows[w] {
			err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
				_, err := tx.Exec(ctx, `INSERT INTO raw_events (uuid, payload, metadata, transaction_id, stream_id, stream_version, event_type)
					VALUES ($1, $2, $3, pg_current_xact_id(), $4, $5, 'ItemAdded')`, r...)
				return err
			})
			if err != nil {
				return err
			}
		}
		return nil
	}
	ours := func(w int) error {
		for range perRound {
			v := versions[w]
			_, err := appendTx(ctx, store, pool, eventstore.Meta{}, eventstore.StreamAppend{
				StreamID: streamOf(w), Expected: eventstore.Exact(v),
				Events: []any{itemAdded{Item: "i" + strconv.FormatInt(v+1, 10), Count: int(v + 1)}},
			})
			if err != nil {
				return err
			}
			versions[w] = v + 1
		}
		return nil
	}
	// A round of each side, untimed, opens the pool's connections and warms the caches.
	prepare(perRound)
	if err := errors.Join(parallel(writers, raw), parallel(writers, ours)); err != nil {
		b.Fatal(err)
	}
	var oursTime, rawTime time.Duration
	for b.Loop() {
		for r := range rounds {
			prepare(perRound)
			turns(r,
				func() { oursTime += timed(b, func() error { return parallel(writers, ours) }) },
				func() { rawTime += timed(b, func() error { return parallel(writers, raw) }) })
		}
	}
	events := float64(b.N * perSide) // b.N counts the iterations once b.Loop is done
	report(b, events/oursTime.Seconds(), events/rawTime.Seconds(), "raw-events/s", "ratio")
}

func streamOf(w int) string { return "bench-" + strconv.Itoa(w) }

// BenchmarkReadAll pages through a log of a million events; the baseline is one plain
// streamed SELECT of the same columns in the same order, scanned into raw values.
func BenchmarkReadAll(b *testing.B) {
	const total = 1_000_000
	ctx := context.Background()
	store, pool := newStore(b)
	fillLog(b, pool, total)
	if _, err := testdb.ScanLog(ctx, pool); err != nil { // warms the page cache for both sides
		b.Fatal(err)
	}
	for _, page := range []int{1000, 5000, 20000} {
		b.Run(fmt.Sprintf("page=%d", page), func(b *testing.B) {
			var oursTime, rawTime time.Duration
			for reads := 0; b.Loop(); reads++ {
				turns(reads,
					func() { oursTime += timedRead(b, total, func() (int, error) { return readPages(ctx, store, page) }) },
					func() { rawTime += timedRead(b, total, func() (int, error) { return testdb.ScanLog(ctx, pool) }) })
			}
			n := float64(b.N * total)
			report(b, n/oursTime.Seconds(), n/rawTime.Seconds(), "raw-events/s", "ratio")
		})
	}
}

func readPages(ctx context.Context, store *eventstore.Store, page int) (int, error) {
	var after eventstore.Position
	n := 0
	for {
		envs, err := store.ReadAll(ctx, after, page)
		if err != nil {
			return n, err
		}
		n += len(envs)
		if len(envs) < page {
			return n, nil
		}
		after = envs[len(envs)-1].Position
	}
}

// BenchmarkSubscriberCatchUp consumes a backlog of 200 000 events with an ack-only
// handler, a fresh consumer group each time; the baseline is watermill-sql's stock
// Postgres schema (its OR-form select) at the same batch size on the same table, for
// at most 5 000 events or 5 seconds.
func BenchmarkSubscriberCatchUp(b *testing.B) {
	const backlog, stockEvents, stockTime = 200_000, 5000, 5 * time.Second
	store, pool := newStore(b)
	fillLog(b, pool, backlog)
	for _, batch := range []int{100, 1000} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			var oursTime, stockTotal time.Duration
			stockN := 0
			for runs := 1; b.Loop(); runs++ {
				group := fmt.Sprintf("bench-%d-%d", batch, runs)
				sub, err := store.Subscriber(eventstore.SubscriberConfig{ConsumerGroup: group, BatchSize: batch})
				if err != nil {
					b.Fatal(err)
				}
				stock, err := wsql.NewSubscriber(wsql.BeginnerFromPgx(pool), wsql.SubscriberConfig{
					ConsumerGroup:  "stock-" + group,
					PollInterval:   10 * time.Millisecond,
					SchemaAdapter:  wsql.DefaultPostgreSQLSchema{SubscribeBatchSize: batch},
					OffsetsAdapter: wsql.DefaultPostgreSQLOffsetsAdapter{},
				}, nil)
				if err != nil {
					b.Fatal(err)
				}
				turns(runs,
					func() { _, d := consume(b, sub, backlog, 0); oursTime += d },
					func() { n, d := consume(b, stock, stockEvents, stockTime); stockN += n; stockTotal += d })
			}
			report(b, float64(b.N*backlog)/oursTime.Seconds(), float64(stockN)/stockTotal.Seconds(), "stock-events/s", "speedup")
		})
	}
}

// consume subscribes to the log and acks every message until want arrived or, when
// limit is set, limit has passed; it returns the count and the time from subscribing.
func consume(b *testing.B, sub message.Subscriber, want int, limit time.Duration) (int, time.Duration) {
	defer sub.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := time.Now()
	messages, err := sub.Subscribe(ctx, eventstore.Topic)
	if err != nil {
		b.Fatal(err)
	}
	var deadline <-chan time.Time
	if limit > 0 {
		deadline = time.After(limit)
	}
	for n := 0; n < want; {
		select {
		case msg, ok := <-messages:
			if !ok {
				b.Fatalf("subscription closed after %d of %d events", n, want)
			}
			msg.Ack()
			n++
		case <-deadline:
			return n, time.Since(start)
		}
	}
	return want, time.Since(start)
}

// fillLog writes n ItemAdded events over 1000 streams straight in SQL, in ten
// transactions, with the metadata Append writes; it returns once readers see them all.
func fillLog(b *testing.B, pool *pgxpool.Pool, n int) {
	ctx := context.Background()
	const chunks = 10
	for i := range chunks {
		_, err := pool.Exec(ctx, `
			INSERT INTO watermill_events (uuid, payload, metadata, transaction_id, stream_id, stream_version, event_type)
			SELECT id, format('{"item":"i%s","count":%s}', n, n)::json,
				format('{"actor":"system","causation_id":"","correlation_id":"","event_id":"%s","event_type":"ItemAdded",'
					'"occurred_at":"%s","schema_version":"1","stream_id":"%s","stream_version":"%s"}',
					id, to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), stream, version)::json,
				pg_current_xact_id(), stream, version, 'ItemAdded'
			FROM (SELECT n, gen_random_uuid()::text AS id, 'bench-' || (n - 1) % 1000 AS stream, (n - 1) / 1000 + 1 AS version
				FROM generate_series($1::bigint, $2::bigint) AS n) AS s`, i*n/chunks+1, (i+1)*n/chunks)
		if err != nil {
			b.Fatal(err)
		}
	}
	if _, err := pool.Exec(ctx, `VACUUM ANALYZE watermill_events`); err != nil {
		b.Fatal(err)
	}
	for visible := 0; visible < n; time.Sleep(10 * time.Millisecond) {
		err := pool.QueryRow(ctx, `SELECT count(*) FROM watermill_events
			WHERE transaction_id < pg_snapshot_xmin(pg_current_snapshot())`).Scan(&visible)
		if err != nil {
			b.Fatal(err)
		}
	}
}

// turns runs a then b, or b then a when i is odd, so neither side always goes first.
func turns(i int, a, b func()) {
	if i%2 == 1 {
		a, b = b, a
	}
	a()
	b()
}

// parallel runs f for writers 0..n-1 at once and joins their errors.
func parallel(n int, f func(w int) error) error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for w := range n {
		wg.Go(func() { errs[w] = f(w) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

func timed(b *testing.B, f func() error) time.Duration {
	start := time.Now()
	if err := f(); err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}

func timedRead(b *testing.B, want int, f func() (int, error)) time.Duration {
	start := time.Now()
	if n, err := f(); err != nil || n != want {
		b.Fatalf("read %d of %d events: %v", n, want, err)
	}
	return time.Since(start)
}

func report(b *testing.B, ours, base float64, baseUnit, ratioUnit string) {
	b.ReportMetric(ours, "events/s")
	b.ReportMetric(base, baseUnit)
	b.ReportMetric(ours/base, ratioUnit)
}

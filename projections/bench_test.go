package projections

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/supermock/engine/domain"
	"github.com/supermock/engine/internal/demo"
	"github.com/supermock/engine/internal/eventlog"
	"github.com/supermock/engine/internal/testdb"
	"github.com/supermock/engine/projections/matchmaker"
	"github.com/supermock/engine/projections/notifier"
)

// BenchmarkRebuildAll rebuilds every projection from a generated history of a million
// events; the baseline in the same run is one COPY of the log's rows to nowhere, the
// least any rebuild must read.
func BenchmarkRebuildAll(b *testing.B) {
	const total = 1_000_000
	ctx := context.Background()
	e := newEnv(b)
	start := time.Now()
	n := e.generate(b, demo.Config{Users: 60_000, Seed: 11, Days: 30, MaxEvents: total, FlushEvery: 5000})
	b.Logf("%d events generated in %s", n, time.Since(start))
	if _, err := e.pool.Exec(ctx, `VACUUM ANALYZE watermill_events`); err != nil {
		b.Fatal(err)
	}
	copyLog := func() error {
		conn, err := e.pool.Acquire(ctx)
		if err != nil {
			return err
		}
		defer conn.Release()
		_, err = conn.Conn().PgConn().CopyTo(ctx, io.Discard, `COPY (SELECT transaction_id, "offset", uuid, payload, metadata,
			stream_id, stream_version, event_type FROM watermill_events ORDER BY transaction_id, "offset") TO STDOUT`)
		return err
	}
	if err := copyLog(); err != nil { // warms the cache for both sides
		b.Fatal(err)
	}
	var ours, raw time.Duration
	rounds := 0
	for b.Loop() {
		sides := []func(){
			func() {
				t := time.Now()
				if err := e.rebuild(b, ctx, RebuildConfig{}); err != nil {
					b.Fatal(err)
				}
				ours += time.Since(t)
			},
			func() {
				t := time.Now()
				if err := copyLog(); err != nil {
					b.Fatal(err)
				}
				raw += time.Since(t)
			},
		}
		sides[rounds%2]()
		sides[1-rounds%2]()
		rounds++
	}
	b.ReportMetric(ours.Seconds()/float64(rounds), "rebuild-s")
	b.ReportMetric(float64(n*rounds)/ours.Seconds(), "events/s")
	b.ReportMetric(raw.Seconds()/float64(rounds), "copy-s")
	b.ReportMetric(float64(n*rounds)/raw.Seconds(), "copy-events/s")
	b.ReportMetric(ours.Seconds()/raw.Seconds(), "rebuild/copy")
}

// BenchmarkReplayNDJSON replays a generated history of 300 000 events as NDJSON to
// nowhere; the baseline in the same run is one plain streamed SELECT of the same
// columns in the same order, scanned into raw values.
func BenchmarkReplayNDJSON(b *testing.B) {
	const total = 300_000
	ctx := context.Background()
	e := newEnv(b)
	n := e.generate(b, demo.Config{Users: 20_000, Seed: 12, Days: 30, MaxEvents: total, FlushEvery: 5000})
	if _, err := e.pool.Exec(ctx, `VACUUM ANALYZE watermill_events`); err != nil {
		b.Fatal(err)
	}
	waitVisible(b, e)
	selectLog := func() (int, error) { return testdb.ScanLog(ctx, e.pool) }
	replayLog := func() (int, error) {
		res, err := Replay(ctx, e.store, io.Discard, ReplayFilter{}, FormatNDJSON)
		return int(res.Events), err
	}
	if _, err := selectLog(); err != nil { // warms the cache for both sides
		b.Fatal(err)
	}
	var ours, raw time.Duration
	timedRead := func(read func() (int, error)) time.Duration {
		start := time.Now()
		if got, err := read(); err != nil || got != n {
			b.Fatalf("read %d of %d events: %v", got, n, err)
		}
		return time.Since(start)
	}
	for i := 0; b.Loop(); i++ {
		if i%2 == 0 {
			ours += timedRead(replayLog)
			raw += timedRead(selectLog)
		} else {
			raw += timedRead(selectLog)
			ours += timedRead(replayLog)
		}
	}
	events := float64(b.N * n)
	b.ReportMetric(events/ours.Seconds(), "events/s")
	b.ReportMetric(events/raw.Seconds(), "select-events/s")
	b.ReportMetric(raw.Seconds()/ours.Seconds(), "ratio")
}

// BenchmarkLiveLag appends 1 000 events/s (registrations: a Telegram claim and a
// UserRegistered each) for 10 s with every consumer running (the projections, the
// matchmaker, the notifier), and measures from each
// append's commit to its row being visible in users.
func BenchmarkLiveLag(b *testing.B) {
	const rate, seconds, writers = 1000, 10, 4
	ctx := context.Background()
	e := newEnv(b)
	e.startRunner(b, All(), nil)
	log, err := eventlog.New(e.pool)
	if err != nil {
		b.Fatal(err)
	}
	clock := domain.ClockFunc(time.Now)
	svc, err := domain.NewService(log, domain.Config{Clock: clock})
	if err != nil {
		b.Fatal(err)
	}
	// Every other consumer of the log runs too, as in serve: each group's batch
	// transactions hold pg_snapshot_xmin back for all the others.
	notif, err := notifier.New(log, notifier.Config{Clock: clock})
	if err != nil {
		b.Fatal(err)
	}
	othersCtx, stopOthers := context.WithCancel(ctx)
	var others sync.WaitGroup
	others.Add(2)
	go func() { defer others.Done(); _ = notif.Run(othersCtx) }()
	go func() {
		defer others.Done()
		_ = matchmaker.New(log, clock, svc.InterviewDuration(), slog.New(slog.DiscardHandler)).Run(othersCtx)
	}()
	defer func() { stopOthers(); others.Wait() }()
	var all []time.Duration
	for b.Loop() {
		var mu sync.Mutex
		committed := map[int64]time.Time{}
		visible := map[int64]time.Time{}
		base := int64(len(all)) * 1_000_000
		runCtx, stop := context.WithCancel(ctx)
		var watch sync.WaitGroup
		watch.Add(1)
		go func() { // looks for the rows of committed registrations every 2 ms
			defer watch.Done()
			for runCtx.Err() == nil {
				mu.Lock()
				var pending []int64
				for id := range committed {
					if _, ok := visible[id]; !ok {
						pending = append(pending, id)
					}
				}
				mu.Unlock()
				rows, err := e.pool.Query(ctx, `SELECT telegram_id FROM users WHERE telegram_id = ANY($1)`, pending)
				if err != nil {
					b.Error(err)
					return
				}
				now := time.Now()
				mu.Lock()
				for rows.Next() {
					var id int64
					_ = rows.Scan(&id)
					visible[id] = now
				}
				mu.Unlock()
				rows.Close()
				time.Sleep(2 * time.Millisecond)
			}
		}()
		var wg sync.WaitGroup
		per := rate / 2 / writers // registrations per writer and second
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				tick := time.NewTicker(time.Second / time.Duration(per))
				defer tick.Stop()
				for i := range per * seconds {
					<-tick.C
					id := base + int64(i*writers+w) + 1
					if _, err := svc.RegisterFromTelegram(ctx, domain.Meta{}, domain.TelegramLogin{TelegramID: id, FirstName: "Lag"}); err != nil {
						b.Error(err)
						return
					}
					mu.Lock()
					committed[id] = time.Now()
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		time.Sleep(time.Second)
		stop()
		watch.Wait()
		for id, c := range committed {
			v, ok := visible[id]
			if !ok {
				b.Fatalf("registration %d never became visible", id)
			}
			all = append(all, max(v.Sub(c), 0))
		}
	}
	slices.Sort(all)
	q := func(p float64) time.Duration { return all[min(len(all)-1, int(p*float64(len(all))))] }
	b.ReportMetric(float64(q(0.5).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(q(0.99).Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(q(1).Microseconds())/1000, "max-ms")
	b.Logf("lag over %d registrations: p50 %s p99 %s max %s", len(all), q(0.5), q(0.99), q(1))
}

// BenchmarkReplayParquet exports a generated history (PARQUET_BENCH_EVENTS, default
// 1 000 000) into one Parquet file per event type; the NDJSON replay of the same history
// to a file in the same run is the baseline, for the rate and for the size.
func BenchmarkReplayParquet(b *testing.B) {
	total := 1_000_000
	if n, err := strconv.Atoi(os.Getenv("PARQUET_BENCH_EVENTS")); err == nil && n > 0 {
		total = n
	}
	ctx := context.Background()
	e := newEnv(b)
	start := time.Now()
	n := e.generate(b, demo.Config{Users: total / 16, Seed: 13, Days: 30, MaxEvents: total, FlushEvery: 5000})
	b.Logf("%d events generated in %s", n, time.Since(start))
	if _, err := e.pool.Exec(ctx, `VACUUM ANALYZE watermill_events`); err != nil {
		b.Fatal(err)
	}
	waitVisible(b, e)
	dir := b.TempDir()
	var parquetTime, ndjsonTime time.Duration
	var parquetBytes, ndjsonBytes int64
	export := func() {
		out := filepath.Join(dir, "parquet")
		if err := os.RemoveAll(out); err != nil {
			b.Fatal(err)
		}
		if err := os.Mkdir(out, 0o755); err != nil {
			b.Fatal(err)
		}
		t := time.Now()
		res, files, err := ReplayParquet(ctx, e.store, out, ReplayFilter{})
		if err != nil || res.Events != int64(n) {
			b.Fatalf("exported %d of %d events: %v", res.Events, n, err)
		}
		parquetTime += time.Since(t)
		parquetBytes = 0
		for _, f := range files {
			st, err := os.Stat(f.Path)
			if err != nil {
				b.Fatal(err)
			}
			parquetBytes += st.Size()
		}
	}
	ndjson := func() {
		file, err := os.Create(filepath.Join(dir, "events.ndjson"))
		if err != nil {
			b.Fatal(err)
		}
		defer file.Close()
		t := time.Now()
		if res, err := Replay(ctx, e.store, file, ReplayFilter{}, FormatNDJSON); err != nil || res.Events != int64(n) {
			b.Fatalf("replayed %d of %d events: %v", res.Events, n, err)
		}
		ndjsonTime += time.Since(t)
		st, err := file.Stat()
		if err != nil {
			b.Fatal(err)
		}
		ndjsonBytes = st.Size()
	}
	for i := 0; b.Loop(); i++ {
		if i%2 == 0 {
			export()
			ndjson()
		} else {
			ndjson()
			export()
		}
	}
	events := float64(b.N * n)
	b.ReportMetric(events/parquetTime.Seconds(), "events/s")
	b.ReportMetric(events/ndjsonTime.Seconds(), "ndjson-events/s")
	b.ReportMetric(float64(parquetBytes)/(1<<20), "parquet-MiB")
	b.ReportMetric(float64(ndjsonBytes)/(1<<20), "ndjson-MiB")
	b.ReportMetric(float64(parquetBytes)/float64(ndjsonBytes), "size-ratio")
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	nethttp "net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/supermock/engine/internal/pglocal"
)

const (
	e2eConns       = 64   // keep-alive connections, one request in flight each; as many baseline clients
	e2eShortUsers  = 2048 // one join+leave each: streams of three events
	e2eLongUsers   = 64
	e2eLongHistory = 500  // join+leave pairs of each long user before the measured ones: ~1 000 events
	e2eLongRounds  = 32   // measured join+leave pairs of each long user
	e2eBaseline    = 4096 // transactions of each raw baseline run
)

// BenchmarkEndToEnd runs the real binary (serve, every consumer of the log running) on
// a durable private PostgreSQL (fsync on) and times join+leave through HTTP at 64
// keep-alive connections, for users with short histories and then for users with
// ~1 000 events each; every request is one command. Beside each, in the same run and
// on the same server, the raw baseline: 64 clients each running one transaction that
// reads a stream (its newest version) and inserts its next event.
//
//	go test -run '^$' -bench EndToEnd -benchtime=1x [-engine.cpuprofile FILE] .
func BenchmarkEndToEnd(b *testing.B) {
	ctx := context.Background()
	server, err := pglocal.Start(ctx, b.TempDir(), pglocal.Options{}) // durable: fsync on
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = server.Stop()
		_ = os.RemoveAll(server.DataDir())
	})
	url := server.URL("postgres")
	engine := startBinary(b, url, "APP_ENV=development", "JWT_SECRET="+strings.Repeat("e2e-benchmark-", 4),
		"RATE_LIMIT_MAX_REQUESTS=1000000000", "RATE_LIMIT_QUERY_MAX_REQUESTS=1000000000", fmt.Sprintf("PPROF=%t", *engineProfile != ""))
	pool, err := pgxpool.New(ctx, url+"&pool_max_conns="+fmt.Sprint(e2eConns))
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Close()
	client := &nethttp.Client{Timeout: 30 * time.Second, Transport: &nethttp.Transport{
		MaxConnsPerHost: e2eConns, MaxIdleConnsPerHost: e2eConns, DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
	}}
	defer client.CloseIdleConnections()
	load := loadAverage()
	short := logins(b, client, engine.api, 1, e2eShortUsers)
	long := logins(b, client, engine.api, 1_000_000, e2eLongUsers)
	// CPU per command holds better than rates on a loaded machine: the engine's, and
	// that of every backend of the database (the baseline's own among them); beside
	// it, the transactions the server committed per command, and the write
	// transactions among them (transaction ids).
	type costs struct{ engine, backends, xacts, xids float64 }
	counters := func() (xacts, xids int64) {
		if err := pool.QueryRow(ctx, `SELECT pg_stat_clear_snapshot()::text, (SELECT xact_commit + xact_rollback FROM pg_stat_database
			WHERE datname = current_database()), pg_current_xact_id()::text::bigint`).Scan(new(string), &xacts, &xids); err != nil {
			b.Fatal(err)
		}
		return xacts, xids
	}
	measure := func(run func() timedRun) (timedRun, costs) {
		pids := backends(b, pool)
		engineBefore, backendsBefore := cpuTicks(engine.pid), cpuTicks(pids...)
		xactsBefore, xidsBefore := counters()
		r := run()
		time.Sleep(time.Second) // the consumers' last batches, and the statistics' next report
		xactsAfter, xidsAfter := counters()
		n := float64(len(r.latencies))
		return r, costs{engine: float64(cpuTicks(engine.pid)-engineBefore) * 10 / n, backends: float64(cpuTicks(pids...)-backendsBefore) * 10 / n,
			xacts: float64(xactsAfter-xactsBefore) / n, xids: float64(xidsAfter-xidsBefore) / n}
	}
	for b.Loop() {
		base, baseCosts := measure(func() timedRun { return rawBaseline(b, pool, e2eBaseline, e2eConns) })
		s, sCosts := measure(func() timedRun {
			defer profileEngine(b, engine)()
			return joinLeave(b, client, engine.api, short, 1)
		})
		joinLeave(b, client, engine.api, long, e2eLongHistory)
		baseLong, baseLongCosts := measure(func() timedRun { return rawBaseline(b, pool, e2eBaseline, e2eConns) })
		l, lCosts := measure(func() timedRun { return joinLeave(b, client, engine.api, long, e2eLongRounds) })
		for _, r := range []struct {
			name string
			run  timedRun
			costs
		}{{"short", s, sCosts}, {"long", l, lCosts}, {"baseline", base, baseCosts}, {"baseline-long", baseLong, baseLongCosts}} {
			b.ReportMetric(r.run.rate(), r.name+"-cmd/s")
			b.ReportMetric(r.run.percentile(0.50), r.name+"-p50-ms")
			b.ReportMetric(r.run.percentile(0.99), r.name+"-p99-ms")
			if r.engine > 0 {
				b.ReportMetric(r.engine, r.name+"-engine-cpu-ms/cmd")
			}
			b.ReportMetric(r.backends, r.name+"-backends-cpu-ms/cmd")
			b.ReportMetric(r.xacts, r.name+"-xacts/cmd")
			b.ReportMetric(r.xids, r.name+"-xids/cmd")
		}
		b.ReportMetric(s.rate()/base.rate(), "short/baseline")
		b.ReportMetric(l.rate()/baseLong.rate(), "long/baseline")
	}
	b.ReportMetric(0, "ns/op")
	b.Logf("load average %s before, %s after", load, loadAverage())
}

var engineProfile = flag.String("engine.cpuprofile", "", "write a CPU profile of the engine over the first 5 s of BenchmarkEndToEnd's short run to this file")

// profileEngine starts a CPU profile of the first 5 s of the engine's next work when
// -engine.cpuprofile asks for one; the function it returns waits for the file.
func profileEngine(b *testing.B, engine binary) (wait func()) {
	if *engineProfile == "" {
		return func() {}
	}
	done := make(chan error, 1)
	go func() {
		resp, err := nethttp.Get(engine.metrics + "/debug/pprof/profile?seconds=5")
		if err != nil {
			done <- err
			return
		}
		defer resp.Body.Close()
		f, err := os.Create(*engineProfile)
		if err == nil {
			_, err = io.Copy(f, resp.Body)
			err = errors.Join(err, f.Close())
		}
		done <- err
	}()
	return func() {
		if err := <-done; err != nil {
			b.Fatal(err)
		}
	}
}

// timedRun is the latencies of one run's commands and how long it took.
type timedRun struct {
	elapsed   time.Duration
	latencies []time.Duration
}

func (r timedRun) rate() float64 { return float64(len(r.latencies)) / r.elapsed.Seconds() }

// percentile is in milliseconds.
func (r timedRun) percentile(p float64) float64 {
	sorted := slices.Sorted(slices.Values(r.latencies))
	return float64(sorted[min(len(sorted)-1, int(float64(len(sorted))*p))].Microseconds()) / 1000
}

// concurrently runs work(w) for w in [0, n) at once and gathers what each timed.
func concurrently(b *testing.B, n int, work func(w int) ([]time.Duration, error)) timedRun {
	b.Helper()
	lat := make([][]time.Duration, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	began := time.Now()
	for w := range n {
		wg.Go(func() { lat[w], errs[w] = work(w) })
	}
	wg.Wait()
	r := timedRun{elapsed: time.Since(began), latencies: slices.Concat(lat...)}
	for _, err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
	return r
}

// logins registers n users through the development login, Telegram ids from first on,
// and returns their session tokens.
func logins(b *testing.B, client *nethttp.Client, api string, first int64, n int) []string {
	tokens := make([]string, n)
	concurrently(b, e2eConns, func(w int) ([]time.Duration, error) {
		for i := w; i < n; i += e2eConns {
			var out struct{ Token string }
			body := fmt.Sprintf(`{"telegram_id": %d, "username": "e2e%d", "first_name": "Load"}`, first+int64(i), i)
			if err := send(client, "POST", api+"/api/auth/dev", "", body, 201, &out); err != nil {
				return nil, err
			}
			tokens[i] = out.Token
		}
		return nil, nil
	})
	return tokens
}

// joinLeave has each connection take its share of the users (connection w the users
// w, w+64, …) and run rounds of one join and one leave for each in turn, so no two
// requests of a user are in flight together; each request is timed.
func joinLeave(b *testing.B, client *nethttp.Client, api string, tokens []string, rounds int) timedRun {
	day := time.Now().UTC().Truncate(time.Hour).Add(24 * time.Hour)
	join := fmt.Sprintf(`{"role": "candidate", "profession": "backend-developer", "language": "en", "window_start": %q, "window_end": %q}`,
		day.Format(time.RFC3339), day.Add(2*time.Hour).Format(time.RFC3339))
	return concurrently(b, e2eConns, func(w int) ([]time.Duration, error) {
		var lat []time.Duration
		for range rounds {
			for i := w; i < len(tokens); i += e2eConns {
				sent := time.Now()
				var entry struct{ ID string }
				if err := send(client, "POST", api+"/api/queue", tokens[i], join, 201, &entry); err != nil {
					return nil, err
				}
				left := time.Now()
				if err := send(client, "DELETE", api+"/api/queue/"+entry.ID, tokens[i], "", 200, nil); err != nil {
					return nil, err
				}
				lat = append(lat, left.Sub(sent), time.Since(left))
			}
		}
		return lat, nil
	})
}

// send makes one request and decodes its answer into out when out is not nil; an
// answer other than want is an error.
func send(client *nethttp.Client, method, url, token, body string, want int, out any) error {
	req, err := nethttp.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var answer bytes.Buffer
	if _, err := answer.ReadFrom(resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: %d %s", method, url, resp.StatusCode, answer.Bytes())
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(answer.Bytes(), out)
}

// rawBaseline runs n transactions from clients clients, each on its own stream: read
// the stream's newest version, insert the next event with a payload of an event's
// size, commit.
func rawBaseline(b *testing.B, pool *pgxpool.Pool, n, clients int) timedRun {
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `DROP TABLE IF EXISTS e2e_baseline;
		CREATE TABLE e2e_baseline (stream_id text, version bigint, payload jsonb NOT NULL, PRIMARY KEY (stream_id, version))`); err != nil {
		b.Fatal(err)
	}
	payload := fmt.Sprintf(`{"entry_id": "%s", "role": "candidate", "profession": "backend-developer", "language": "en", "window_start": "%s", "window_end": "%s"}`,
		"0b5d1c8e-2f4a-4e1b-9c3d-7a6f5e4d3c2b", time.Now().Format(time.RFC3339), time.Now().Format(time.RFC3339))
	return concurrently(b, clients, func(w int) ([]time.Duration, error) {
		stream := fmt.Sprintf("baseline-%d", w)
		var lat []time.Duration
		for range n / clients {
			began := time.Now()
			tx, err := pool.Begin(ctx)
			if err != nil {
				return nil, err
			}
			var version int64
			err = tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM e2e_baseline WHERE stream_id = $1`, stream).Scan(&version)
			if err == nil {
				_, err = tx.Exec(ctx, `INSERT INTO e2e_baseline (stream_id, version, payload) VALUES ($1, $2, $3)`, stream, version+1, payload)
			}
			if err == nil {
				err = tx.Commit(ctx)
			}
			if err != nil {
				_ = tx.Rollback(ctx)
				return nil, err
			}
			lat = append(lat, time.Since(began))
		}
		return lat, nil
	})
}

// loadAverage is the machine's load average over 1, 5 and 15 minutes.
func loadAverage() string {
	raw, _ := os.ReadFile("/proc/loadavg")
	fields := strings.Fields(string(raw))
	return strings.Join(fields[:min(3, len(fields))], " ")
}

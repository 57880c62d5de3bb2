package main

import (
	"context"
	"fmt"
	nethttp "net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/supermock/engine/internal/testdb"
)

// BenchmarkIdle runs the real binary (serve, every consumer of the log running) on an
// empty database for 30 s and measures what it costs while nothing happens: the
// engine's CPU and its PostgreSQL backends' CPU (from /proc), and the transaction ids
// the server hands out (pg_current_xact_id before and after, minus the two readings).
func BenchmarkIdle(b *testing.B) {
	const idle = 30 * time.Second
	url := testdb.NewDatabase(b)
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Close()
	engine := startBinary(b, url).pid
	time.Sleep(3 * time.Second) // start-up: migrations, subscriptions, first polls
	for b.Loop() {
		ctx := context.Background()
		xid := func() int64 {
			var id int64
			if err := pool.QueryRow(ctx, `SELECT pg_current_xact_id()::text::bigint`).Scan(&id); err != nil {
				b.Fatal(err)
			}
			return id
		}
		pids := backends(b, pool)
		engineBefore, backendsBefore := cpuTicks(engine), cpuTicks(pids...)
		xidBefore := xid()
		time.Sleep(idle)
		xidAfter := xid()
		engineAfter, backendsAfter := cpuTicks(engine), cpuTicks(pids...)
		const ticksPerSecond = 100 // USER_HZ
		b.ReportMetric(float64(engineAfter-engineBefore)/ticksPerSecond/idle.Seconds()*100, "engine-cpu-%")
		b.ReportMetric(float64(backendsAfter-backendsBefore)/ticksPerSecond/idle.Seconds()*100, "backends-cpu-%")
		b.ReportMetric(float64(xidAfter-xidBefore-1)/idle.Seconds(), "xids/s")
		b.Logf("%d backends of the engine's database", len(pids))
	}
}

// binary is the engine's binary serving for a benchmark.
type binary struct {
	pid     int
	api     string // base URL of the API
	metrics string // base URL of the metrics port
}

// startBinary builds the engine and serves with it on databaseURL until the benchmark
// ends, the variables in env added to or replacing its environment; it returns once
// the API answers.
func startBinary(b *testing.B, databaseURL string, env ...string) binary {
	b.Helper()
	bin := filepath.Join(b.TempDir(), "supermock")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
	port, metricsPort := freePort(b), freePort(b)
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+databaseURL, "PORT="+strconv.Itoa(port),
		"METRICS_PORT="+strconv.Itoa(metricsPort), "LOG_LEVEL=warn")
	cmd.Env = append(cmd.Env, env...) // the last of a repeated variable wins
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	})
	e := binary{pid: cmd.Process.Pid, api: fmt.Sprintf("http://127.0.0.1:%d", port),
		metrics: fmt.Sprintf("http://127.0.0.1:%d", metricsPort)}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(50 * time.Millisecond) {
		if resp, err := nethttp.Get(e.api + "/api/health"); err == nil {
			resp.Body.Close()
			return e
		}
		if time.Now().After(deadline) {
			b.Fatal("the engine never answered")
		}
	}
}

// backends are the process ids of the server's backends on pool's database, but the
// one that asks.
func backends(b *testing.B, pool *pgxpool.Pool) []int {
	rows, err := pool.Query(context.Background(), `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	var pids []int
	for rows.Next() {
		var pid int
		_ = rows.Scan(&pid)
		pids = append(pids, pid)
	}
	return pids
}

// cpuTicks sums the user and system CPU ticks of the processes, from /proc/<pid>/stat.
func cpuTicks(pids ...int) int64 {
	var total int64
	for _, pid := range pids {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue // a backend that ended meanwhile
		}
		// The fields after the command's closing parenthesis; utime and stime are the
		// 14th and 15th of the line.
		fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		utime, _ := strconv.ParseInt(fields[11], 10, 64)
		stime, _ := strconv.ParseInt(fields[12], 10, 64)
		total += utime + stime
	}
	return total
}

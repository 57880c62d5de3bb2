package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	nethttp "net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/supermock/engine/domain"
	"github.com/supermock/engine/http/auth"
	"github.com/supermock/engine/internal/config"
	"github.com/supermock/engine/internal/testdb"
)

const (
	loadJoins       = 6000            // joins per run: bounded in count
	loadConnections = 64              // concurrent connections, one request in flight each
	loadTimeout     = 2 * time.Minute // bounded in time: a run past it fails
	loadJoinsEach   = domain.MaxWaitingEntries
	// loadPool is the server's pool size: 16 did best on 2 cores (8: 4 900 cmd/s,
	// 16: 6 400, 32: 6 100, 80: 5 500), fewer backends switching on the CPUs.
	loadPool = 16
)

// loadUsers registers enough users for n joins straight through the domain (setup, not
// measured) and signs their session tokens.
func loadUsers(b *testing.B, e *env, first int64, n int) []string {
	b.Helper()
	tokens := make([]string, (n+loadJoinsEach-1)/loadJoinsEach)
	var wg sync.WaitGroup
	var failed atomic.Value
	for w := range 16 {
		wg.Go(func() {
			for i := w; i < len(tokens); i += 16 {
				reg, err := e.svc.RegisterFromTelegram(context.Background(), domain.Meta{Actor: domain.SystemActor},
					domain.TelegramLogin{TelegramID: first + int64(i), Username: fmt.Sprintf("load%d", i), FirstName: "Load"})
				if err != nil {
					failed.Store(err)
					return
				}
				tokens[i] = auth.Sign([]byte(jwtSecret), auth.Claims{Subject: reg.UserID.String(), TelegramID: first + int64(i)},
					time.Now(), time.Hour)
			}
		})
	}
	wg.Wait()
	if err := failed.Load(); err != nil {
		b.Fatal(err)
	}
	return tokens
}

// loadResult is what one run of the generator measured.
type loadResult struct {
	elapsed   time.Duration
	latencies []time.Duration
	failures  int
	firstErr  string
}

// generateJoins sends n joins over conns keep-alive connections to the loopback server,
// each user joining with three windows that do not overlap. Join i is user i mod
// users' (i div users)-th window, so requests in flight together are other users'.
func generateJoins(ctx context.Context, base string, tokens []string, n, conns int) loadResult {
	client := &nethttp.Client{Timeout: 10 * time.Second, Transport: &nethttp.Transport{
		MaxConnsPerHost: conns, MaxIdleConnsPerHost: conns, DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
	}}
	defer client.CloseIdleConnections()
	day := time.Now().UTC().Truncate(time.Hour).Add(24 * time.Hour)
	bodies := make([][]byte, loadJoinsEach)
	for k := range bodies {
		bodies[k], _ = json.Marshal(window("candidate", "backend-developer", day.Add(time.Duration(k)*6*time.Hour), 2*time.Hour))
	}
	next := atomic.Int64{}
	lat := make([][]time.Duration, conns)
	var failures atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	began := time.Now()
	for w := range conns {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				req, _ := nethttp.NewRequestWithContext(ctx, "POST", base+"/api/queue", bytes.NewReader(bodies[i/len(tokens)]))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+tokens[i%len(tokens)])
				sent := time.Now()
				resp, err := client.Do(req)
				if err == nil {
					var buf [512]byte
					m, _ := resp.Body.Read(buf[:])
					resp.Body.Close()
					if resp.StatusCode != 201 {
						err = fmt.Errorf("%d %s", resp.StatusCode, buf[:m])
					}
				}
				lat[w] = append(lat[w], time.Since(sent))
				if err != nil {
					failures.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				}
			}
		})
	}
	wg.Wait()
	r := loadResult{elapsed: time.Since(began), latencies: slices.Concat(lat...), failures: int(failures.Load())}
	r.firstErr, _ = firstErr.Load().(string)
	if ctx.Err() != nil {
		r.failures += n - len(r.latencies)
	}
	return r
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(float64(len(sorted))*p))]
}

// BenchmarkJoinQueueHTTP: POST /api/queue over a loopback port with 64 connections,
// against a real PostgreSQL; the target is ≥ 1 500 commands/s with p99 ≤ 50 ms.
// Each iteration sends 6 000 joins: go test -run '^$' -bench JoinQueueHTTP -benchtime=1x ./http/
func BenchmarkJoinQueueHTTP(b *testing.B) {
	e := start(b, options{poolFromURL: testdb.NewDatabase(b) + "&pool_max_conns=" + strconv.Itoa(loadPool), config: func(c *config.Config) { c.RateLimitMax = 1 << 30 }})
	var all []time.Duration
	var elapsed time.Duration
	for run := 0; b.Loop(); run++ {
		b.StopTimer()
		tokens := loadUsers(b, e, int64(1_000_000+run*loadJoins), loadJoins)
		b.StartTimer()
		ctx, cancel := context.WithTimeout(context.Background(), loadTimeout)
		r := generateJoins(ctx, e.base, tokens, loadJoins, loadConnections)
		cancel()
		if r.failures > 0 {
			b.Fatalf("%d of %d joins failed, first: %s", r.failures, loadJoins, r.firstErr)
		}
		all = append(all, r.latencies...)
		elapsed += r.elapsed
	}
	slices.Sort(all)
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "cmd/s")
	b.ReportMetric(float64(percentile(all, 0.50).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(percentile(all, 0.99).Microseconds())/1000, "p99-ms")
	b.ReportMetric(0, "ns/op")
}

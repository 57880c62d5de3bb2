package http_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"
)

// BenchmarkReadAfterWrite is what an author waits to see a write of theirs: a command
// (PUT /api/me, which answers once the read tables show it) and the read after it
// (GET /api/me, which must show it), with every consumer running. The baseline in the
// same run is the raw SQL of the same two steps: an insert of one row in its own
// transaction and a select of the user's row.
func BenchmarkReadAfterWrite(b *testing.B) {
	e := start(b, options{consumers: true})
	l := e.loginDev(14001)
	ctx := context.Background()
	if _, err := e.pool.Exec(ctx, `CREATE TABLE bench_writes (id bigserial PRIMARY KEY, body jsonb)`); err != nil {
		b.Fatal(err)
	}
	var command, read, raw []time.Duration
	b.ResetTimer()
	for i := range b.N {
		name := fmt.Sprintf("name-%d", i)
		began := time.Now()
		r := e.call("PUT", "/api/me", l.Token, map[string]any{"first_name": name})
		done := time.Now()
		var m struct {
			FirstName string `json:"first_name"`
		}
		got := e.call("GET", "/api/me", l.Token, nil)
		seen := time.Now()
		got.json(b, &m)
		if r.status != 200 || got.status != 200 || m.FirstName != name {
			b.Fatalf("write %s, read %s", r, got)
		}
		command, read = append(command, done.Sub(began)), append(read, seen.Sub(done))

		began = time.Now()
		if _, err := e.pool.Exec(ctx, `INSERT INTO bench_writes (body) VALUES ($1)`, `{"first_name":"`+name+`"}`); err != nil {
			b.Fatal(err)
		}
		var id string
		if err := e.pool.QueryRow(ctx, `SELECT user_id::text FROM users WHERE user_id = $1`, l.User.ID).Scan(&id); err != nil {
			b.Fatal(err)
		}
		raw = append(raw, time.Since(began))
	}
	b.StopTimer()
	p := func(d []time.Duration, q float64) float64 {
		slices.Sort(d)
		return float64(d[int(q*float64(len(d)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(p(command, 0.99), "command-p99-ms")
	b.ReportMetric(p(read, 0.99), "read-p99-ms")
	b.ReportMetric(p(raw, 0.99), "raw-sql-p99-ms")
	b.ReportMetric(p(command, 0.5), "command-p50-ms")
	b.ReportMetric(p(read, 0.5), "read-p50-ms")
}

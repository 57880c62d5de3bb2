package projections

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/supermock/engine/internal/demo"
)

func TestStatusShowsPositionAndLagAndTheGaugesFollow(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	n := e.generate(t, demo.Config{Users: 40, Seed: 6, Days: 3})
	ctx := context.Background()
	waitVisible(t, e)
	time.Sleep(50 * time.Millisecond) // the generated events age a little
	before, err := Statuses(ctx, e.pool, e.store, All())
	if err != nil {
		t.Fatal(err)
	}
	if len(before) != len(All()) || before[0].Name != "users" {
		t.Fatalf("statuses: %+v", before)
	}
	for _, s := range before {
		if s.LagEvents != int64(n) || s.LagSeconds <= 0 || s.Position.Offset != 0 || s.EventsApplied != 0 {
			t.Errorf("status before any processing: %+v (log of %d events)", s, n)
		}
	}
	reg := prometheus.NewPedanticRegistry()
	collector := NewCollector(e.pool, e.store, All())
	collector.ttl = 0 // every scrape reads anew: the test looks at the lag before and after
	reg.MustRegister(collector)
	if got := testutil.CollectAndCount(reg, "supermock_projection_lag_events"); got != len(All()) {
		t.Errorf("%d lag gauges, want %d", got, len(All()))
	}

	e.startRunner(t, All(), nil)
	e.waitCaughtUp(t, All(), 5*time.Minute)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		after, err := Statuses(ctx, e.pool, e.store, All())
		if err != nil {
			t.Fatal(err)
		}
		last, _ := lastCommitted(ctx, e)
		behind := ""
		for _, s := range after {
			ps, _ := Select(s.Name)
			want := int64(countEvents(t, e, handledTypes(ps[0])...))
			if s.LagEvents != 0 || s.LagSeconds != 0 || s.Position != last || s.EventsApplied != want || s.UpdatedAt.IsZero() || s.LastEventAt.IsZero() {
				behind += "\n" + s.Name
			}
		}
		if behind == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("status after catching up: %+v\n(last committed %s) wrong:%s", after, last, behind)
		}
		time.Sleep(50 * time.Millisecond)
	}
	want := ""
	for _, p := range All() {
		want += `supermock_projection_lag_events{projection="` + p.Name() + `"} 0` + "\n"
	}
	if err := testutil.CollectAndCompare(reg, strings.NewReader("# HELP supermock_projection_lag_events Visible events the projection has not gone through yet.\n# TYPE supermock_projection_lag_events gauge\n"+want),
		"supermock_projection_lag_events"); err != nil {
		t.Error(err)
	}
}

func TestRebuildRateAndETA(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	r := RebuildStatus{Running: true, Done: 250_000, Total: 1_000_000, StartedAt: start, UpdatedAt: start.Add(5 * time.Second)}
	if r.Rate() != 50_000 || r.ETA() != 15*time.Second {
		t.Fatalf("a quarter done in 5 s: %v events/s, ETA %s; want 50000 and 15s", r.Rate(), r.ETA())
	}
	if fresh := (RebuildStatus{Total: 10, StartedAt: start, UpdatedAt: start}); fresh.Rate() != 0 || fresh.ETA() != 0 {
		t.Fatalf("a rebuild that has not begun: %v, %s", fresh.Rate(), fresh.ETA())
	}
}

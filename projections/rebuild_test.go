package projections

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/supermock/engine/domain"
	"github.com/supermock/engine/internal/demo"
	"github.com/supermock/engine/internal/eventlog"
)

func (e env) rebuild(t testing.TB, ctx context.Context, cfg RebuildConfig, names ...string) error {
	t.Helper()
	ps, err := Select(names...)
	if err != nil {
		t.Fatal(err)
	}
	return Rebuild(ctx, e.pool, e.store, ps, cfg)
}

// Live processing and a rebuild from position zero give the same rows.
func TestRebuildAllGivesTheRowsLiveProcessingGave(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	start := time.Now()
	n := e.generate(t, demo.Config{Users: 2500, Seed: 3, Days: 10, MaxEvents: 50_000})
	if n < 50_000 {
		t.Fatalf("the history has %d events, want 50 000", n)
	}
	t.Logf("%d events generated in %s", n, time.Since(start))
	start = time.Now()
	e.startRunner(t, All(), nil)
	e.waitCaughtUp(t, All(), 15*time.Minute)
	t.Logf("live projections caught up in %s", time.Since(start))
	checkApplied(t, e)
	before := dumpAll(t, e)

	start = time.Now()
	var last Progress
	err := e.rebuild(t, context.Background(), RebuildConfig{Progress: func(p Progress) { last = p }})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("rebuilt in %s: %+v", time.Since(start), last)
	if last.Phase != "done" || last.Done < int64(n) || last.Total != last.Done {
		t.Errorf("final progress %+v, want done with %d of %d events", last, n, n)
	}
	sameRows(t, "rebuilt tables", before, dumpAll(t, e))
	checkApplied(t, e)
	var shadows int
	if err := e.pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_tables WHERE tablename LIKE '%\_\_rebuild'`).Scan(&shadows); err != nil || shadows != 0 {
		t.Errorf("%d shadow tables left after a rebuild (%v)", shadows, err)
	}
}

// While writers append and readers query, interview_queue is rebuilt: no read fails or
// sees fewer entries than before, and the table ends as a fresh rebuild makes it.
func TestRebuildUnderLoadKeepsTheTableReadable(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.generate(t, demo.Config{Users: 300, Seed: 4, Days: 5})
	e.startRunner(t, All(), nil)
	e.waitCaughtUp(t, All(), 5*time.Minute)

	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var joins, reads atomic.Int64
	errs := make(chan error, 16)
	log, err := eventlog.New(e.pool)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := domain.NewService(log, domain.Config{Clock: domain.ClockFunc(time.Now)})
	if err != nil {
		t.Fatal(err)
	}
	for w := range 3 { // writers: new users join the queue
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Not cancelled by ctx: a commit cut short by a cancelled context may still
			// land after the writer has returned.
			bg := context.Background()
			for i := 0; ctx.Err() == nil; i++ {
				reg, err := svc.RegisterFromTelegram(bg, domain.Meta{}, domain.TelegramLogin{TelegramID: int64(900_000 + w*100_000 + i), FirstName: "Writer"})
				if err == nil {
					start := time.Now().Add(time.Duration(1+i%48) * time.Hour)
					_, _, err = svc.JoinQueue(bg, domain.Meta{}, reg.UserID, domain.QueueInput{Role: "candidate",
						Profession: "backend-developer", Language: "en", WindowStart: start, WindowEnd: start.Add(2 * time.Hour)})
				}
				if err != nil {
					errs <- fmt.Errorf("writer: %w", err)
					return
				}
				joins.Add(1)
			}
		}()
	}
	for range 3 { // readers: the table is always there and never loses an entry
		wg.Add(1)
		go func() {
			defer wg.Done()
			var last int64
			for ctx.Err() == nil {
				var n, waiting int64
				err := e.pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE status = 'waiting') FROM interview_queue`).Scan(&n, &waiting)
				if ctx.Err() != nil {
					return
				}
				if err != nil {
					errs <- fmt.Errorf("reader: %w", err)
					return
				}
				if n < last {
					errs <- fmt.Errorf("reader saw %d entries after %d", n, last)
					return
				}
				last = n
				reads.Add(1)
			}
		}()
	}
	time.Sleep(200 * time.Millisecond)
	readsBefore := reads.Load()
	if err := e.rebuild(t, context.Background(), RebuildConfig{PageSize: 300}, "interview_queue"); err != nil {
		t.Fatal(err)
	}
	readsDuring := reads.Load() - readsBefore
	time.Sleep(200 * time.Millisecond)
	stop()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if readsDuring < 10 || joins.Load() < 10 {
		t.Fatalf("too little load to tell: %d reads during the rebuild, %d joins", readsDuring, joins.Load())
	}
	t.Logf("%d joins, %d reads during the rebuild", joins.Load(), readsDuring)

	e.waitCaughtUp(t, All(), 5*time.Minute)
	live := dump(t, e.pool, "interview_queue")
	if err := e.rebuild(t, context.Background(), RebuildConfig{}, "interview_queue"); err != nil {
		t.Fatal(err)
	}
	sameRows(t, "after the rebuild under load", map[string][]string{"interview_queue": live},
		map[string][]string{"interview_queue": dump(t, e.pool, "interview_queue")})
	checkApplied(t, e)
}

// A rebuild killed halfway leaves the live tables as they were; a second rebuild of a
// projection being rebuilt is refused; the next rebuild completes.
func TestAKilledRebuildLeavesTheLiveTablesAndTheNextOneCompletes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.generate(t, demo.Config{Users: 200, Seed: 5, Days: 5})
	e.startRunner(t, All(), nil)
	e.waitCaughtUp(t, All(), 5*time.Minute)
	before := dumpAll(t, e)

	ctx, kill := context.WithCancel(context.Background())
	defer kill()
	var refused error
	var killedAt Progress
	err := e.rebuild(t, ctx, RebuildConfig{PageSize: 200, Progress: func(p Progress) {
		if p.Phase != "building" || p.Done == 0 {
			return
		}
		if refused == nil {
			refused = e.rebuild(t, context.Background(), RebuildConfig{}, "notifications")
			statuses, err := Statuses(context.Background(), e.pool, e.store, All())
			if err != nil {
				t.Error(err)
			}
			for _, s := range statuses {
				if s.Rebuild == nil || !s.Rebuild.Running || s.Rebuild.Done == 0 || s.Rebuild.Total < s.Rebuild.Done {
					t.Errorf("status of %s during its rebuild: %+v", s.Name, s.Rebuild)
				}
			}
		}
		if p.Done >= p.Total/2 && killedAt.Done == 0 {
			killedAt = p
			kill()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("the killed rebuild ended with %v", err)
	}
	var running *RebuildRunningError
	if !errors.Is(refused, ErrRebuildRunning) || !errors.As(refused, &running) || running.Projection != "notifications" {
		t.Errorf("a second rebuild during the first one: %v", refused)
	}
	t.Logf("killed at %d of %d events", killedAt.Done, killedAt.Total)
	sameRows(t, "live tables after a killed rebuild", before, dumpAll(t, e))
	var shadows int
	if err := e.pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_tables WHERE tablename LIKE '%\_\_rebuild'`).Scan(&shadows); err != nil {
		t.Fatal(err)
	}
	if shadows == 0 {
		t.Error("the killed rebuild left no shadow tables: was it killed before it began?")
	}
	if statuses, err := Statuses(context.Background(), e.pool, e.store, All()); err != nil || statuses[0].Rebuild == nil || statuses[0].Rebuild.Running {
		t.Errorf("status after a killed rebuild should show its leftovers, not running: %v %+v", err, statuses[0].Rebuild)
	} else if last := statuses[0].LastRebuild; last == nil || !strings.Contains(last.Error, context.Canceled.Error()) || last.Events == 0 || last.FinishedAt.Before(last.StartedAt) {
		t.Errorf("the killed rebuild's result: %+v", last)
	}

	if err := e.rebuild(t, context.Background(), RebuildConfig{PageSize: 200}); err != nil {
		t.Fatalf("the rebuild after a killed one: %v", err)
	}
	sameRows(t, "tables rebuilt after a killed rebuild", before, dumpAll(t, e))
	if statuses, err := Statuses(context.Background(), e.pool, e.store, All()); err != nil || statuses[0].Rebuild != nil || statuses[0].RebuiltAt.IsZero() {
		t.Errorf("status after a completed rebuild: %v %+v", err, statuses[0])
	} else if last := statuses[0].LastRebuild; last == nil || last.Error != "" || last.Events < killedAt.Total || last.FinishedAt.Before(last.StartedAt) {
		t.Errorf("the completed rebuild's result: %+v", last)
	}
	checkApplied(t, e)

	// The live projections go on from where the rebuild left them.
	log, _ := eventlog.New(e.pool)
	svc, _ := domain.NewService(log, domain.Config{Clock: domain.ClockFunc(time.Now)})
	reg, err := svc.RegisterFromTelegram(context.Background(), domain.Meta{}, domain.TelegramLogin{TelegramID: 4242, FirstName: "After"})
	if err != nil {
		t.Fatal(err)
	}
	e.waitCaughtUp(t, All(), 5*time.Minute)
	var name string
	if err := e.pool.QueryRow(context.Background(), `SELECT first_name FROM users WHERE user_id = $1`, reg.UserID).Scan(&name); err != nil || name != "After" {
		t.Errorf("a user registered after the rebuild: %q, %v", name, err)
	}
}

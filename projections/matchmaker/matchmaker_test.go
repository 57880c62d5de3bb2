package matchmaker_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/supermock/engine/domain"
	"github.com/supermock/engine/internal/eventlog"
	"github.com/supermock/engine/internal/testdb"
	"github.com/supermock/engine/projections/matchmaker"
)

func TestMain(m *testing.M) { testdb.Main(m) }

type world struct {
	store    *eventlog.Store
	svc      *domain.Service
	duration time.Duration
}

var clock = domain.ClockFunc(time.Now)

func newWorld(t testing.TB) world {
	t.Helper()
	store, err := eventlog.New(testdb.New(t))
	if err != nil {
		t.Fatal(err)
	}
	svc, err := domain.NewService(store, domain.Config{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	return world{store: store, svc: svc, duration: svc.InterviewDuration()}
}

func (w world) register(t testing.TB, n int) []uuid.UUID {
	t.Helper()
	ids := make([]uuid.UUID, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < n; i += 16 {
				reg, err := w.svc.RegisterFromTelegram(context.Background(), domain.Meta{Actor: domain.SystemActor},
					domain.TelegramLogin{TelegramID: int64(1000 + i), Username: fmt.Sprintf("user%d", i), FirstName: "User"})
				if err != nil {
					errs <- err
					return
				}
				ids[i] = reg.UserID
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return ids
}

// runMatchmaker runs one matchmaker until the returned stop is called.
func (w world) runMatchmaker(t testing.TB) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	m := matchmaker.New(w.store, clock, w.duration, slog.New(slog.DiscardHandler))
	go func() { done <- m.Run(ctx) }()
	return func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("matchmaker: %v", err)
		}
	}
}

type stormStats struct{ joins, leaves, refused, gaveUp atomic.Int64 }

// storm sends ops joins and leaves from 32 goroutines at once, over 3 professions and
// 2 languages, with windows over the same few hours so that they overlap.
func (w world) storm(t *testing.T, users []uuid.UUID, ops int) *stormStats {
	t.Helper()
	professions := []string{"backend-developer", "frontend-developer", "qa-engineer"}
	languages := []string{"en", "ru"}
	base := time.Now().Add(2 * time.Hour).Truncate(time.Hour)
	stats := &stormStats{}
	var wg sync.WaitGroup
	start := make(chan struct{})
	const goroutines = 32
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 7))
			var mine []domain.EntryRef
			<-start
			for i := 0; i < ops/goroutines; i++ {
				ctx := context.Background()
				var err error
				if len(mine) > 0 && rng.IntN(5) == 0 {
					ref := mine[rng.IntN(len(mine))]
					_, err = w.svc.LeaveQueue(ctx, domain.Meta{Actor: ref.UserID.String()}, ref.UserID, ref.EntryID)
					stats.leaves.Add(1)
				} else {
					u := users[rng.IntN(len(users))]
					from := base.Add(time.Duration(rng.IntN(16)) * 15 * time.Minute)
					in := domain.QueueInput{
						Role: []string{"candidate", "interviewer"}[rng.IntN(2)], Profession: professions[rng.IntN(3)],
						Language: languages[rng.IntN(2)], WindowStart: from,
						WindowEnd: from.Add(time.Duration(60+rng.IntN(7)*15) * time.Minute),
					}
					var id uuid.UUID
					id, _, err = w.svc.JoinQueue(ctx, domain.Meta{Actor: u.String()}, u, in)
					if err == nil {
						mine = append(mine, domain.EntryRef{UserID: u, EntryID: id})
					}
					stats.joins.Add(1)
				}
				var refusal *domain.Error
				switch {
				case err == nil:
				case errors.As(err, &refusal):
					stats.refused.Add(1)
				case errors.Is(err, domain.ErrConcurrency):
					stats.gaveUp.Add(1)
				default:
					t.Errorf("command failed: %v", err)
					return
				}
			}
		}()
	}
	close(start)
	wg.Wait()
	return stats
}

func (w world) check(t *testing.T, stats *stormStats) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	testdb.WaitConsumed(t, w.store.Log(), matchmaker.Group)
	interviews, violations := audit(ctx, t, w.store, w.duration)
	for i, v := range violations {
		if i == 10 {
			t.Errorf("… and %d more", len(violations)-10)
			break
		}
		t.Error(v)
	}
	t.Logf("%d joins, %d leaves, %d refused by the rules, %d gave up on contention; %d interviews",
		stats.joins.Load(), stats.leaves.Load(), stats.refused.Load(), stats.gaveUp.Load(), interviews)
	if interviews < 50 {
		t.Fatalf("only %d interviews came out of the storm: the test did not exercise matching", interviews)
	}
}

func TestConcurrentJoinsAndLeavesKeepTheMatchingInvariants(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	users := w.register(t, 500)
	stop := w.runMatchmaker(t)
	defer stop()
	w.check(t, w.storm(t, users, 2000))
}

func TestMatchmakerStoppedAtRandomPointsLosesNothing(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	users := w.register(t, 200)
	stormDone := make(chan *stormStats)
	go func() { stormDone <- w.storm(t, users, 1000) }()
	rng := rand.New(rand.NewPCG(42, 1))
	var stats *stormStats
	for restarts := 0; stats == nil; restarts++ {
		stop := w.runMatchmaker(t)
		select {
		case stats = <-stormDone:
		case <-time.After(time.Duration(20+rng.IntN(200)) * time.Millisecond):
		}
		stop()
	}
	stop := w.runMatchmaker(t)
	defer stop()
	w.check(t, stats)
}

func TestTwoMatchmakersNeverBothMatch(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	users := w.register(t, 200)
	defer w.runMatchmaker(t)()
	defer w.runMatchmaker(t)()
	w.check(t, w.storm(t, users, 1000))
}

// Joins the matchmaker reads in one batch pair as if each came alone, first come first
// served: the first interviewer takes the candidate who waited before the batch, the
// second candidate of the batch waits for the second interviewer, and no entry is
// offered twice.
func TestJoinsOfOneBatchPairFirstComeFirstServed(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	users := w.register(t, 6)
	start := time.Now().Add(3 * time.Hour).Truncate(time.Hour)
	join := func(i int, role string) {
		t.Helper()
		if _, _, err := w.svc.JoinQueue(context.Background(), domain.Meta{Actor: users[i].String()}, users[i], domain.QueueInput{
			Role: role, Profession: "backend-developer", Language: "en", WindowStart: start, WindowEnd: start.Add(2 * time.Hour),
		}); err != nil {
			t.Fatal(err)
		}
	}
	// No matchmaker runs while they join: it reads all six in its first batch.
	for i, role := range []string{"candidate", "interviewer", "candidate", "candidate", "interviewer", "interviewer"} {
		join(i, role)
	}
	stop := w.runMatchmaker(t)
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	testdb.WaitConsumed(t, w.store.Log(), matchmaker.Group)
	interviews, violations := audit(ctx, t, w.store, w.duration)
	if interviews != 3 || len(violations) != 0 {
		t.Fatalf("%d interviews, violations %q; want three pairs first come first served", interviews, violations)
	}
	partner := map[uuid.UUID]uuid.UUID{}
	for _, u := range users {
		events, _, err := w.store.Load(ctx, domain.UserStream(u))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range events {
			if m, ok := e.(domain.MatchMade); ok {
				partner[m.CandidateID] = m.InterviewerID
			}
		}
	}
	for c, i := range map[int]int{0: 1, 2: 4, 3: 5} {
		if partner[users[c]] != users[i] {
			t.Fatalf("user %d was paired with %v, want user %d", c, partner[users[c]], i)
		}
	}
}

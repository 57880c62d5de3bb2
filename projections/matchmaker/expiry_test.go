package matchmaker_test

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/supermock/engine/domain"
	"github.com/supermock/engine/internal/testdb"
	"github.com/supermock/engine/projections/matchmaker"
)

func TestExpiryFollowsTheWindowNotTheAgeAndHappensOnce(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	w := newWorld(t)
	users := w.register(t, 2)
	start := time.Now().UTC().Truncate(time.Minute)
	fake := testdb.NewClock(start)
	svc, err := domain.NewService(w.store, domain.Config{Clock: fake})
	if err != nil {
		t.Fatal(err)
	}
	join := func(user int, from, to time.Time) domain.EntryRef {
		t.Helper()
		id, _, err := svc.JoinQueue(ctx, domain.Meta{}, users[user], domain.QueueInput{
			Role: "candidate", Profession: "data-engineer", Language: "en", WindowStart: from, WindowEnd: to})
		if err != nil {
			t.Fatal(err)
		}
		return domain.EntryRef{UserID: users[user], EntryID: id}
	}
	farAhead := join(0, start.Add(10*24*time.Hour), start.Add(10*24*time.Hour+3*time.Hour))
	soon := join(1, start.Add(30*time.Minute), start.Add(2*time.Hour))

	stop := w.runMatchmaker(t) // fills the waiting list the expirer reads
	testdb.WaitConsumed(t, w.store.Log(), matchmaker.Group)
	stop()

	status := func(ref domain.EntryRef) domain.EntryStatus {
		t.Helper()
		u, err := svc.LoadUser(ctx, ref.UserID)
		if err != nil {
			t.Fatal(err)
		}
		e, ok := u.Entry(ref.EntryID)
		if !ok {
			t.Fatalf("entry %s not found", ref.EntryID)
		}
		return e.Status
	}
	expireFromTwoProcesses := func() int64 {
		t.Helper()
		var total atomic.Int64
		var wg sync.WaitGroup
		for range 2 {
			x, err := matchmaker.NewExpirer(w.store, fake, w.duration, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				n, err := x.ExpireDue(ctx)
				if err != nil {
					t.Error(err)
				}
				total.Add(int64(n))
			}()
		}
		wg.Wait()
		return total.Load()
	}

	// One hour in, the short window still fits an interview (it ends at 2h).
	fake.Set(start.Add(time.Hour))
	if n := expireFromTwoProcesses(); n != 0 || status(soon) != domain.EntryWaiting {
		t.Fatalf("at +1h: %d expired, the short entry is %s; want none and waiting", n, status(soon))
	}
	// Three hours in, it has passed; the booking ten days ahead is still waiting.
	fake.Set(start.Add(3 * time.Hour))
	if n := expireFromTwoProcesses(); n != 1 {
		t.Fatalf("at +3h: %d expiries appended by two expirers, want exactly 1", n)
	}
	if s := status(soon); s != domain.EntryExpired {
		t.Fatalf("the passed entry is %s, want expired", s)
	}
	if s := status(farAhead); s != domain.EntryWaiting {
		t.Fatalf("the booking 10 days ahead is %s 3 hours later, want waiting", s)
	}
	expiredEvents, err := w.store.Log().CountEvents(ctx, "QueueEntryExpired")
	if err != nil {
		t.Fatal(err)
	}
	if expiredEvents != 1 {
		t.Fatalf("%d QueueEntryExpired events in the log, want 1", expiredEvents)
	}
}

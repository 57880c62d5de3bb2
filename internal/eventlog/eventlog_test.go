package eventlog_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/supermock/engine/domain"
	"github.com/supermock/engine/internal/eventlog"
	"github.com/supermock/engine/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }

func newService(t *testing.T) (*domain.Service, *eventlog.Store) {
	t.Helper()
	store, err := eventlog.New(testdb.New(t))
	if err != nil {
		t.Fatal(err)
	}
	svc, err := domain.NewService(store, domain.Config{Clock: domain.ClockFunc(time.Now)})
	if err != nil {
		t.Fatal(err)
	}
	return svc, store
}

// Two first logins of one Telegram account race: one user comes out of it.
func TestRacingFirstLoginsMakeOneUser(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc, store := newService(t)
	const logins = 32
	regs := make([]domain.Registration, logins)
	errs := make([]error, logins)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range logins {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			regs[i], errs[i] = svc.RegisterFromTelegram(ctx, domain.Meta{Actor: domain.SystemActor},
				domain.TelegramLogin{TelegramID: 777, Username: "ada", FirstName: "Ada"})
		}()
	}
	close(start)
	wg.Wait()
	created, ids := 0, map[uuid.UUID]bool{}
	for i := range logins {
		if errs[i] != nil {
			t.Fatalf("login %d: %v", i, errs[i])
		}
		ids[regs[i].UserID] = true
		if regs[i].Created {
			created++
		}
	}
	if len(ids) != 1 || created != 1 {
		t.Fatalf("%d users and %d creations from one Telegram id, want 1 and 1", len(ids), created)
	}
	registered, err := store.Log().CountEvents(ctx, "UserRegistered")
	if err != nil {
		t.Fatal(err)
	}
	if registered != 1 {
		t.Fatalf("%d UserRegistered events, want 1", registered)
	}
}

// A command and its retry on contention: 16 joins of one user at once, each for its own
// window; the user never holds more than 3 waiting entries, and every refusal is the
// rule's, not a lost write.
func TestRacingJoinsOfOneUserKeepTheEntryLimit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc, _ := newService(t)
	reg, err := svc.RegisterFromTelegram(ctx, domain.Meta{}, domain.TelegramLogin{TelegramID: 9, FirstName: "Bo"})
	if err != nil {
		t.Fatal(err)
	}
	base := time.Now().Add(24 * time.Hour).Truncate(time.Hour)
	var wg sync.WaitGroup
	results := make([]error, 16)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			from := base.Add(time.Duration(i) * 2 * time.Hour)
			_, _, results[i] = svc.JoinQueue(ctx, domain.Meta{}, reg.UserID, domain.QueueInput{
				Role: "candidate", Profession: "qa-engineer", Language: "en", WindowStart: from, WindowEnd: from.Add(time.Hour)})
		}()
	}
	wg.Wait()
	joined := 0
	for _, err := range results {
		switch {
		case err == nil:
			joined++
		case !errors.Is(err, domain.ErrQueueTooManyEntries) && !errors.Is(err, domain.ErrConcurrency):
			t.Fatalf("unexpected error: %v", err)
		}
	}
	u, err := svc.LoadUser(ctx, reg.UserID)
	if err != nil {
		t.Fatal(err)
	}
	if waiting := len(u.WaitingEntries()); waiting != joined || waiting > 3 || waiting == 0 {
		t.Fatalf("%d joins succeeded and %d entries wait; want the same number, between 1 and 3", joined, waiting)
	}
}

// Every event of a command occurred when the service's clock says the command
// decided, however long ago the log recorded it: a login, a join and a match.
func TestEventsOccurAtTheTimeOfTheCommandsClock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, err := eventlog.New(testdb.New(t))
	if err != nil {
		t.Fatal(err)
	}
	clock := testdb.NewClock(time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC))
	svc, err := domain.NewService(store, domain.Config{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	var streams []string
	var refs []domain.EntryRef
	for i, role := range []string{"candidate", "interviewer"} {
		clock.Set(clock.Now().Add(time.Minute))
		reg, err := svc.RegisterFromTelegram(ctx, domain.Meta{}, domain.TelegramLogin{TelegramID: int64(40 + i), FirstName: "Ann"})
		if err != nil {
			t.Fatal(err)
		}
		clock.Set(clock.Now().Add(time.Minute))
		entry, _, err := svc.JoinQueue(ctx, domain.Meta{}, reg.UserID, domain.QueueInput{Role: role, Profession: "qa-engineer",
			Language: "en", WindowStart: clock.Now().Add(2 * time.Hour), WindowEnd: clock.Now().Add(5 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		streams = append(streams, domain.UserStream(reg.UserID), domain.TelegramStream(int64(40+i)))
		refs = append(refs, domain.EntryRef{UserID: reg.UserID, EntryID: entry})
	}
	clock.Set(clock.Now().Add(time.Minute))
	interview, _, err := svc.MakeMatch(ctx, domain.Meta{Actor: domain.SystemActor}, refs[0], refs[1])
	if err != nil {
		t.Fatal(err)
	}
	streams = append(streams, domain.InterviewStream(interview))
	// Each command took one minute of the clock: the events of the n-th share its minute.
	minutes := map[time.Time]int{}
	for _, stream := range streams {
		envs, err := store.Log().ReadStream(ctx, stream)
		if err != nil {
			t.Fatal(err)
		}
		for _, env := range envs {
			if env.OccurredAt.Year() != 2025 || env.RecordedAt.Year() == 2025 || !env.RecordedAt.After(env.OccurredAt) {
				t.Errorf("%s %s occurred at %s, recorded at %s", stream, env.EventType, env.OccurredAt, env.RecordedAt)
			}
			if env.EventType == "MatchMade" || env.EventType == "InterviewScheduled" {
				if !env.OccurredAt.Equal(clock.Now()) {
					t.Errorf("%s occurred at %s, the match was made at %s", env.EventType, env.OccurredAt, clock.Now())
				}
			}
			minutes[env.OccurredAt]++
		}
	}
	if len(minutes) != 5 {
		t.Errorf("five commands at five times wrote events at %d times: %v", len(minutes), minutes)
	}
}

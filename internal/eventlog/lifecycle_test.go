package eventlog_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/supermock/engine/domain"
	"github.com/supermock/engine/internal/eventlog"
	"github.com/supermock/engine/internal/testdb"
)

type movableClock struct{ now atomic.Pointer[time.Time] }

func (c *movableClock) Now() time.Time  { return *c.now.Load() }
func (c *movableClock) Set(t time.Time) { c.now.Store(&t) }

// race runs f from n goroutines at once and returns their errors.
func race(n int, f func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = f(i)
		}()
	}
	close(start)
	wg.Wait()
	return errs
}

// refusedOrDone checks that every racing attempt either succeeded (a repeat of a done
// transition changes nothing and is no error) or was refused by the rule it broke.
func refusedOrDone(t *testing.T, errs []error, refusal error) {
	t.Helper()
	for _, err := range errs {
		if err != nil && !errors.Is(err, refusal) {
			t.Fatalf("a racing command failed with %v, want success or %v", err, refusal)
		}
	}
}

// count says how many events of a type a stream holds.
func count(t *testing.T, store *eventlog.Store, stream, eventType string) int {
	t.Helper()
	events, _, err := store.Load(context.Background(), stream)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range events {
		if e.EventType() == eventType {
			n++
		}
	}
	return n
}

// Both participants act on one interview at once, many times over: each transition
// happens once, and every other attempt is refused by the rule it broke.
func TestRacingLifecycleCommandsHappenOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, err := eventlog.New(testdb.New(t))
	if err != nil {
		t.Fatal(err)
	}
	clock := &movableClock{}
	now := time.Now().UTC().Truncate(time.Hour).Add(2 * time.Hour)
	clock.Set(now)
	svc, err := domain.NewService(store, domain.Config{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	var users [2]uuid.UUID
	var entries [2]uuid.UUID
	for i, role := range []string{"candidate", "interviewer"} {
		reg, err := svc.RegisterFromTelegram(ctx, domain.Meta{}, domain.TelegramLogin{TelegramID: int64(100 + i), FirstName: "P"})
		if err != nil {
			t.Fatal(err)
		}
		users[i] = reg.UserID
		if entries[i], _, err = svc.JoinQueue(ctx, domain.Meta{}, reg.UserID, domain.QueueInput{Role: role,
			Profession: "game-developer", Language: "en", WindowStart: now.Add(time.Hour), WindowEnd: now.Add(3 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	id, _, err := svc.MakeMatch(ctx, domain.Meta{}, domain.EntryRef{UserID: users[0], EntryID: entries[0]},
		domain.EntryRef{UserID: users[1], EntryID: entries[1]})
	if err != nil {
		t.Fatal(err)
	}
	iv, err := svc.LoadInterview(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	clock.Set(iv.ScheduledAt())
	who := func(i int) uuid.UUID { return users[i%2] }

	refusedOrDone(t, race(16, func(i int) error {
		_, err := svc.StartInterview(ctx, domain.Meta{}, id, who(i))
		return err
	}), domain.ErrInterviewNotScheduled)
	clock.Set(iv.ScheduledAt().Add(50 * time.Minute))
	refusedOrDone(t, race(16, func(i int) error {
		_, err := svc.CompleteInterview(ctx, domain.Meta{}, id, who(i))
		return err
	}), domain.ErrInterviewNotInProgress)
	refusedOrDone(t, race(16, func(i int) error {
		_, err := svc.SubmitFeedback(ctx, domain.Meta{}, id, who(i), domain.FeedbackInput{Rating: 1 + i%5})
		return err
	}), domain.ErrFeedbackAlreadyGiven)

	stream := domain.InterviewStream(id)
	for eventType, want := range map[string]int{"InterviewStarted": 1, "InterviewCompleted": 1, "FeedbackSubmitted": 2} {
		if n := count(t, store, stream, eventType); n != want {
			t.Errorf("%d %s events after the race, want %d", n, eventType, want)
		}
	}
	// Each now prefers the role they did not play; a switch is recorded at most once
	// (none for a preference that already was the other role).
	for i, want := range []domain.InterviewRole{domain.Interviewer, domain.Candidate} {
		u, err := svc.LoadUser(ctx, users[i])
		if err != nil {
			t.Fatal(err)
		}
		if n := count(t, store, domain.UserStream(users[i]), "PreferredRoleSwitched"); u.PreferredRole() != want || n > 1 {
			t.Errorf("user %d prefers %s after %d switches, want %s after at most one", i, u.PreferredRole(), n, want)
		}
	}
}

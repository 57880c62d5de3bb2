package eventlog_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/supermock/engine/domain"
	"github.com/supermock/engine/internal/eventlog"
)

// foldedAsFresh fails unless the user and interviews folded through store equal those a
// store that has kept nothing folds from the log alone.
func foldedAsFresh(t *testing.T, step string, store *eventlog.Store, user uuid.UUID, interviews ...uuid.UUID) {
	t.Helper()
	ctx := context.Background()
	fresh, err := eventlog.New(store.Pool())
	if err != nil {
		t.Fatal(err)
	}
	same := func(got, want any, gotErr, wantErr error) {
		t.Helper()
		if gotErr != nil || wantErr != nil {
			t.Fatalf("%s: %v, a fresh store %v", step, gotErr, wantErr)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: folded\n%+v\na fresh store folded\n%+v", step, got, want)
		}
	}
	got, gotErr := domain.FoldUser(ctx, store, user)
	want, wantErr := domain.FoldUser(ctx, fresh, user)
	same(got, want, gotErr, wantErr)
	for _, id := range interviews {
		got, gotErr := domain.FoldInterview(ctx, store, id)
		want, wantErr := domain.FoldInterview(ctx, fresh, id)
		same(got, want, gotErr, wantErr)
	}
}

// registeredWithTwoProcesses registers a user named Grace through store, beside which
// other is a second store over the same database: another process.
func registeredWithTwoProcesses(t *testing.T, telegramID int64, username string) (store, other *eventlog.Store, reg domain.Registration) {
	t.Helper()
	svc, store := newService(t)
	other, err := eventlog.New(store.Pool())
	if err != nil {
		t.Fatal(err)
	}
	reg, err = svc.RegisterFromTelegram(context.Background(), domain.Meta{Actor: domain.SystemActor},
		domain.TelegramLogin{TelegramID: telegramID, Username: username, FirstName: "Grace"})
	if err != nil {
		t.Fatal(err)
	}
	return store, other, reg
}

// A store that folded a stream before reads only what came since, yet always folds what
// a fresh store folds: after appends by another process, not a rolled-back append, and
// not a command's changes that were never appended.
func TestFoldsOfAKnownStreamEqualAFreshFold(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, other, reg := registeredWithTwoProcesses(t, 4242, "grace")
	foldedAsFresh(t, "first fold", store, reg.UserID)
	u, err := domain.FoldUser(ctx, store, reg.UserID)
	if err != nil {
		t.Fatal(err)
	}
	v := u.Version()
	// A decision never appended leaves the kept aggregate as it was.
	undecided := "undecided"
	if err := u.UpdateProfile(domain.ProfileInput{FirstName: &undecided}, time.Now()); err != nil {
		t.Fatal(err)
	}
	foldedAsFresh(t, "after a change that was not appended", store, reg.UserID)

	rename := func(s domain.Store, version int64, name string) error {
		_, err := s.Append(ctx, domain.Meta{Actor: domain.SystemActor}, domain.Change{Stream: domain.UserStream(reg.UserID), Expected: version,
			Events: []domain.Event{domain.ProfileUpdated{UserID: reg.UserID, FirstName: name, Timezone: "UTC"}}})
		return err
	}
	if err := rename(other, v, "elsewhere"); err != nil {
		t.Fatal(err)
	}
	foldedAsFresh(t, "after an append by another process", store, reg.UserID)

	rolledBack := errors.New("rolled back")
	err = pgx.BeginFunc(ctx, store.Pool(), func(tx pgx.Tx) error {
		in := store.In(tx)
		if err := rename(in, v+1, "never"); err != nil {
			return err
		}
		if u, err := domain.FoldUser(ctx, in, reg.UserID); err != nil || u.Version() != v+2 || u.FirstName() != "never" {
			t.Errorf("inside the transaction: %v; want version %d named never", err, v+2)
		}
		return rolledBack
	})
	if !errors.Is(err, rolledBack) {
		t.Fatal(err)
	}
	foldedAsFresh(t, "after a rolled-back append", store, reg.UserID)

	// An append at a version the kept aggregate has passed is still refused by the log.
	if err := rename(store, v, "stale"); !errors.Is(err, domain.ErrConcurrency) {
		t.Fatalf("stale append: %v, want a concurrency error", err)
	}
	if err := rename(store, v+1, "here"); err != nil {
		t.Fatal(err)
	}
	foldedAsFresh(t, "after an append here", store, reg.UserID)
}

// A stream read ahead, in the round trip of an API request's session check, gives the
// request's first fold what the log held then, another process's appends among them;
// the folds after it read the log again, so a command that decided on it and finds the
// stream moved on retries on what is there.
func TestAReadAheadServesTheFirstFoldOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, other, reg := registeredWithTwoProcesses(t, 4343, "hopper")
	stream := domain.UserStream(reg.UserID)
	readAhead := func(s *eventlog.Store) context.Context {
		t.Helper()
		b := &pgx.Batch{}
		var one int
		b.Queue("SELECT 1").QueryRow(func(row pgx.Row) error { return row.Scan(&one) })
		finish := s.ReadAhead(b, stream)
		if err := s.Pool().SendBatch(ctx, b).Close(); err != nil {
			t.Fatal(err)
		}
		rctx, err := finish(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if one != 1 {
			t.Fatalf("the batch's own query gave %d", one)
		}
		return rctx
	}
	rename := func(s domain.Store, name string) {
		t.Helper()
		u, err := domain.FoldUser(ctx, s, reg.UserID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Append(ctx, domain.Meta{Actor: domain.SystemActor}, domain.Change{Stream: stream, Expected: u.Version(),
			Events: []domain.Event{domain.ProfileUpdated{UserID: reg.UserID, FirstName: name, Timezone: "UTC"}}}); err != nil {
			t.Fatal(err)
		}
	}
	twoFolds := func(step string, rctx context.Context, wantFirst, wantSecond string) {
		t.Helper()
		var got []string
		for range 2 {
			u, err := domain.FoldUser(rctx, store, reg.UserID)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, u.FirstName())
		}
		if got[0] != wantFirst || got[1] != wantSecond {
			t.Fatalf("%s: the folds after the read ahead named the user %q, want %q (read ahead), then %q (the log)", step, got, wantFirst, wantSecond)
		}
	}
	// The store keeps nothing of the new user yet: the whole stream is read ahead.
	rctx := readAhead(store)
	rename(other, "before")
	twoFolds("a stream kept nowhere", rctx, "Grace", "before")
	// Now it keeps the user: only what another process appended since is read ahead.
	rename(other, "after")
	rctx = readAhead(store)
	rename(other, "later")
	twoFolds("a kept stream", rctx, "after", "later")

	rctx = readAhead(store)
	rename(other, "elsewhere")
	var conflicts atomic.Int64
	counted, err := domain.NewService(conflictCounter{Store: store, conflicts: &conflicts}, domain.Config{Clock: domain.ClockFunc(time.Now)})
	if err != nil {
		t.Fatal(err)
	}
	mine := "mine"
	if _, err := counted.UpdateProfile(rctx, domain.Meta{Actor: reg.UserID.String()}, reg.UserID, domain.ProfileInput{FirstName: &mine}); err != nil {
		t.Fatal(err)
	}
	foldedAsFresh(t, "after a command that decided on a stale read ahead", store, reg.UserID)
	u, err := domain.FoldUser(ctx, store, reg.UserID)
	if err != nil {
		t.Fatal(err)
	}
	if u.FirstName() != "mine" || u.Version() != 6 || conflicts.Load() != 1 {
		t.Fatalf("the user is %q at version %d after %d refused appends, want mine at 6 (registered, four renames, the command's) after one",
			u.FirstName(), u.Version(), conflicts.Load())
	}
}

// An erasure empties what the store keeps: an interview folded before holds the erased
// user's comment in clear, which the log no longer gives.
func TestFoldsForgetWhatAnErasureMadeUnreadable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, store := newService(t)
	svc, err := domain.NewService(store, domain.Config{Clock: domain.ClockFunc(time.Now), Keys: store})
	if err != nil {
		t.Fatal(err)
	}
	register := func(telegramID int64, name string) uuid.UUID {
		reg, err := svc.RegisterFromTelegram(ctx, domain.Meta{Actor: domain.SystemActor},
			domain.TelegramLogin{TelegramID: telegramID, Username: name, FirstName: name})
		if err != nil {
			t.Fatal(err)
		}
		return reg.UserID
	}
	ada, bob := register(1, "ada"), register(2, "bob")
	interview := uuid.New()
	at := time.Now().UTC().Truncate(time.Hour)
	_, err = store.Append(ctx, domain.Meta{Actor: domain.SystemActor}, domain.Change{
		Stream: domain.InterviewStream(interview), Expected: 0, Events: []domain.Event{
			domain.InterviewScheduled{InterviewID: interview, CandidateID: ada, InterviewerID: bob,
				CandidateEntryID: uuid.New(), InterviewerEntryID: uuid.New(), ScheduledAt: at, DurationMinutes: 60,
				Profession: "data-engineer", Language: "en", MatchedAt: at},
			domain.FeedbackSubmitted{InterviewID: interview, FromUserID: ada, ToUserID: bob, FromRole: domain.Candidate,
				Rating: 5, Comment: "ada's words", SubmittedAt: at},
		}})
	if err != nil {
		t.Fatal(err)
	}
	foldedAsFresh(t, "before the erasure", store, ada, interview)
	iv, err := domain.FoldInterview(ctx, store, interview)
	if err != nil {
		t.Fatal(err)
	}
	if f, _ := iv.Feedback(ada); f.Comment != "ada's words" {
		t.Fatalf("comment before the erasure: %q", f.Comment)
	}
	if _, err := svc.ErasePersonalData(ctx, domain.Meta{Actor: domain.SystemActor}, ada, ada); err != nil {
		t.Fatal(err)
	}
	foldedAsFresh(t, "after the erasure", store, ada, interview)
	if iv, err = domain.FoldInterview(ctx, store, interview); err != nil {
		t.Fatal(err)
	}
	if f, _ := iv.Feedback(ada); f.Comment == "ada's words" {
		t.Fatal("the erased user's comment is still given in clear")
	}
}

// conflictCounter counts the appends the log refused for a stale version.
type conflictCounter struct {
	domain.Store
	conflicts *atomic.Int64
}

func (c conflictCounter) Append(ctx context.Context, meta domain.Meta, changes ...domain.Change) (string, error) {
	pos, err := c.Store.Append(ctx, meta, changes...)
	if errors.Is(err, domain.ErrConcurrency) {
		c.conflicts.Add(1)
	}
	return pos, err
}

// Dozens of commands on the same users from two processes at once: they conflict, retry
// on fresh state and all land, and what each process folds through what it keeps
// equals what the log alone gives.
func TestConcurrentCommandsFoldAsTheLog(t *testing.T) {
	t.Parallel()
	const goroutines, rounds = 32, 4
	ctx := context.Background()
	_, first := newService(t)
	second, err := eventlog.New(first.Pool())
	if err != nil {
		t.Fatal(err)
	}
	var conflicts atomic.Int64
	services := make([]*domain.Service, 2)
	for i, store := range []*eventlog.Store{first, second} {
		services[i], err = domain.NewService(conflictCounter{store, &conflicts},
			domain.Config{Clock: domain.ClockFunc(time.Now), MaxAttempts: 1000})
		if err != nil {
			t.Fatal(err)
		}
	}
	users := make([]uuid.UUID, 3)
	for i := range users {
		reg, err := services[0].RegisterFromTelegram(ctx, domain.Meta{Actor: domain.SystemActor},
			domain.TelegramLogin{TelegramID: int64(100 + i), Username: "racer", FirstName: "Racer"})
		if err != nil {
			t.Fatal(err)
		}
		users[i] = reg.UserID
	}
	day := time.Now().UTC().Truncate(time.Hour).Add(48 * time.Hour)
	var wg sync.WaitGroup
	var joins [3]atomic.Int64
	errs := make(chan error, goroutines)
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			svc, i := services[g%2], g%len(users)
			start := day.Add(time.Duration(g) * 3 * time.Hour)
			for r := range rounds {
				name := fmt.Sprintf("racer %d.%d", g, r)
				_, err := svc.UpdateProfile(ctx, domain.Meta{}, users[i], domain.ProfileInput{FirstName: &name})
				if err != nil {
					errs <- err
					return
				}
				// A user has at most 3 waiting entries: a join beyond them is refused.
				entry, _, err := svc.JoinQueue(ctx, domain.Meta{}, users[i], domain.QueueInput{Role: "candidate",
					Profession: "data-engineer", Language: "en", WindowStart: start, WindowEnd: start.Add(2 * time.Hour)})
				if errors.Is(err, domain.ErrQueueTooManyEntries) {
					continue
				}
				if err == nil {
					joins[i].Add(1)
					_, err = svc.LeaveQueue(ctx, domain.Meta{}, users[i], entry)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if conflicts.Load() == 0 {
		t.Fatal("no command met a concurrency conflict: the race did not happen")
	}
	for i, user := range users {
		for _, store := range []*eventlog.Store{first, second} {
			foldedAsFresh(t, "after the race", store, user)
		}
		u, err := domain.FoldUser(ctx, first, user)
		if err != nil {
			t.Fatal(err)
		}
		want := int(joins[i].Load())
		entries := u.Entries()
		if len(entries) != want {
			t.Fatalf("user %d holds %d entries, want %d: a command was lost", i, len(entries), want)
		}
		for _, e := range entries {
			if e.Status != domain.EntryCancelled {
				t.Fatalf("entry %s is %s, want cancelled", e.ID, e.Status)
			}
		}
	}
}

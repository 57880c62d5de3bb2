package matchmaker_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/supermock/engine/domain"
	"github.com/supermock/engine/eventstore"
	"github.com/supermock/engine/internal/eventlog"
	"github.com/supermock/engine/internal/testdb"
)

// audit replays the whole log and checks the matching invariants:
//   - no entry is matched twice;
//   - no user has two interviews at overlapping times;
//   - every match chose, for the entry that waited last, the earliest entry that was
//     waiting at that point of the log and that the domain would have paired with it;
//   - no pair of entries still waiting at the end could be matched now.
//
// It returns how many interviews the log holds and every broken invariant.
func audit(ctx context.Context, t *testing.T, store *eventlog.Store, duration time.Duration) (int, []string) {
	t.Helper()
	var violations []string
	violate := func(format string, args ...any) { violations = append(violations, fmt.Sprintf(format, args...)) }
	type entry struct {
		domain.QueueEntry
		since   eventstore.Position
		waiting bool
	}
	var (
		entries    = map[uuid.UUID]*entry{}
		order      []uuid.UUID // entries by first join
		histories  = map[uuid.UUID][]domain.Event{}
		matchedBy  = map[uuid.UUID]uuid.UUID{}
		calendars  = map[uuid.UUID][]domain.Window{}
		interviews int
	)
	user := func(id uuid.UUID) *domain.User {
		u, err := domain.LoadUser(histories[id], int64(len(histories[id])))
		if err != nil {
			t.Fatalf("load user %s: %v", id, err)
		}
		return u
	}
	// wouldMatch asks the domain whether a and b could have been paired at now, given
	// the users' histories so far.
	wouldMatch := func(a, b *entry, now time.Time) bool {
		_, err := domain.Match(user(a.UserID), user(b.UserID), a.ID, b.ID, uuid.New(), now, duration)
		return err == nil
	}
	pool := func(of *entry, before eventstore.Position) []*entry {
		var out []*entry
		for _, id := range order {
			e := entries[id]
			if e.waiting && e.since.Less(before) && e.UserID != of.UserID && e.Role == of.Role.Opposite() &&
				e.Profession == of.Profession && e.Language == of.Language {
				out = append(out, e)
			}
		}
		return out
	}

	after := eventstore.Position{}
	for {
		page, err := store.Log().ReadAll(ctx, after, 5000)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, env := range page {
			after = env.Position
			decoded, err := store.Log().Decode(env)
			if err != nil {
				t.Fatal(err)
			}
			switch e := decoded.(type) {
			case domain.QueueJoined:
				entries[e.EntryID] = &entry{QueueEntry: domain.EntryFromJoined(e), since: env.Position, waiting: true}
				order = append(order, e.EntryID)
			case domain.QueueEntryRequeued:
				entries[e.EntryID].since, entries[e.EntryID].waiting = env.Position, true
			case domain.QueueLeft:
				entries[e.EntryID].waiting = false
			case domain.QueueEntryExpired:
				entries[e.EntryID].waiting = false
			case domain.MatchMade:
				// The match's first MatchMade comes before anything else of its
				// transaction: the users' histories are still those it was decided on.
				if matchedBy[e.CandidateEntryID] == e.InterviewID {
					break
				}
				interviews++
				a, b := entries[e.CandidateEntryID], entries[e.InterviewerEntryID]
				for _, id := range []uuid.UUID{a.ID, b.ID} {
					if first, ok := matchedBy[id]; ok {
						violate("entry %s matched twice: interviews %s and %s", id, first, e.InterviewID)
					}
					matchedBy[id] = e.InterviewID
				}
				slot := domain.Window{Start: e.ScheduledAt, End: e.ScheduledAt.Add(duration)}
				for _, u := range []uuid.UUID{e.CandidateID, e.InterviewerID} {
					for _, other := range calendars[u] {
						if other.Overlaps(slot) {
							violate("user %s has interviews at %s and %s", u, other.Start, slot.Start)
						}
					}
					calendars[u] = append(calendars[u], slot)
				}
				last, first := a, b
				if last.since.Less(first.since) {
					last, first = b, a
				}
				for _, z := range pool(last, first.since) {
					if z.ID != first.ID && wouldMatch(last, z, e.MatchedAt) {
						violate("entry %s was paired with %s although %s waited longer and fit", last.ID, first.ID, z.ID)
						break
					}
				}
				a.waiting, b.waiting = false, false
			}
			if stream := env.StreamID; len(stream) > 5 && stream[:5] == "user-" {
				id := uuid.MustParse(stream[5:])
				histories[id] = append(histories[id], decoded.(domain.Event))
			}
		}
	}

	now := time.Now()
	for _, id := range order {
		a := entries[id]
		if !a.waiting {
			continue
		}
		for _, b := range pool(a, a.since) {
			if wouldMatch(a, b, now) {
				violate("entries %s and %s are both waiting and could be paired", a.ID, b.ID)
			}
		}
	}
	return interviews, violations
}

func TestAuditCatchesAPairLeftWaiting(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	users := w.register(t, 2)
	start := time.Now().Add(3 * time.Hour).Truncate(time.Hour)
	for i, role := range []string{"candidate", "interviewer"} {
		if _, _, err := w.svc.JoinQueue(context.Background(), domain.Meta{Actor: users[i].String()}, users[i], domain.QueueInput{
			Role: role, Profession: "backend-developer", Language: "en", WindowStart: start, WindowEnd: start.Add(2 * time.Hour),
		}); err != nil {
			t.Fatal(err)
		}
	}
	// No matchmaker ran: the audit must see the compatible pair.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	testdb.WaitVisible(t, w.store.Log())
	if _, violations := audit(ctx, t, w.store, w.duration); len(violations) != 1 {
		t.Fatalf("the audit of a log where two compatible entries wait unmatched found %q", violations)
	}
}

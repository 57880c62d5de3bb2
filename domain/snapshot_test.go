package domain_test

import (
	"reflect"
	"testing"

	"github.com/google/uuid"

	"github.com/supermock/engine/domain"
)

// Advance folds further into a copy: the aggregate it started from, which a store may
// keep, is left as it was, and the copy equals the whole history replayed.
func TestAdvanceLeavesTheSnapshotAsItWas(t *testing.T) {
	t.Parallel()
	t.Run("user", func(t *testing.T) {
		t.Parallel()
		history := []domain.Event{registered(alice, 1), joined(alice, entA, domain.Candidate, clock("10:00"), clock("14:00"))}
		snap := givenUser(t, history...)
		m := matched()
		more := []domain.Event{m, domain.MatchCancelled{InterviewID: ivID, CandidateID: alice, InterviewerID: bob,
			CandidateEntryID: entA, InterviewerEntryID: entB, CancelledBy: bob, ScheduledAt: m.ScheduledAt, CancelledAt: now}}
		next := snap.Advance(more, int64(len(history)+len(more)))
		if want := givenUser(t, with(history, more...)...); !reflect.DeepEqual(next, want) {
			t.Fatalf("advanced to\n%+v\nreplayed\n%+v", next, want)
		}
		decided := snap.Advance(nil, snap.Version()).(*domain.User)
		if err := decided.LeaveQueue(entA, clock("09:00")); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(snap, givenUser(t, history...)) {
			t.Fatal("a decision on the copy changed the snapshot")
		}
	})
	t.Run("interview", func(t *testing.T) {
		t.Parallel()
		sent := domain.NotificationSent{NotificationID: uuid.New(), InterviewID: ivID, UserID: alice, Kind: domain.NotifyInterviewReminder, SentAt: now}
		history := []domain.Event{scheduled(), sent}
		snap := givenInterview(t, history...)
		read := domain.NotificationRead{NotificationID: sent.NotificationID, InterviewID: ivID, UserID: alice, Kind: sent.Kind, ReadAt: now}
		next := snap.Advance([]domain.Event{read}, 3)
		if want := givenInterview(t, with(history, read)...); !reflect.DeepEqual(next, want) {
			t.Fatalf("advanced to\n%+v\nreplayed\n%+v", next, want)
		}
		if !reflect.DeepEqual(snap, givenInterview(t, history...)) {
			t.Fatal("advancing changed the snapshot")
		}
	})
}

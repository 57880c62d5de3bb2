package matchmaker_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/supermock/engine/domain"
	"github.com/supermock/engine/internal/testdb"
	"github.com/supermock/engine/projections/matchmaker"
)

// Rule 7: when one side cancels, the other side's entry goes back to the queue and the
// matchmaker pairs it again with the next interviewer who fits; the canceller's does not.
func TestCancelledInterviewRequeuesTheOtherSideForANewMatch(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	w := newWorld(t)
	users := w.register(t, 3)
	defer w.runMatchmaker(t)()
	from := time.Now().Add(5 * time.Hour).Truncate(time.Hour)
	join := func(u uuid.UUID, role string) uuid.UUID {
		t.Helper()
		id, _, err := w.svc.JoinQueue(ctx, domain.Meta{}, u, domain.QueueInput{
			Role: role, Profession: "mobile-developer", Language: "en", WindowStart: from, WindowEnd: from.Add(3 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	interviewOf := func(u uuid.UUID, entry uuid.UUID) (uuid.UUID, domain.EntryStatus) {
		t.Helper()
		usr, err := w.svc.LoadUser(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		e, _ := usr.Entry(entry)
		return e.InterviewID, e.Status
	}
	candidate, interviewer, next := users[0], users[1], users[2]
	candidateEntry := join(candidate, "candidate")
	interviewerEntry := join(interviewer, "interviewer")
	testdb.WaitConsumed(t, w.store.Log(), matchmaker.Group)
	first, status := interviewOf(candidate, candidateEntry)
	if status != domain.EntryMatched {
		t.Fatalf("the candidate's entry is %s, want matched", status)
	}

	if _, err := w.svc.CancelInterview(ctx, domain.Meta{Actor: interviewer.String()}, first, interviewer, "sick"); err != nil {
		t.Fatal(err)
	}
	testdb.WaitConsumed(t, w.store.Log(), matchmaker.Group)
	if _, status := interviewOf(candidate, candidateEntry); status != domain.EntryWaiting {
		t.Fatalf("after the cancellation the candidate's entry is %s, want waiting again", status)
	}
	if _, status := interviewOf(interviewer, interviewerEntry); status == domain.EntryWaiting {
		t.Fatal("the canceller's entry went back to the queue")
	}

	join(next, "interviewer")
	testdb.WaitConsumed(t, w.store.Log(), matchmaker.Group)
	second, status := interviewOf(candidate, candidateEntry)
	if status != domain.EntryMatched || second == first {
		t.Fatalf("the requeued entry is %s in interview %s, want matched in a new one", status, second)
	}
	iv, err := w.svc.LoadInterview(ctx, second)
	if err != nil {
		t.Fatal(err)
	}
	if iv.Interviewer() != next || iv.Candidate() != candidate {
		t.Fatalf("the new interview pairs %s with %s", iv.Candidate(), iv.Interviewer())
	}
}

// An entry stopped and back in the queue within one batch of the matchmaker's (an
// interview cancelled right after its match requeues it) is waiting when the batch
// commits: the batch's removals, sent together at its end, spare it; another entry
// that stopped in the same batch is gone.
func TestAnEntryBackInTheQueueWithinABatchStaysWaiting(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	w := newWorld(t)
	user := w.register(t, 1)[0]
	defer w.runMatchmaker(t)()
	usr, err := w.svc.LoadUser(ctx, user)
	if err != nil {
		t.Fatal(err)
	}
	from := time.Now().Add(5 * time.Hour).Truncate(time.Hour).UTC()
	back, gone, now := uuid.New(), uuid.New(), time.Now().UTC()
	joined := func(entry uuid.UUID) domain.QueueJoined {
		return domain.QueueJoined{UserID: user, EntryID: entry, Role: domain.Candidate, Profession: "mobile-developer",
			Language: "en", WindowStart: from, WindowEnd: from.Add(3 * time.Hour), JoinedAt: now}
	}
	left := func(entry uuid.UUID) domain.QueueLeft {
		return domain.QueueLeft{UserID: user, EntryID: entry, Role: domain.Candidate, Profession: "mobile-developer",
			Language: "en", WindowStart: from, WindowEnd: from.Add(3 * time.Hour), LeftAt: now}
	}
	requeued := domain.QueueEntryRequeued{UserID: user, EntryID: back, Role: domain.Candidate, Profession: "mobile-developer",
		Language: "en", WindowStart: from, WindowEnd: from.Add(3 * time.Hour), InterviewID: uuid.New()}
	// One append: the matchmaker reads its events in one batch.
	if _, err := w.store.Append(ctx, domain.Meta{Actor: domain.SystemActor}, domain.Change{Stream: domain.UserStream(user),
		Expected: usr.Version(), Events: []domain.Event{joined(back), joined(gone), left(back), left(gone), requeued}}); err != nil {
		t.Fatal(err)
	}
	testdb.WaitConsumed(t, w.store.Log(), matchmaker.Group)
	waiting := map[uuid.UUID]bool{}
	rows, err := w.store.Pool().Query(ctx, `SELECT entry_id FROM matchmaker_waiting WHERE user_id = $1`, user)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id uuid.UUID
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		waiting[id] = true
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	if !waiting[back] || waiting[gone] || len(waiting) != 1 {
		t.Fatalf("waiting %v; want only the requeued entry %s", waiting, back)
	}
}

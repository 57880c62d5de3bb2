package domain_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/supermock/engine/domain"
)

var (
	started   = domain.InterviewStarted{InterviewID: ivID, StartedBy: alice, CandidateID: alice, InterviewerID: bob, ScheduledAt: clock("12:00"), StartedAt: clock("11:55")}
	completed = domain.InterviewCompleted{InterviewID: ivID, CompletedBy: bob, CandidateID: alice, InterviewerID: bob, StartedAt: clock("11:55"), CompletedAt: clock("13:00")}
	cancelled = domain.InterviewCancelled{InterviewID: ivID, CancelledBy: alice, OtherUserID: bob, CandidateID: alice, InterviewerID: bob,
		ScheduledAt: clock("12:00"), CancelledAt: clock("10:00")}
)

func TestStartInterview(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		given []domain.Event
		by    uuid.UUID
		at    time.Time
		want  []domain.Event
		err   error
	}{
		{"from 10 minutes before", nil, bob, clock("11:50"), []domain.Event{domain.InterviewStarted{InterviewID: ivID, StartedBy: bob,
			CandidateID: alice, InterviewerID: bob, ScheduledAt: clock("12:00"), StartedAt: clock("11:50")}}, nil},
		{"earlier is refused", nil, bob, clock("11:49:59"), nil, domain.ErrInterviewStartTooEarly},
		{"by a stranger", nil, carol, clock("12:00"), nil, domain.ErrInterviewNotParticipant},
		{"already started records nothing", []domain.Event{started}, bob, clock("12:00"), nil, nil},
		{"cancelled", []domain.Event{cancelled}, bob, clock("12:00"), nil, domain.ErrInterviewNotScheduled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			iv := givenInterview(t, with([]domain.Event{scheduled()}, tt.given...)...)
			then(t, iv.Start(tt.by, tt.at), tt.err, iv.Changes(), tt.want)
		})
	}
}

func TestCompleteInterview(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		given []domain.Event
		by    uuid.UUID
		at    time.Time
		want  []domain.Event
		err   error
	}{
		{"after start", []domain.Event{started}, bob, clock("13:00"), []domain.Event{completed}, nil},
		{"at the scheduled time", []domain.Event{started}, bob, clock("12:00"), []domain.Event{domain.InterviewCompleted{InterviewID: ivID,
			CompletedBy: bob, CandidateID: alice, InterviewerID: bob, StartedAt: clock("11:55"), CompletedAt: clock("12:00")}}, nil},
		{"started early, before its time", []domain.Event{started}, alice, clock("11:59:59"), nil, domain.ErrInterviewCompleteTooEarly},
		{"before start", nil, bob, clock("13:00"), nil, domain.ErrInterviewNotInProgress},
		{"by a stranger", []domain.Event{started}, carol, clock("13:00"), nil, domain.ErrInterviewNotParticipant},
		{"again records nothing", []domain.Event{started, completed}, alice, clock("13:00"), nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			iv := givenInterview(t, with([]domain.Event{scheduled()}, tt.given...)...)
			then(t, iv.Complete(tt.by, tt.at), tt.err, iv.Changes(), tt.want)
		})
	}
}

func TestCancelInterview(t *testing.T) {
	t.Parallel()
	requeued := uuid.NullUUID{UUID: entB, Valid: true}
	cancelledAt := func(at time.Time, requeued uuid.NullUUID) (domain.InterviewCancelled, domain.MatchCancelled) {
		ic := cancelled
		ic.CancelledAt, ic.RequeuedEntryID, ic.Reason = at, requeued, "ill"
		return ic, domain.MatchCancelled{InterviewID: ivID, CandidateID: alice, InterviewerID: bob, CandidateEntryID: entA,
			InterviewerEntryID: entB, CancelledBy: alice, Reason: "ill", RequeuedEntryID: requeued, ScheduledAt: clock("12:00"), CancelledAt: at}
	}
	ic, mc := cancelledAt(clock("10:00"), requeued)
	lateIC, lateMC := cancelledAt(clock("15:30"), uuid.NullUUID{})
	busyIC, busyMC := cancelledAt(clock("10:00"), uuid.NullUUID{})
	back := domain.QueueEntryRequeued{UserID: bob, EntryID: entB, Role: domain.Interviewer, Profession: "backend-developer",
		Language: "en", WindowStart: clock("12:00"), WindowEnd: clock("16:00"), InterviewID: ivID, RequeuedAt: clock("10:00")}

	tests := []struct {
		name                 string
		given                []domain.Event // on the interview
		bobGiven             []domain.Event // more on bob's stream
		by                   uuid.UUID
		reason               string
		at                   time.Time
		wantIV, wantA, wantB []domain.Event
		err                  error
	}{
		{"puts the other side's entry back when its window still fits", nil, nil, alice, " ill ", clock("10:00"),
			[]domain.Event{ic}, []domain.Event{mc}, []domain.Event{mc, back}, nil},
		{"no requeue when the other's window can no longer fit", nil, nil, alice, "ill", clock("15:30"),
			[]domain.Event{lateIC}, []domain.Event{lateMC}, []domain.Event{lateMC}, nil},
		{"no requeue when the other's window now overlaps a newer entry",
			nil, []domain.Event{joined(bob, entB2, domain.Interviewer, clock("13:00"), clock("16:00"))}, alice, "ill", clock("10:00"),
			[]domain.Event{busyIC}, []domain.Event{busyMC}, []domain.Event{busyMC}, nil},
		{"while in progress", []domain.Event{started}, nil, alice, "ill", clock("10:00"),
			[]domain.Event{ic}, []domain.Event{mc}, []domain.Event{mc, back}, nil},
		{"after completion", []domain.Event{started, completed}, nil, alice, "", clock("13:30"), nil, nil, nil, domain.ErrInterviewAlreadyFinished},
		{"by a stranger", nil, nil, carol, "", clock("10:00"), nil, nil, nil, domain.ErrInterviewNotParticipant},
		{"reason too long", nil, nil, alice, strings.Repeat("x", 501), clock("10:00"), nil, nil, nil, domain.ErrCancelReasonTooLong},
		{"twice records nothing", []domain.Event{cancelled}, nil, bob, "", clock("10:30"), nil, nil, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			iv := givenInterview(t, with([]domain.Event{scheduled()}, tt.given...)...)
			a, b := givenUser(t, aliceMatched()...), givenUser(t, with(bobMatched(), tt.bobGiven...)...)
			err := domain.CancelInterview(iv, a, b, tt.by, tt.reason, tt.at, hr)
			then(t, err, tt.err, iv.Changes(), tt.wantIV)
			then(t, err, tt.err, a.Changes(), tt.wantA)
			then(t, err, tt.err, b.Changes(), tt.wantB)
		})
	}

	t.Run("state after a requeue", func(t *testing.T) {
		t.Parallel()
		iv := givenInterview(t, scheduled())
		a, b := givenUser(t, aliceMatched()...), givenUser(t, bobMatched()...)
		if err := domain.CancelInterview(iv, a, b, alice, "", clock("10:00"), hr); err != nil {
			t.Fatal(err)
		}
		ea, _ := a.Entry(entA)
		eb, _ := b.Entry(entB)
		if ea.Status != domain.EntryCancelled || eb.Status != domain.EntryWaiting || len(a.ScheduledInterviews())+len(b.ScheduledInterviews()) != 0 {
			t.Fatalf("alice's entry %s, bob's %s, interviews left %d/%d", ea.Status, eb.Status, len(a.ScheduledInterviews()), len(b.ScheduledInterviews()))
		}
		if iv.Status() != domain.StatusCancelled {
			t.Fatalf("status %s", iv.Status())
		}
	})
}

func TestReportNoShow(t *testing.T) {
	t.Parallel()
	reported := domain.NoShowReported{InterviewID: ivID, ReportedBy: alice, AbsentUserID: bob, ScheduledAt: clock("12:00"), ReportedAt: clock("12:10")}
	absence := func(count int) domain.AbsenceRecorded {
		return domain.AbsenceRecorded{UserID: bob, InterviewID: ivID, ReportedBy: alice, ScheduledAt: clock("12:00"), NoShowCount: count, RecordedAt: clock("12:10")}
	}
	tests := []struct {
		name          string
		given         []domain.Event
		bobGiven      []domain.Event
		by            uuid.UUID
		at            time.Time
		wantIV, wantB []domain.Event
		err           error
	}{
		{"from 10 minutes after, counted on the absent user", nil, nil, alice, clock("12:10"), []domain.Event{reported}, []domain.Event{absence(1)}, nil},
		{"the count goes on", nil, []domain.Event{domain.AbsenceRecorded{UserID: bob}}, alice, clock("12:10"), []domain.Event{reported}, []domain.Event{absence(2)}, nil},
		{"also once started", []domain.Event{started}, nil, alice, clock("12:10"), []domain.Event{reported}, []domain.Event{absence(1)}, nil},
		{"not against the one who started the session", []domain.Event{started}, nil, bob, clock("12:10"), nil, nil, domain.ErrNoShowStartedByAbsent},
		{"earlier is refused", nil, nil, alice, clock("12:09:59"), nil, nil, domain.ErrNoShowTooEarly},
		{"by a stranger", nil, nil, carol, clock("12:30"), nil, nil, domain.ErrInterviewNotParticipant},
		{"after completion", []domain.Event{started, completed}, nil, alice, clock("13:30"), nil, nil, domain.ErrInterviewAlreadyFinished},
		{"the same report again records nothing", []domain.Event{reported}, nil, alice, clock("12:20"), nil, nil, nil},
		{"the other side reported first", []domain.Event{reported}, nil, bob, clock("12:20"), nil, nil, domain.ErrInterviewAlreadyFinished},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			iv := givenInterview(t, with([]domain.Event{scheduled()}, tt.given...)...)
			absent := givenUser(t, with(bobMatched(), tt.bobGiven...)...)
			if tt.by == bob {
				absent = givenUser(t, aliceMatched()...)
			}
			err := domain.ReportNoShow(iv, absent, tt.by, tt.at)
			then(t, err, tt.err, iv.Changes(), tt.wantIV)
			then(t, err, tt.err, absent.Changes(), tt.wantB)
			if tt.err == nil && len(tt.wantB) > 0 && absent.NoShowCount() != tt.wantB[0].(domain.AbsenceRecorded).NoShowCount {
				t.Fatalf("no-show count %d", absent.NoShowCount())
			}
		})
	}
}

func TestSubmitFeedback(t *testing.T) {
	t.Parallel()
	good := domain.FeedbackInput{Rating: 4, Skills: map[string]int{" algorithms ": 5}, Comment: " clear "}
	fromAlice := domain.FeedbackSubmitted{InterviewID: ivID, FromUserID: alice, ToUserID: bob, FromRole: domain.Candidate,
		Rating: 4, Skills: map[string]int{"algorithms": 5}, Comment: "clear", SubmittedAt: clock("13:05")}
	fromBob := domain.FeedbackSubmitted{InterviewID: ivID, FromUserID: bob, ToUserID: alice, FromRole: domain.Interviewer,
		Rating: 4, Skills: map[string]int{"algorithms": 5}, Comment: "clear", SubmittedAt: clock("13:05")}
	bobPrefersInterviewing := domain.PreferredRoleSwitched{UserID: bob, From: domain.Candidate, To: domain.Interviewer}
	aliceSwitch := domain.PreferredRoleSwitched{UserID: alice, InterviewID: ivID, From: domain.Candidate, To: domain.Interviewer, SwitchedAt: clock("13:05")}
	bobSwitch := domain.PreferredRoleSwitched{UserID: bob, InterviewID: ivID, From: domain.Interviewer, To: domain.Candidate, SwitchedAt: clock("13:05")}
	done := []domain.Event{started, completed}

	tests := []struct {
		name                 string
		given, bobGiven      []domain.Event
		from                 uuid.UUID
		in                   domain.FeedbackInput
		wantIV, wantA, wantB []domain.Event
		err                  error
	}{
		{"first feedback", done, nil, alice, good, []domain.Event{fromAlice}, nil, nil, nil},
		{"second feedback flips both preferred roles", with(done, fromAlice), []domain.Event{bobPrefersInterviewing}, bob, good,
			[]domain.Event{fromBob}, []domain.Event{aliceSwitch}, []domain.Event{bobSwitch}, nil},
		{"a user already preferring the next role records nothing", with(done, fromAlice), nil, bob, good,
			[]domain.Event{fromBob}, []domain.Event{aliceSwitch}, nil, nil},
		{"comment of 2000 characters", done, nil, alice, domain.FeedbackInput{Rating: 5, Comment: strings.Repeat("é", 2000)},
			[]domain.Event{domain.FeedbackSubmitted{InterviewID: ivID, FromUserID: alice, ToUserID: bob, FromRole: domain.Candidate,
				Rating: 5, Skills: map[string]int{}, Comment: strings.Repeat("é", 2000), SubmittedAt: clock("13:05")}}, nil, nil, nil},
		{"before completion", []domain.Event{started}, nil, alice, good, nil, nil, nil, domain.ErrInterviewNotCompleted},
		{"by a stranger", done, nil, carol, good, nil, nil, nil, domain.ErrInterviewNotParticipant},
		{"once each", with(done, fromAlice), nil, alice, good, nil, nil, nil, domain.ErrFeedbackAlreadyGiven},
		{"rating missing", done, nil, alice, domain.FeedbackInput{}, nil, nil, nil, domain.ErrFeedbackRatingInvalid},
		{"rating above 5", done, nil, alice, domain.FeedbackInput{Rating: 6}, nil, nil, nil, domain.ErrFeedbackRatingInvalid},
		{"skill above 5", done, nil, alice, domain.FeedbackInput{Rating: 3, Skills: map[string]int{"go": 6}}, nil, nil, nil, domain.ErrFeedbackSkillInvalid},
		{"skill without a name", done, nil, alice, domain.FeedbackInput{Rating: 3, Skills: map[string]int{" ": 3}}, nil, nil, nil, domain.ErrFeedbackSkillInvalid},
		{"comment of 2001 characters", done, nil, alice, domain.FeedbackInput{Rating: 3, Comment: strings.Repeat("é", 2001)}, nil, nil, nil, domain.ErrFeedbackCommentTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			iv := givenInterview(t, with([]domain.Event{scheduled()}, tt.given...)...)
			a, b := givenUser(t, aliceMatched()...), givenUser(t, with(bobMatched(), tt.bobGiven...)...)
			err := domain.SubmitFeedback(iv, a, b, tt.from, tt.in, clock("13:05"))
			then(t, err, tt.err, iv.Changes(), tt.wantIV)
			then(t, err, tt.err, a.Changes(), tt.wantA)
			then(t, err, tt.err, b.Changes(), tt.wantB)
		})
	}
}

package domain

import (
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// The decisions below touch an interview and its participants' streams at once;
// they record on every aggregate involved and ChangesOf makes one append of them.

// Bounds of a cancellation's reason and of feedback (rule 9); the API's document
// states them from here.
const (
	MaxReasonLength  = 500
	MaxCommentLength = 2000
	MaxSkills        = 20
	MaxSkillName     = 64
	MinRating        = 1
	MaxRating        = 5
)

// CancelInterview applies rule 7: either participant, before completion. The other
// side is told through InterviewCancelled; both matched entries end (MatchCancelled)
// and the other side's entry is requeued when its window still fits an interview and
// rule 2 still holds for it. Cancelling twice records nothing.
func CancelInterview(iv *Interview, candidate, interviewer *User, by uuid.UUID, reason string,
	now time.Time, duration time.Duration) error {
	if err := iv.participant(by); err != nil {
		return err
	}
	reason, err := parseText("reason", reason, false)
	if err != nil {
		return err
	}
	if utf8.RuneCountInString(reason) > MaxReasonLength {
		return ErrCancelReasonTooLong
	}
	switch iv.status {
	case StatusCancelled:
		return nil
	case StatusCompleted, StatusNoShow:
		return ErrInterviewAlreadyFinished
	}
	if err := candidate.mustBe(iv.candidate); err != nil {
		return err
	}
	if err := interviewer.mustBe(iv.interviewer); err != nil {
		return err
	}
	now = utc(now)
	other := candidate
	if by == iv.candidate {
		other = interviewer
	}
	var requeued uuid.NullUUID
	entry, ok := other.requeueable(iv.id, now, duration)
	if ok {
		requeued = uuid.NullUUID{UUID: entry.ID, Valid: true}
	}
	iv.record(InterviewCancelled{
		InterviewID: iv.id, CancelledBy: by, OtherUserID: other.id, CandidateID: iv.candidate,
		InterviewerID: iv.interviewer, Reason: reason, RequeuedEntryID: requeued,
		ScheduledAt: iv.slot.Start, CancelledAt: now,
	})
	cancelled := MatchCancelled{
		InterviewID: iv.id, CandidateID: iv.candidate, InterviewerID: iv.interviewer,
		CandidateEntryID: iv.candidateEntry, InterviewerEntryID: iv.interviewerEntry, CancelledBy: by,
		Reason: reason, RequeuedEntryID: requeued, ScheduledAt: iv.slot.Start, CancelledAt: now,
	}
	candidate.record(cancelled)
	interviewer.record(cancelled)
	if ok {
		other.record(QueueEntryRequeued{
			UserID: other.id, EntryID: entry.ID, Role: entry.Role, Profession: entry.Profession,
			Language: entry.Language, WindowStart: entry.Window.Start, WindowEnd: entry.Window.End,
			InterviewID: iv.id, RequeuedAt: now,
		})
	}
	return nil
}

// ReportNoShow applies rule 8: a participant reports the other absent from 10 minutes
// after the interview's time. The interview ends as no_show and the absence counts on
// the absent user's stream (AbsenceRecorded). The same report again records nothing.
func ReportNoShow(iv *Interview, absent *User, reporter uuid.UUID, now time.Time) error {
	if err := iv.participant(reporter); err != nil {
		return err
	}
	switch iv.status {
	case StatusNoShow:
		if iv.absent == iv.Other(reporter) {
			return nil
		}
		return ErrInterviewAlreadyFinished
	case StatusCompleted, StatusCancelled:
		return ErrInterviewAlreadyFinished
	}
	now = utc(now)
	if now.Before(iv.slot.Start.Add(NoShowGrace)) {
		return ErrNoShowTooEarly
	}
	if iv.status == StatusInProgress && iv.startedBy == iv.Other(reporter) {
		return ErrNoShowStartedByAbsent
	}
	if err := absent.mustBe(iv.Other(reporter)); err != nil {
		return err
	}
	iv.record(NoShowReported{InterviewID: iv.id, ReportedBy: reporter, AbsentUserID: absent.id,
		ScheduledAt: iv.slot.Start, ReportedAt: now})
	absent.record(AbsenceRecorded{UserID: absent.id, InterviewID: iv.id, ReportedBy: reporter,
		ScheduledAt: iv.slot.Start, NoShowCount: absent.noShows + 1, RecordedAt: now})
	return nil
}

// FeedbackInput is one participant's assessment of the other.
type FeedbackInput struct {
	Rating  int
	Skills  map[string]int
	Comment string
}

func parseFeedback(in FeedbackInput) (FeedbackInput, error) {
	var c checks
	if in.Rating < MinRating || in.Rating > MaxRating {
		c.check("rating", fmt.Errorf("%w: %d", ErrFeedbackRatingInvalid, in.Rating))
	}
	skills, err := parseSkills(in.Skills)
	c.check("skills", err)
	comment, err := parseText("comment", in.Comment, true)
	if err == nil && utf8.RuneCountInString(comment) > MaxCommentLength {
		err = ErrFeedbackCommentTooLong
	}
	c.check("comment", err)
	if err := c.err(); err != nil {
		return FeedbackInput{}, err
	}
	return FeedbackInput{Rating: in.Rating, Skills: skills, Comment: comment}, nil
}

func parseSkills(in map[string]int) (map[string]int, error) {
	if len(in) > MaxSkills {
		return nil, fmt.Errorf("%w: %d skills", ErrFeedbackSkillInvalid, len(in))
	}
	skills := make(map[string]int, len(in))
	for name, score := range in {
		n, err := parseText("skills", name, false)
		if err != nil {
			return nil, err
		}
		if n == "" || utf8.RuneCountInString(n) > MaxSkillName || score < MinRating || score > MaxRating {
			return nil, fmt.Errorf("%w: %q=%d", ErrFeedbackSkillInvalid, name, score)
		}
		if _, dup := skills[n]; dup {
			return nil, fmt.Errorf("%w: %q twice", ErrFeedbackSkillInvalid, n)
		}
		skills[n] = score
	}
	return skills, nil
}

// SubmitFeedback applies rule 9: participants only, after completion, once each.
// When it is the second feedback, each participant's preferred role becomes the
// opposite of the role they just played (nothing is recorded for a user already there).
func SubmitFeedback(iv *Interview, candidate, interviewer *User, from uuid.UUID, in FeedbackInput, now time.Time) error {
	if err := iv.participant(from); err != nil {
		return err
	}
	fb, err := parseFeedback(in)
	if err != nil {
		return err
	}
	if iv.status != StatusCompleted {
		return ErrInterviewNotCompleted
	}
	if _, given := iv.feedback[from]; given {
		return ErrFeedbackAlreadyGiven
	}
	if err := candidate.mustBe(iv.candidate); err != nil {
		return err
	}
	if err := interviewer.mustBe(iv.interviewer); err != nil {
		return err
	}
	now = utc(now)
	iv.record(FeedbackSubmitted{InterviewID: iv.id, FromUserID: from, ToUserID: iv.Other(from),
		FromRole: iv.RoleOf(from), Rating: fb.Rating, Skills: fb.Skills, Comment: fb.Comment, SubmittedAt: now})
	if len(iv.feedback) < 2 {
		return nil
	}
	for _, u := range []*User{candidate, interviewer} {
		next := iv.RoleOf(u.id).Opposite()
		if u.preferredRole != next {
			u.record(PreferredRoleSwitched{UserID: u.id, InterviewID: iv.id, From: u.preferredRole,
				To: next, SwitchedAt: now})
		}
	}
	return nil
}

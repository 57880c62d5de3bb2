package domain

import (
	"context"
	"maps"
	"time"

	"github.com/google/uuid"
)

// InterviewStatus: scheduled → in_progress → completed | cancelled | no_show.
type InterviewStatus string

const (
	StatusScheduled  InterviewStatus = "scheduled"
	StatusInProgress InterviewStatus = "in_progress"
	StatusCompleted  InterviewStatus = "completed"
	StatusCancelled  InterviewStatus = "cancelled"
	StatusNoShow     InterviewStatus = "no_show"
)

const (
	// StartLead is how early before its time an interview may start (rule 8).
	StartLead = 10 * time.Minute
	// NoShowGrace is how long after its time an absence may be reported (rule 8).
	NoShowGrace = 10 * time.Minute
)

// Interview is the interview-<uuid> aggregate.
type Interview struct {
	id       uuid.UUID
	version  int64
	recorded []Event

	candidate        uuid.UUID
	interviewer      uuid.UUID
	candidateEntry   uuid.UUID
	interviewerEntry uuid.UUID
	profession       Profession
	language         Language
	slot             Slot
	link             string
	status           InterviewStatus
	matchedAt        time.Time
	startedAt        time.Time
	startedBy        uuid.UUID
	completedAt      time.Time
	cancelledAt      time.Time
	cancelledBy      uuid.UUID
	absent           uuid.UUID
	feedback         map[uuid.UUID]Feedback
	sent             map[uuid.UUID]*sentNotification
}

// Feedback is what one participant said about the other.
type Feedback struct {
	From    uuid.UUID
	To      uuid.UUID
	Rating  int
	Skills  map[string]int
	Comment string
	At      time.Time
}

type sentNotification struct {
	kind NotificationKind
	user uuid.UUID
	read bool
}

// LoadInterview replays an interview stream; version is the stream's version as loaded.
func LoadInterview(history []Event, version int64) (*Interview, error) {
	return newInterview().Advance(history, version).(*Interview).found()
}

// FoldInterview loads an interview from store, through its snapshots if it keeps them.
func FoldInterview(ctx context.Context, store Store, id uuid.UUID) (*Interview, error) {
	iv, err := fold(ctx, store, InterviewStream(id), newInterview())
	if err != nil {
		return nil, err
	}
	return iv.found()
}

func (iv *Interview) found() (*Interview, error) {
	if iv.id == uuid.Nil {
		return nil, ErrInterviewNotFound
	}
	return iv, nil
}

// Advance folds events into a copy of the interview that shares nothing it could
// change (a feedback's skills are replaced whole, never edited).
func (iv *Interview) Advance(events []Event, version int64) Snapshot {
	c := *iv
	c.recorded = nil
	c.feedback = maps.Clone(iv.feedback)
	c.sent = make(map[uuid.UUID]*sentNotification, len(iv.sent)+len(events))
	for id, n := range iv.sent {
		sent := *n
		c.sent[id] = &sent
	}
	for _, e := range events {
		c.apply(value(e))
	}
	c.version = version
	return &c
}

func newInterview() *Interview {
	return &Interview{feedback: make(map[uuid.UUID]Feedback), sent: make(map[uuid.UUID]*sentNotification)}
}

func (iv *Interview) ID() uuid.UUID                  { return iv.id }
func (iv *Interview) Stream() string                 { return InterviewStream(iv.id) }
func (iv *Interview) Version() int64                 { return iv.version }
func (iv *Interview) Changes() []Event               { return append([]Event(nil), iv.recorded...) }
func (iv *Interview) Candidate() uuid.UUID           { return iv.candidate }
func (iv *Interview) Interviewer() uuid.UUID         { return iv.interviewer }
func (iv *Interview) Profession() Profession         { return iv.profession }
func (iv *Interview) Language() Language             { return iv.language }
func (iv *Interview) Slot() Slot                     { return iv.slot }
func (iv *Interview) ScheduledAt() time.Time         { return iv.slot.Start }
func (iv *Interview) Duration() time.Duration        { return iv.slot.End.Sub(iv.slot.Start) }
func (iv *Interview) MeetingLink() string            { return iv.link }
func (iv *Interview) Status() InterviewStatus        { return iv.status }
func (iv *Interview) StartedAt() time.Time           { return iv.startedAt }
func (iv *Interview) CompletedAt() time.Time         { return iv.completedAt }
func (iv *Interview) CancelledBy() uuid.UUID         { return iv.cancelledBy }
func (iv *Interview) AbsentUser() uuid.UUID          { return iv.absent }
func (iv *Interview) IsParticipant(u uuid.UUID) bool { return u == iv.candidate || u == iv.interviewer }

// Feedback is what user gave, if anything.
func (iv *Interview) Feedback(from uuid.UUID) (Feedback, bool) {
	f, ok := iv.feedback[from]
	f.Skills = maps.Clone(f.Skills)
	return f, ok
}

// Other is the participant who is not u.
func (iv *Interview) Other(u uuid.UUID) uuid.UUID {
	if u == iv.candidate {
		return iv.interviewer
	}
	return iv.candidate
}

// RoleOf is the side u plays.
func (iv *Interview) RoleOf(u uuid.UUID) InterviewRole {
	if u == iv.interviewer {
		return Interviewer
	}
	return Candidate
}

func (iv *Interview) record(e Event) {
	iv.apply(e)
	iv.recorded = append(iv.recorded, e)
}

// apply changes state only; it never validates, so every stored history replays.
func (iv *Interview) apply(e Event) {
	switch e := e.(type) {
	case InterviewScheduled:
		iv.id, iv.candidate, iv.interviewer = e.InterviewID, e.CandidateID, e.InterviewerID
		iv.candidateEntry, iv.interviewerEntry = e.CandidateEntryID, e.InterviewerEntryID
		iv.profession, iv.language, iv.link = e.Profession, e.Language, e.MeetingLink
		iv.slot = Slot{Start: e.ScheduledAt, End: e.ScheduledAt.Add(time.Duration(e.DurationMinutes) * time.Minute)}
		iv.status, iv.matchedAt = StatusScheduled, e.MatchedAt
	case InterviewStarted:
		iv.status, iv.startedAt, iv.startedBy = StatusInProgress, e.StartedAt, e.StartedBy
	case InterviewCompleted:
		iv.status, iv.completedAt = StatusCompleted, e.CompletedAt
	case InterviewCancelled:
		iv.status, iv.cancelledAt, iv.cancelledBy = StatusCancelled, e.CancelledAt, e.CancelledBy
	case NoShowReported:
		iv.status, iv.absent = StatusNoShow, e.AbsentUserID
	case FeedbackSubmitted:
		iv.feedback[e.FromUserID] = Feedback{From: e.FromUserID, To: e.ToUserID, Rating: e.Rating,
			Skills: e.Skills, Comment: e.Comment, At: e.SubmittedAt}
	case NotificationSent:
		iv.sent[e.NotificationID] = &sentNotification{kind: e.Kind, user: e.UserID}
	case NotificationRead:
		if n, ok := iv.sent[e.NotificationID]; ok {
			n.read = true
		}
	}
}

func (iv *Interview) participant(u uuid.UUID) error {
	if !iv.IsParticipant(u) {
		return ErrInterviewNotParticipant
	}
	return nil
}

// Start opens the session from 10 minutes before its time (rule 8). Starting it
// again, say by the other side, records nothing.
func (iv *Interview) Start(by uuid.UUID, now time.Time) error {
	if err := iv.participant(by); err != nil {
		return err
	}
	switch iv.status {
	case StatusInProgress:
		return nil
	case StatusScheduled:
	default:
		return ErrInterviewNotScheduled
	}
	now = utc(now)
	if now.Before(iv.slot.Start.Add(-StartLead)) {
		return ErrInterviewStartTooEarly
	}
	iv.record(InterviewStarted{InterviewID: iv.id, StartedBy: by, CandidateID: iv.candidate,
		InterviewerID: iv.interviewer, ScheduledAt: iv.slot.Start, StartedAt: now})
	return nil
}

// Complete closes a started session from its scheduled time on (rule 8): a session
// started early cannot be closed before it was due, which would take the partner's
// no-show report away. Completing it again records nothing.
func (iv *Interview) Complete(by uuid.UUID, now time.Time) error {
	if err := iv.participant(by); err != nil {
		return err
	}
	switch iv.status {
	case StatusCompleted:
		return nil
	case StatusInProgress:
	default:
		return ErrInterviewNotInProgress
	}
	now = utc(now)
	if now.Before(iv.slot.Start) {
		return ErrInterviewCompleteTooEarly
	}
	iv.record(InterviewCompleted{InterviewID: iv.id, CompletedBy: by, CandidateID: iv.candidate,
		InterviewerID: iv.interviewer, StartedAt: iv.startedAt, CompletedAt: now})
	return nil
}

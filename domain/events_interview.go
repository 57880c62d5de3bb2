package domain

import (
	"time"

	"github.com/google/uuid"
)

// Events of the interview-<uuid> streams.

// InterviewScheduled opens an interview stream; it mirrors, field for field, the
// MatchMade the two user streams receive in the same append.
type InterviewScheduled MatchMade

type InterviewStarted struct {
	InterviewID   uuid.UUID `json:"interview_id"`
	StartedBy     uuid.UUID `json:"started_by"`
	CandidateID   uuid.UUID `json:"candidate_id"`
	InterviewerID uuid.UUID `json:"interviewer_id"`
	ScheduledAt   time.Time `json:"scheduled_at"`
	StartedAt     time.Time `json:"started_at"`
}

type InterviewCompleted struct {
	InterviewID   uuid.UUID `json:"interview_id"`
	CompletedBy   uuid.UUID `json:"completed_by"`
	CandidateID   uuid.UUID `json:"candidate_id"`
	InterviewerID uuid.UUID `json:"interviewer_id"`
	StartedAt     time.Time `json:"started_at"`
	CompletedAt   time.Time `json:"completed_at"`
}

// InterviewCancelled tells the other side (OtherUserID) and says which of their entries,
// if any, went back to the queue.
type InterviewCancelled struct {
	InterviewID     uuid.UUID     `json:"interview_id"`
	CancelledBy     uuid.UUID     `json:"cancelled_by"`
	OtherUserID     uuid.UUID     `json:"other_user_id"`
	CandidateID     uuid.UUID     `json:"candidate_id"`
	InterviewerID   uuid.UUID     `json:"interviewer_id"`
	Reason          string        `json:"reason" personal:"cancelled_by"`
	RequeuedEntryID uuid.NullUUID `json:"requeued_entry_id"`
	ScheduledAt     time.Time     `json:"scheduled_at"`
	CancelledAt     time.Time     `json:"cancelled_at"`
}

type NoShowReported struct {
	InterviewID  uuid.UUID `json:"interview_id"`
	ReportedBy   uuid.UUID `json:"reported_by"`
	AbsentUserID uuid.UUID `json:"absent_user_id"`
	ScheduledAt  time.Time `json:"scheduled_at"`
	ReportedAt   time.Time `json:"reported_at"`
}

type FeedbackSubmitted struct {
	InterviewID uuid.UUID      `json:"interview_id"`
	FromUserID  uuid.UUID      `json:"from_user_id"`
	ToUserID    uuid.UUID      `json:"to_user_id"`
	FromRole    InterviewRole  `json:"from_role" personal:"no"`
	Rating      int            `json:"rating"`
	Skills      map[string]int `json:"skills" personal:"no"`
	Comment     string         `json:"comment" personal:"from_user_id"`
	SubmittedAt time.Time      `json:"submitted_at"`
}

// NotificationSent records a delivered message about an interview on the interview's
// stream, so delivery is deduplicated by the same expected version that orders
// cancellation: a reminder can never be recorded after a cancellation it did not see.
type NotificationSent struct {
	NotificationID uuid.UUID        `json:"notification_id"`
	InterviewID    uuid.UUID        `json:"interview_id"`
	UserID         uuid.UUID        `json:"user_id"`
	Kind           NotificationKind `json:"kind" personal:"no"`
	// The text is rendered from the interview's facts (kind, time, link): no names and no
	// free text of anyone, so nothing personal.
	Text   string    `json:"text" personal:"no"`
	SentAt time.Time `json:"sent_at"`
	// What delivery learnt, added after v1 was published (omitempty keeps old payloads
	// valid): the title in the recipient's language, Telegram's message id when Telegram
	// took the message, and why it did not when it did not (blocked, unknown outcome).
	// Recording ignores them: they describe the message, not the interview.
	Title             string `json:"title,omitempty" personal:"no"`
	TelegramMessageID int64  `json:"telegram_message_id,omitempty"`
	TelegramError     string `json:"telegram_error,omitempty" personal:"no"`
}

type NotificationRead struct {
	NotificationID uuid.UUID        `json:"notification_id"`
	InterviewID    uuid.UUID        `json:"interview_id"`
	UserID         uuid.UUID        `json:"user_id"`
	Kind           NotificationKind `json:"kind" personal:"no"`
	ReadAt         time.Time        `json:"read_at"`
}

func (InterviewScheduled) EventType() string { return "InterviewScheduled" }
func (InterviewStarted) EventType() string   { return "InterviewStarted" }
func (InterviewCompleted) EventType() string { return "InterviewCompleted" }
func (InterviewCancelled) EventType() string { return "InterviewCancelled" }
func (NoShowReported) EventType() string     { return "NoShowReported" }
func (FeedbackSubmitted) EventType() string  { return "FeedbackSubmitted" }
func (NotificationSent) EventType() string   { return "NotificationSent" }
func (NotificationRead) EventType() string   { return "NotificationRead" }

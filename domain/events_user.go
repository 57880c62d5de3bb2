package domain

import (
	"time"

	"github.com/google/uuid"
)

// Events of the user-<uuid> and telegram-<id> streams. Payloads are self-contained:
// a reader of one event needs no other. json tags never change once published.

// TelegramIDClaimed is the only event of a telegram-<id> stream; appending it with a
// "no stream" expectation is what makes one Telegram id one user.
type TelegramIDClaimed struct {
	TelegramID int64     `json:"telegram_id"`
	UserID     uuid.UUID `json:"user_id"`
	ClaimedAt  time.Time `json:"claimed_at"`
}

type UserRegistered struct {
	UserID        uuid.UUID     `json:"user_id"`
	TelegramID    int64         `json:"telegram_id"`
	Username      string        `json:"username" personal:"user_id"`
	FirstName     string        `json:"first_name" personal:"user_id"`
	LastName      string        `json:"last_name" personal:"user_id"`
	PhotoURL      string        `json:"photo_url" personal:"user_id"`
	Role          Role          `json:"role" personal:"no"`
	PreferredRole InterviewRole `json:"preferred_role" personal:"no"`
	Timezone      Timezone      `json:"timezone" personal:"no"`
	RegisteredAt  time.Time     `json:"registered_at"`
}

// RoleChanged follows the admin list of the configuration at login.
type RoleChanged struct {
	UserID     uuid.UUID `json:"user_id"`
	TelegramID int64     `json:"telegram_id"`
	From       Role      `json:"from" personal:"no"`
	To         Role      `json:"to" personal:"no"`
	ChangedAt  time.Time `json:"changed_at"`
}

// ProfileUpdated carries the whole profile after the change.
type ProfileUpdated struct {
	UserID    uuid.UUID `json:"user_id"`
	FirstName string    `json:"first_name" personal:"user_id"`
	LastName  string    `json:"last_name" personal:"user_id"`
	Timezone  Timezone  `json:"timezone" personal:"no"`
	UpdatedAt time.Time `json:"updated_at"`
}

// ProfessionsSelected carries the whole selection, in display order.
type ProfessionsSelected struct {
	UserID      uuid.UUID    `json:"user_id"`
	Professions []Profession `json:"professions" personal:"no"`
	SelectedAt  time.Time    `json:"selected_at"`
}

type FormSubmitted struct {
	UserID      uuid.UUID  `json:"user_id"`
	Profession  Profession `json:"profession" personal:"no"`
	Country     Country    `json:"country" personal:"no"`
	Experience  Experience `json:"experience" personal:"no"`
	Language    Language   `json:"language" personal:"no"`
	Email       Email      `json:"email,omitempty" personal:"user_id"`
	Phone       Phone      `json:"phone,omitempty" personal:"user_id"`
	Tools       []string   `json:"tools" personal:"user_id"`
	SubmittedAt time.Time  `json:"submitted_at"`
}

type QueueJoined struct {
	UserID      uuid.UUID     `json:"user_id"`
	EntryID     uuid.UUID     `json:"entry_id"`
	Role        InterviewRole `json:"role" personal:"no"`
	Profession  Profession    `json:"profession" personal:"no"`
	Language    Language      `json:"language" personal:"no"`
	WindowStart time.Time     `json:"window_start"`
	WindowEnd   time.Time     `json:"window_end"`
	JoinedAt    time.Time     `json:"joined_at"`
}

type QueueLeft struct {
	UserID      uuid.UUID     `json:"user_id"`
	EntryID     uuid.UUID     `json:"entry_id"`
	Role        InterviewRole `json:"role" personal:"no"`
	Profession  Profession    `json:"profession" personal:"no"`
	Language    Language      `json:"language" personal:"no"`
	WindowStart time.Time     `json:"window_start"`
	WindowEnd   time.Time     `json:"window_end"`
	LeftAt      time.Time     `json:"left_at"`
}

type QueueEntryExpired struct {
	UserID      uuid.UUID     `json:"user_id"`
	EntryID     uuid.UUID     `json:"entry_id"`
	Role        InterviewRole `json:"role" personal:"no"`
	Profession  Profession    `json:"profession" personal:"no"`
	Language    Language      `json:"language" personal:"no"`
	WindowStart time.Time     `json:"window_start"`
	WindowEnd   time.Time     `json:"window_end"`
	ExpiredAt   time.Time     `json:"expired_at"`
}

// QueueEntryRequeued puts a matched entry back to waiting after the other side
// cancelled (rule 7); it carries the entry so the matchmaker can consider it again.
type QueueEntryRequeued struct {
	UserID      uuid.UUID     `json:"user_id"`
	EntryID     uuid.UUID     `json:"entry_id"`
	Role        InterviewRole `json:"role" personal:"no"`
	Profession  Profession    `json:"profession" personal:"no"`
	Language    Language      `json:"language" personal:"no"`
	WindowStart time.Time     `json:"window_start"`
	WindowEnd   time.Time     `json:"window_end"`
	InterviewID uuid.UUID     `json:"interview_id"`
	RequeuedAt  time.Time     `json:"requeued_at"`
}

// MatchMade is appended, identical, to both users' streams; each user applies its side.
type MatchMade struct {
	InterviewID        uuid.UUID  `json:"interview_id"`
	CandidateID        uuid.UUID  `json:"candidate_id"`
	InterviewerID      uuid.UUID  `json:"interviewer_id"`
	CandidateEntryID   uuid.UUID  `json:"candidate_entry_id"`
	InterviewerEntryID uuid.UUID  `json:"interviewer_entry_id"`
	Profession         Profession `json:"profession" personal:"no"`
	Language           Language   `json:"language" personal:"no"`
	ScheduledAt        time.Time  `json:"scheduled_at"`
	DurationMinutes    int        `json:"duration_minutes"`
	MeetingLink        string     `json:"meeting_link" personal:"no"`
	MatchedAt          time.Time  `json:"matched_at"`
}

// MatchCancelled is appended, identical, to both users' streams when the interview is
// cancelled: both matched entries end and the slot is free again. RequeuedEntryID
// names the entry a QueueEntryRequeued then puts back, if any.
type MatchCancelled struct {
	InterviewID        uuid.UUID     `json:"interview_id"`
	CandidateID        uuid.UUID     `json:"candidate_id"`
	InterviewerID      uuid.UUID     `json:"interviewer_id"`
	CandidateEntryID   uuid.UUID     `json:"candidate_entry_id"`
	InterviewerEntryID uuid.UUID     `json:"interviewer_entry_id"`
	CancelledBy        uuid.UUID     `json:"cancelled_by"`
	Reason             string        `json:"reason" personal:"cancelled_by"`
	RequeuedEntryID    uuid.NullUUID `json:"requeued_entry_id"`
	ScheduledAt        time.Time     `json:"scheduled_at"`
	CancelledAt        time.Time     `json:"cancelled_at"`
}

// AbsenceRecorded counts a reported no-show on the absent user's stream.
type AbsenceRecorded struct {
	UserID      uuid.UUID `json:"user_id"`
	InterviewID uuid.UUID `json:"interview_id"`
	ReportedBy  uuid.UUID `json:"reported_by"`
	ScheduledAt time.Time `json:"scheduled_at"`
	NoShowCount int       `json:"no_show_count"`
	RecordedAt  time.Time `json:"recorded_at"`
}

// PreferredRoleSwitched follows an interview both sides gave feedback on: the user's
// next preferred role is the opposite of the one they just played.
type PreferredRoleSwitched struct {
	UserID      uuid.UUID     `json:"user_id"`
	InterviewID uuid.UUID     `json:"interview_id"`
	From        InterviewRole `json:"from" personal:"no"`
	To          InterviewRole `json:"to" personal:"no"`
	SwitchedAt  time.Time     `json:"switched_at"`
}

// PersonalDataErased follows the deletion of the user's data key: every personal field
// the user ever gave reads as erased from then on, and read tables clear them.
type PersonalDataErased struct {
	UserID   uuid.UUID `json:"user_id"`
	ErasedBy uuid.UUID `json:"erased_by"` // the user themselves or an admin
	ErasedAt time.Time `json:"erased_at"`
}

func (TelegramIDClaimed) EventType() string     { return "TelegramIDClaimed" }
func (UserRegistered) EventType() string        { return "UserRegistered" }
func (RoleChanged) EventType() string           { return "RoleChanged" }
func (ProfileUpdated) EventType() string        { return "ProfileUpdated" }
func (ProfessionsSelected) EventType() string   { return "ProfessionsSelected" }
func (FormSubmitted) EventType() string         { return "FormSubmitted" }
func (QueueJoined) EventType() string           { return "QueueJoined" }
func (QueueLeft) EventType() string             { return "QueueLeft" }
func (QueueEntryExpired) EventType() string     { return "QueueEntryExpired" }
func (QueueEntryRequeued) EventType() string    { return "QueueEntryRequeued" }
func (MatchMade) EventType() string             { return "MatchMade" }
func (MatchCancelled) EventType() string        { return "MatchCancelled" }
func (AbsenceRecorded) EventType() string       { return "AbsenceRecorded" }
func (PreferredRoleSwitched) EventType() string { return "PreferredRoleSwitched" }
func (PersonalDataErased) EventType() string    { return "PersonalDataErased" }

package domain

import "errors"

// Kind says what sort of refusal an error is, so that one table in http/ maps every
// domain error to a status code without knowing the codes.
type Kind string

const (
	KindInvalid   Kind = "invalid"   // the input is malformed on its own (400)
	KindConflict  Kind = "conflict"  // the input is fine but the current state breaks a rule (409)
	KindNotFound  Kind = "not-found" // the thing does not exist, or is not yours to see (404)
	KindForbidden Kind = "forbidden" // it exists but the actor may not act on it (403)
)

// Error is a refusal with a stable slug code that clients may branch on. Sentinels
// are compared with errors.Is; details are added by wrapping (fmt.Errorf("%w: …")).
type Error struct {
	code string
	kind Kind
	msg  string
}

func newError(kind Kind, code, msg string) *Error {
	return &Error{code: code, kind: kind, msg: msg}
}

func (e *Error) Error() string   { return e.msg }
func (e *Error) Code() string    { return e.code }
func (e *Error) Kind() Kind      { return e.kind }
func (e *Error) Message() string { return e.msg }

// ErrConcurrency is what the Store adapter returns (wrapped) when a stream's version
// is not the expected one; the Service retries on fresh state.
var ErrConcurrency = errors.New("concurrent modification")

// Malformed input.
var (
	ErrTextInvalid             = newError(KindInvalid, "text-invalid", "must be valid UTF-8 without control characters or bidirectional overrides")
	ErrTelegramIdentityInvalid = newError(KindInvalid, "telegram-identity-invalid", "telegram identity is invalid")
	ErrProfileNameInvalid      = newError(KindInvalid, "profile-name-invalid", "first name is required and names are at most 64 characters")
	ErrTimezoneInvalid         = newError(KindInvalid, "timezone-invalid", "timezone must be an IANA name such as Europe/Moscow")
	ErrProfessionUnknown       = newError(KindInvalid, "profession-unknown", "unknown profession")
	ErrProfessionsEmpty        = newError(KindInvalid, "professions-empty", "select at least one profession")
	ErrCountryInvalid          = newError(KindInvalid, "country-invalid", "country must be an ISO 3166-1 alpha-2 code")
	ErrLanguageInvalid         = newError(KindInvalid, "language-invalid", "language must be an ISO 639-1 code")
	ErrExperienceInvalid       = newError(KindInvalid, "experience-invalid", "experience must be one of 0-1, 1-3, 3-5, 5-10, 10+")
	ErrEmailInvalid            = newError(KindInvalid, "email-invalid", "email address is invalid")
	ErrPhoneInvalid            = newError(KindInvalid, "phone-invalid", "phone must be + followed by 7 to 15 digits")
	ErrToolsInvalid            = newError(KindInvalid, "tools-invalid", "at most 30 tools of at most 50 characters each")
	ErrRoleInvalid             = newError(KindInvalid, "role-invalid", "role must be user or admin")
	ErrInterviewRoleInvalid    = newError(KindInvalid, "interview-role-invalid", "role must be candidate or interviewer")
	ErrQueueWindowInvalid      = newError(KindInvalid, "queue-window-invalid", "window end must be after its start")
	ErrQueueWindowInPast       = newError(KindInvalid, "queue-window-in-past", "window must end in the future")
	ErrQueueWindowTooFar       = newError(KindInvalid, "queue-window-too-far", "window must start within 14 days")
	ErrQueueWindowTooShort     = newError(KindInvalid, "queue-window-too-short", "window is shorter than one interview")
	ErrQueueWindowTooLong      = newError(KindInvalid, "queue-window-too-long", "window is longer than 24 hours")
	ErrFeedbackRatingInvalid   = newError(KindInvalid, "feedback-rating-invalid", "rating must be between 1 and 5")
	ErrFeedbackSkillInvalid    = newError(KindInvalid, "feedback-skill-invalid", "at most 20 skills, each named and rated 1 to 5")
	ErrFeedbackCommentTooLong  = newError(KindInvalid, "feedback-comment-too-long", "comment is longer than 2000 characters")
	ErrCancelReasonTooLong     = newError(KindInvalid, "cancel-reason-too-long", "reason is longer than 500 characters")
)

// Rules broken by the current state.
var (
	ErrQueueTooManyEntries        = newError(KindConflict, "queue-too-many-entries", "at most 3 waiting queue entries")
	ErrQueueWindowOverlaps        = newError(KindConflict, "queue-window-overlaps", "window overlaps another of your waiting entries")
	ErrQueueWindowOverlapsMeeting = newError(KindConflict, "queue-window-overlaps-interview", "window overlaps one of your scheduled interviews")
	ErrQueueEntryNotWaiting       = newError(KindConflict, "queue-entry-not-waiting", "queue entry is not waiting")
	ErrQueueEntryNotExpired       = newError(KindConflict, "queue-entry-not-expired", "queue entry can still fit an interview")
	ErrMatchSameUser              = newError(KindConflict, "match-same-user", "a user cannot be matched with themselves")
	ErrMatchIncompatible          = newError(KindConflict, "match-incompatible", "entries need opposite roles and the same profession and language")
	ErrMatchNoSlot                = newError(KindConflict, "match-no-slot", "the windows do not share a slot for an interview")
	ErrInterviewNotScheduled      = newError(KindConflict, "interview-not-scheduled", "interview is not scheduled")
	ErrInterviewStartTooEarly     = newError(KindConflict, "interview-start-too-early", "an interview starts at the earliest 10 minutes before its time")
	ErrInterviewCompleteTooEarly  = newError(KindConflict, "interview-complete-too-early", "an interview is completed at the earliest at its scheduled time")
	ErrInterviewNotInProgress     = newError(KindConflict, "interview-not-in-progress", "interview is not in progress")
	ErrInterviewAlreadyFinished   = newError(KindConflict, "interview-already-finished", "interview is already completed or closed")
	ErrNoShowTooEarly             = newError(KindConflict, "no-show-too-early", "absence can be reported from 10 minutes after the start")
	ErrNoShowStartedByAbsent      = newError(KindConflict, "no-show-started-by-absent", "the other side started this session: they were there")
	ErrInterviewNotCompleted      = newError(KindConflict, "interview-not-completed", "feedback is given after the interview is completed")
	ErrFeedbackAlreadyGiven       = newError(KindConflict, "feedback-already-given", "feedback was already given")
	ErrNotificationNotDue         = newError(KindConflict, "notification-not-due", "notification is not due")
)

// Missing things and strangers.
var (
	ErrUserNotFound            = newError(KindNotFound, "user-not-found", "user not found")
	ErrInterviewNotFound       = newError(KindNotFound, "interview-not-found", "interview not found")
	ErrQueueEntryNotFound      = newError(KindNotFound, "queue-entry-not-found", "queue entry not found")
	ErrNotificationNotFound    = newError(KindNotFound, "notification-not-found", "notification not found")
	ErrInterviewNotParticipant = newError(KindForbidden, "interview-not-participant", "only participants may do this")
)

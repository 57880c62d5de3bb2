package projections

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/supermock/engine/domain"
)

// The reads of the /legacy group, in the shapes the old backend's API answered: the
// existing React frontend reads these field names.

// LegacyPerson is a participant as the old pages show them: id is the Telegram id.
type LegacyPerson struct {
	ID        int64  `json:"id"`
	FirstName string `json:"firstName"`
	LastName  string `json:"lastName"`
}

// LegacySession is an interview as the old backend called it: a session.
type LegacySession struct {
	ID                string       `json:"id"`
	Profession        string       `json:"profession"`
	Language          string       `json:"language"`
	ScheduledDateTime time.Time    `json:"scheduledDateTime"`
	MeetingLink       string       `json:"meetingLink"`
	Status            string       `json:"status"`
	Candidate         LegacyPerson `json:"candidate"`
	Interviewer       LegacyPerson `json:"interviewer"`
}

// LegacySessionsQuery asks for a user's interviews of one status.
type LegacySessionsQuery struct {
	UserID uuid.UUID
	Status domain.InterviewStatus
}

// LegacySessions reads them, the latest scheduled first.
var LegacySessions = reading(legacySessions, Interviews, Users)

// LegacySessionOf reads one of a user's interviews; one the user is not in is
// domain.ErrInterviewNotFound.
var LegacySessionOf = reading(legacySessionOf, Interviews, Users)

// legacySessionsSelect selects the interviews of the user $1 with both people.
const legacySessionsSelect = `SELECT i.interview_id::text, i.profession, i.language, i.scheduled_at, i.meeting_link,
		upper(i.status), COALESCE(ca.telegram_id, 0), COALESCE(ca.first_name, ''), COALESCE(ca.last_name, ''),
		COALESCE(iv.telegram_id, 0), COALESCE(iv.first_name, ''), COALESCE(iv.last_name, '')
	FROM interviews i
	LEFT JOIN users ca ON ca.user_id = i.candidate_id
	LEFT JOIN users iv ON iv.user_id = i.interviewer_id
	WHERE (i.candidate_id = $1 OR i.interviewer_id = $1)`

func legacySessions(ctx context.Context, db DB, q LegacySessionsQuery) ([]LegacySession, error) {
	rows, err := db.Query(ctx, legacySessionsSelect+` AND i.status = $2 ORDER BY i.scheduled_at DESC, i.interview_id`,
		q.UserID, string(q.Status))
	if err != nil {
		return nil, err
	}
	list, err := pgx.CollectRows(rows, scanLegacySession)
	return nonNil(list), err
}

func legacySessionOf(ctx context.Context, db DB, q InterviewQuery) (LegacySession, error) {
	return one(ctx, db, domain.ErrInterviewNotFound, scanLegacySession,
		legacySessionsSelect+` AND i.interview_id = $2`, q.UserID, q.InterviewID)
}

func scanLegacySession(r pgx.CollectableRow) (LegacySession, error) {
	var s LegacySession
	err := r.Scan(&s.ID, &s.Profession, &s.Language, &s.ScheduledDateTime, &s.MeetingLink, &s.Status,
		&s.Candidate.ID, &s.Candidate.FirstName, &s.Candidate.LastName,
		&s.Interviewer.ID, &s.Interviewer.FirstName, &s.Interviewer.LastName)
	s.ScheduledDateTime = s.ScheduledDateTime.UTC()
	return s, err
}

// LegacyEntry is a user's place in the queue, with its session once matched.
type LegacyEntry struct {
	ID                           string         `json:"id"`
	Status                       string         `json:"status"`
	Profession                   string         `json:"profession"`
	Language                     string         `json:"language"`
	PreferredDateTime            time.Time      `json:"preferredDateTime"`
	UsersInQueueWithSameLanguage int            `json:"usersInQueueWithSameLanguage"`
	MatchedSession               *LegacySession `json:"matchedSession,omitempty"`
	InterviewID                  *uuid.UUID     `json:"-"`
}

// LegacyEntryQuery picks one of a user's entries: EntryID when set; otherwise the
// newest that still counts at Now, i.e. waiting with room left for an interview of
// Duration, or matched to an interview scheduled or in progress (only those with
// MatchedOnly).
type LegacyEntryQuery struct {
	UserID      uuid.UUID
	EntryID     uuid.UUID
	MatchedOnly bool
	Now         time.Time
	Duration    time.Duration
}

// LegacyEntryOf reads it; nil when there is none.
var LegacyEntryOf = reading(legacyEntryOf, InterviewQueue, Interviews, Users)

func legacyEntryOf(ctx context.Context, db DB, q LegacyEntryQuery) (*LegacyEntry, error) {
	var e LegacyEntry
	err := db.QueryRow(ctx, `SELECT q.entry_id::text, upper(q.status), q.profession, q.language,
			q.window_start, q.interview_id, (SELECT count(*)::int FROM interview_queue o
				WHERE o.status = 'waiting' AND o.profession = q.profession
					AND o.language = q.language AND o.window_end - greatest(o.window_start, $2) >= $3)
		FROM interview_queue q LEFT JOIN interviews i ON i.interview_id = q.interview_id
		WHERE q.user_id = $1 AND CASE WHEN $4::uuid IS NOT NULL THEN q.entry_id = $4
			ELSE q.status = 'matched' AND i.status IN ('scheduled', 'in_progress')
				OR NOT $5 AND q.status = 'waiting' AND q.window_end - greatest(q.window_start, $2) >= $3 END
		ORDER BY q.joined_at DESC, q.position_tx DESC, q.position_offset DESC LIMIT 1`,
		q.UserID, q.Now.UTC(), q.Duration, anyID(q.EntryID), q.MatchedOnly).
		Scan(&e.ID, &e.Status, &e.Profession, &e.Language, &e.PreferredDateTime, &e.InterviewID, &e.UsersInQueueWithSameLanguage)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	e.PreferredDateTime = e.PreferredDateTime.UTC()
	if e.InterviewID != nil {
		s, err := legacySessionOf(ctx, db, InterviewQuery{UserID: q.UserID, InterviewID: *e.InterviewID})
		switch {
		case err == nil:
			e.MatchedSession = &s
		case !errors.Is(err, domain.ErrInterviewNotFound):
			return nil, err
		}
	}
	return &e, nil
}

// LegacySlot is an hour a user may ask for.
type LegacySlot struct {
	Datetime  time.Time `json:"datetime"`
	Available bool      `json:"available"`
}

// LegacySlotsQuery asks for the hour starts from From to To, each available unless an
// interview of the user (scheduled or in progress) overlaps one of Duration from it.
type LegacySlotsQuery struct {
	UserID   uuid.UUID
	From, To time.Time
	Duration time.Duration
}

// LegacySlots reads them.
var LegacySlots = reading(legacySlots, Interviews)

func legacySlots(ctx context.Context, db DB, q LegacySlotsQuery) ([]LegacySlot, error) {
	rows, err := db.Query(ctx, `SELECT h, NOT EXISTS (SELECT 1 FROM interviews i
			WHERE (i.candidate_id = $1 OR i.interviewer_id = $1) AND i.status IN ('scheduled', 'in_progress')
				AND i.scheduled_at < h + $4::interval AND i.scheduled_at + make_interval(mins => i.duration_minutes) > h)
		FROM generate_series($2::timestamptz, $3::timestamptz, interval '1 hour') AS h ORDER BY h`,
		q.UserID, q.From, q.To, q.Duration)
	if err != nil {
		return nil, err
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (LegacySlot, error) {
		var sl LegacySlot
		err := r.Scan(&sl.Datetime, &sl.Available)
		sl.Datetime = sl.Datetime.UTC()
		return sl, err
	})
	return nonNil(list), err
}

// LegacyForm is a user's form as the old pages read it (each field null before the
// first submission), with what decides the role they offer.
type LegacyForm struct {
	Profession       *string `json:"profession"`
	Country          *string `json:"country"`
	Language         *string `json:"language"`
	Experience       *string `json:"experience"`
	Email            *string `json:"email"`
	Phone            *string `json:"phone"`
	PreferredRole    string  `json:"-"`
	FeedbackReceived bool    `json:"-"`
}

// LegacyFormOf reads it; an unknown user is domain.ErrUserNotFound.
var LegacyFormOf = reading(legacyFormOf, Users, UserFormData, Feedback)

func legacyFormOf(ctx context.Context, db DB, userID uuid.UUID) (LegacyForm, error) {
	return one(ctx, db, domain.ErrUserNotFound, func(r pgx.CollectableRow) (LegacyForm, error) {
		var f LegacyForm
		err := r.Scan(&f.PreferredRole, &f.Profession, &f.Country, &f.Language, &f.Experience, &f.Email, &f.Phone,
			&f.FeedbackReceived)
		return f, err
	}, `SELECT u.preferred_role, f.profession, f.country, f.language, f.experience, f.email, f.phone,
			EXISTS (SELECT 1 FROM feedback r WHERE r.to_user_id = u.user_id)
		FROM users u LEFT JOIN user_form_data f ON f.user_id = u.user_id WHERE u.user_id = $1`, userID)
}

// LegacyFeedbackSession is the interview a feedback was given in.
type LegacyFeedbackSession struct {
	ID                string    `json:"id"`
	Profession        string    `json:"profession"`
	ScheduledDateTime time.Time `json:"scheduledDateTime"`
}

// LegacyFeedback is one side's feedback; its id is the interview's and the giver's
// role, which is unique since each side gives it once.
type LegacyFeedback struct {
	ID        string                `json:"id"`
	Rating    int                   `json:"rating"`
	Comment   string                `json:"comment"`
	Skills    map[string]int        `json:"skills"`
	CreatedAt time.Time             `json:"createdAt"`
	FromUser  LegacyPerson          `json:"fromUser"`
	ToUser    LegacyPerson          `json:"toUser"`
	Session   LegacyFeedbackSession `json:"session"`
}

// LegacyFeedbackQuery filters feedback by interview, giver and receiver; uuid.Nil
// matches any.
type LegacyFeedbackQuery struct {
	InterviewID, From, To uuid.UUID
}

// LegacyFeedbackOf reads the feedback the query names, the latest first.
var LegacyFeedbackOf = reading(legacyFeedbackOf, Feedback, Interviews, Users)

func legacyFeedbackOf(ctx context.Context, db DB, q LegacyFeedbackQuery) ([]LegacyFeedback, error) {
	rows, err := db.Query(ctx, `SELECT f.interview_id::text || '-' || f.from_role, f.rating, f.comment, f.skills,
			f.submitted_at, COALESCE(fu.telegram_id, 0), COALESCE(fu.first_name, ''), COALESCE(fu.last_name, ''),
			COALESCE(tu.telegram_id, 0), COALESCE(tu.first_name, ''), COALESCE(tu.last_name, ''),
			i.interview_id::text, i.profession, i.scheduled_at
		FROM feedback f
		JOIN interviews i ON i.interview_id = f.interview_id
		LEFT JOIN users fu ON fu.user_id = f.from_user_id
		LEFT JOIN users tu ON tu.user_id = f.to_user_id
		WHERE ($1::uuid IS NULL OR f.interview_id = $1) AND ($2::uuid IS NULL OR f.from_user_id = $2)
			AND ($3::uuid IS NULL OR f.to_user_id = $3)
		ORDER BY f.submitted_at DESC, f.from_role`, anyID(q.InterviewID), anyID(q.From), anyID(q.To))
	if err != nil {
		return nil, err
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (LegacyFeedback, error) {
		var f LegacyFeedback
		err := r.Scan(&f.ID, &f.Rating, &f.Comment, &f.Skills, &f.CreatedAt,
			&f.FromUser.ID, &f.FromUser.FirstName, &f.FromUser.LastName, &f.ToUser.ID, &f.ToUser.FirstName, &f.ToUser.LastName,
			&f.Session.ID, &f.Session.Profession, &f.Session.ScheduledDateTime)
		f.CreatedAt, f.Session.ScheduledDateTime = f.CreatedAt.UTC(), f.Session.ScheduledDateTime.UTC()
		return f, err
	})
	return nonNil(list), err
}

// anyID is id as a query argument, NULL (any) for uuid.Nil.
func anyID(id uuid.UUID) *uuid.UUID {
	if id == uuid.Nil {
		return nil
	}
	return &id
}

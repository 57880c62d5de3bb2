package projections

import (
	"context"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/supermock/engine/domain"
	"github.com/supermock/engine/internal/jsontime"
	"github.com/supermock/engine/internal/keyset"
)

// Partner is the other participant of an interview.
type Partner struct {
	ID        string `json:"id"`
	Username  string `json:"username"`
	FirstName string `json:"first_name"`
}

// FeedbackGiven is one side's feedback on an interview.
type FeedbackGiven struct {
	FromUserID  string         `json:"from_user_id"`
	ToUserID    string         `json:"to_user_id"`
	FromRole    string         `json:"from_role" enum:"interview-role"`
	Rating      int            `json:"rating"`
	Skills      map[string]int `json:"skills"`
	Comment     string         `json:"comment"`
	SubmittedAt jsontime.Time  `json:"submitted_at"`
}

// Interview is an interview as one of its participants sees it.
type Interview struct {
	ID              string          `json:"id"`
	MyRole          string          `json:"my_role" enum:"interview-role"`
	CandidateID     string          `json:"candidate_id"`
	InterviewerID   string          `json:"interviewer_id"`
	Partner         Partner         `json:"partner"`
	Profession      string          `json:"profession" enum:"profession"`
	Language        string          `json:"language" enum:"language"`
	ScheduledAt     jsontime.Time   `json:"scheduled_at"`
	DurationMinutes int             `json:"duration_minutes"`
	MeetingLink     string          `json:"meeting_link" doc:"the Jitsi room of the interview"`
	Status          string          `json:"status" enum:"interview-status"`
	StartedAt       *jsontime.Time  `json:"started_at"`
	CompletedAt     *jsontime.Time  `json:"completed_at"`
	CancelledAt     *jsontime.Time  `json:"cancelled_at"`
	CancelledBy     *uuid.UUID      `json:"cancelled_by"`
	CancelReason    *string         `json:"cancel_reason"`
	AbsentUserID    *uuid.UUID      `json:"absent_user_id"`
	Feedback        []FeedbackGiven `json:"feedback"`
}

// InterviewsQuery asks for a page of a user's interviews, the latest first.
type InterviewsQuery struct {
	UserID uuid.UUID
	keyset.Page
}

// InterviewQuery asks for one interview as the user sees it.
type InterviewQuery struct {
	UserID, InterviewID uuid.UUID
}

// InterviewPage is a page of interviews and the cursor of the next one.
type InterviewPage struct {
	Interviews []Interview `json:"interviews"`
	Next       *string     `json:"next" doc:"the after of the next page; null on the last"`
}

// InterviewsOf reads a page of a user's interviews, latest scheduled first.
var InterviewsOf = reading(interviewsPage, Interviews, Feedback, Users)

// InterviewOf reads one; one the user is not in is domain.ErrInterviewNotFound.
var InterviewOf = reading(interviewOf, Interviews, Feedback, Users)

// interviewsSelect selects the caller's ($1) interviews with their partner and feedback.
const interviewsSelect = `SELECT i.interview_id::text, CASE WHEN i.candidate_id = $1 THEN 'candidate' ELSE 'interviewer' END,
		i.candidate_id::text, i.interviewer_id::text, COALESCE(p.user_id::text, ''), COALESCE(p.username, ''),
		COALESCE(p.first_name, ''), i.profession, i.language, i.scheduled_at, i.duration_minutes, i.meeting_link,
		i.status, i.started_at, i.completed_at, i.cancelled_at, i.cancelled_by, i.cancel_reason, i.absent_user_id,
		COALESCE((SELECT json_agg(json_build_object('from_user_id', f.from_user_id, 'to_user_id', f.to_user_id,
			'from_role', f.from_role, 'rating', f.rating, 'skills', f.skills, 'comment', f.comment,
			'submitted_at', f.submitted_at) ORDER BY f.submitted_at)
			FROM feedback f WHERE f.interview_id = i.interview_id), '[]'::json)
	FROM interviews i
	LEFT JOIN users p ON p.user_id = CASE WHEN i.candidate_id = $1 THEN i.interviewer_id ELSE i.candidate_id END
	WHERE (i.candidate_id = $1 OR i.interviewer_id = $1)`

func interviewsPage(ctx context.Context, db DB, q InterviewsQuery) (InterviewPage, error) {
	at, id, after, err := keyset.Key(q.After)
	if err != nil {
		return InterviewPage{}, err
	}
	rows, err := db.Query(ctx, interviewsSelect+` AND (NOT $2 OR (i.scheduled_at, i.interview_id) < ($3, $4))
		ORDER BY i.scheduled_at DESC, i.interview_id DESC LIMIT $5`, q.UserID, after, at, id, q.Limit+1)
	if err != nil {
		return InterviewPage{}, err
	}
	list, err := pgx.CollectRows(rows, scanInterview)
	if err != nil {
		return InterviewPage{}, err
	}
	page, next := keyset.Cut(list, q.Limit, func(iv Interview) (time.Time, string) { return iv.ScheduledAt.Time, iv.ID })
	return InterviewPage{Interviews: page, Next: next}, nil
}

func interviewOf(ctx context.Context, db DB, q InterviewQuery) (Interview, error) {
	return one(ctx, db, domain.ErrInterviewNotFound, scanInterview,
		interviewsSelect+` AND i.interview_id = $2`, q.UserID, q.InterviewID)
}

func scanInterview(r pgx.CollectableRow) (Interview, error) {
	var iv Interview
	err := r.Scan(&iv.ID, &iv.MyRole, &iv.CandidateID, &iv.InterviewerID, &iv.Partner.ID, &iv.Partner.Username,
		&iv.Partner.FirstName, &iv.Profession, &iv.Language, &iv.ScheduledAt, &iv.DurationMinutes, &iv.MeetingLink,
		&iv.Status, &iv.StartedAt, &iv.CompletedAt, &iv.CancelledAt, &iv.CancelledBy, &iv.CancelReason,
		&iv.AbsentUserID, &iv.Feedback)
	return iv, err
}

// HourCount is how many matches were made in the hour from Hour.
type HourCount struct {
	Hour    jsontime.Time `json:"hour"`
	Matches int           `json:"matches"`
}

// HoursQuery asks for the UTC hours from From (truncated to the hour) until Until.
type HoursQuery struct{ From, Until time.Time }

// MatchesPerHour counts the interviews matched in each hour, empty hours included.
var MatchesPerHour = reading(matchesPerHour, Interviews)

func matchesPerHour(ctx context.Context, db DB, q HoursQuery) ([]HourCount, error) {
	rows, err := db.Query(ctx, `SELECT h, count(i.interview_id)::int
		FROM generate_series(date_trunc('hour', $1::timestamptz), $2::timestamptz, interval '1 hour') AS h
		LEFT JOIN interviews i ON i.matched_at >= h AND i.matched_at < h + interval '1 hour'
		GROUP BY h ORDER BY h`, q.From.UTC(), q.Until.UTC())
	if err != nil {
		return nil, err
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (HourCount, error) {
		var c HourCount
		err := r.Scan(&c.Hour, &c.Matches)
		return c, err
	})
	return nonNil(list), err
}

// ScheduledInterview is an interview as an operator sees it: both participants.
type ScheduledInterview struct {
	ID           string        `json:"id"`
	Candidate    Partner       `json:"candidate"`
	Interviewer  Partner       `json:"interviewer"`
	Profession   string        `json:"profession"`
	Language     string        `json:"language"`
	ScheduledAt  jsontime.Time `json:"scheduled_at"`
	Status       string        `json:"status"`
	AbsentUserID *uuid.UUID    `json:"absent_user_id"`
}

// StatusCount counts interviews of one status.
type StatusCount struct {
	Status string `json:"status"`
	Count  int    `json:"count"`
}

// ScheduleQuery asks for a page of the interviews scheduled from From until Until, and
// a page of the no-shows scheduled since NoShowsSince; each list has its own cursor.
type ScheduleQuery struct {
	From, Until, NoShowsSince time.Time
	Interviews, NoShows       keyset.Page
}

// Schedule is the interviews of a period by status, and the recent no-shows.
type Schedule struct {
	ByStatus    []StatusCount        `json:"by_status"`
	Interviews  []ScheduledInterview `json:"interviews" doc:"soonest first"`
	Total       int                  `json:"total" doc:"how many interviews the period holds, on every page"`
	Next        *string              `json:"next" doc:"the after of the next page of interviews; null on the last"`
	NoShows     []ScheduledInterview `json:"no_shows" doc:"latest first"`
	NoShowsNext *string              `json:"no_shows_next" doc:"the no_shows_after of the next page of no_shows; null on the last"`
}

// ScheduleOf reads the interviews of a period and the recent no-shows.
var ScheduleOf = reading(schedule, Interviews, Users)

const scheduledSelect = `SELECT i.interview_id::text, i.candidate_id::text, coalesce(c.username, ''),
		coalesce(c.first_name, ''), i.interviewer_id::text, coalesce(v.username, ''), coalesce(v.first_name, ''),
		i.profession, i.language, i.scheduled_at, i.status, i.absent_user_id
	FROM interviews i
	LEFT JOIN users c ON c.user_id = i.candidate_id
	LEFT JOIN users v ON v.user_id = i.interviewer_id`

func scanScheduled(r pgx.CollectableRow) (ScheduledInterview, error) {
	var iv ScheduledInterview
	err := r.Scan(&iv.ID, &iv.Candidate.ID, &iv.Candidate.Username, &iv.Candidate.FirstName, &iv.Interviewer.ID,
		&iv.Interviewer.Username, &iv.Interviewer.FirstName, &iv.Profession, &iv.Language, &iv.ScheduledAt,
		&iv.Status, &iv.AbsentUserID)
	return iv, err
}

func schedule(ctx context.Context, db DB, q ScheduleQuery) (Schedule, error) {
	var out Schedule
	rows, err := db.Query(ctx, `SELECT status, count(*)::int FROM interviews
		WHERE scheduled_at >= $1 AND scheduled_at < $2 GROUP BY status ORDER BY status`, q.From, q.Until)
	if err != nil {
		return out, err
	}
	if out.ByStatus, err = pgx.CollectRows(rows, pgx.RowToStructByPos[StatusCount]); err != nil {
		return out, err
	}
	for _, c := range out.ByStatus {
		out.Total += c.Count
	}
	if out.Interviews, out.Next, err = scheduledPage(ctx, db, q.Interviews, false,
		`i.scheduled_at >= $1 AND i.scheduled_at < $2`, q.From, q.Until); err != nil {
		return out, err
	}
	out.NoShows, out.NoShowsNext, err = scheduledPage(ctx, db, q.NoShows, true,
		`i.status = 'no_show' AND i.scheduled_at >= $1`, q.NoShowsSince)
	return out, err
}

// scheduledPage reads a page of the interviews where holds (its arguments are args, $1
// on), by (scheduled_at, interview_id), soonest first or latest first.
func scheduledPage(ctx context.Context, db DB, p keyset.Page, latestFirst bool, where string, args ...any) ([]ScheduledInterview, *string, error) {
	at, id, after, err := keyset.Key(p.After)
	if err != nil {
		return nil, nil, err
	}
	beyond, order := ">", "i.scheduled_at, i.interview_id"
	if latestFirst {
		beyond, order = "<", "i.scheduled_at DESC, i.interview_id DESC"
	}
	n := len(args)
	rows, err := db.Query(ctx, scheduledSelect+` WHERE `+where+` AND (NOT $`+strconv.Itoa(n+1)+
		` OR (i.scheduled_at, i.interview_id) `+beyond+` ($`+strconv.Itoa(n+2)+`, $`+strconv.Itoa(n+3)+`))
		ORDER BY `+order+` LIMIT $`+strconv.Itoa(n+4), append(args, after, at, id, p.Limit+1)...)
	if err != nil {
		return nil, nil, err
	}
	list, err := pgx.CollectRows(rows, scanScheduled)
	if err != nil {
		return nil, nil, err
	}
	page, next := keyset.Cut(list, p.Limit, func(iv ScheduledInterview) (time.Time, string) { return iv.ScheduledAt.Time, iv.ID })
	return page, next, nil
}

// InterviewIDsOf reads the ids of every interview a user is in, latest first.
var InterviewIDsOf = reading(interviewIDsOf, Interviews)

func interviewIDsOf(ctx context.Context, db DB, userID uuid.UUID) ([]uuid.UUID, error) {
	rows, err := db.Query(ctx, `SELECT interview_id FROM interviews WHERE candidate_id = $1 OR interviewer_id = $1
		ORDER BY scheduled_at DESC, interview_id`, userID)
	if err != nil {
		return nil, err
	}
	list, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	return nonNil(list), err
}

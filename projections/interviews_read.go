package projections

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/supermock/engine/domain"
	"github.com/supermock/engine/internal/jsontime"
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
	Page
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

// InterviewIDsOf reads the ids of every interview the user is or was in.
var InterviewIDsOf = reading(interviewIDs, Interviews)

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
	at, id, after, err := pageKey(q.After)
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
	page, next := cut(list, q.Limit, func(iv Interview) (time.Time, string) { return iv.ScheduledAt.Time, iv.ID })
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

func interviewIDs(ctx context.Context, db DB, user uuid.UUID) ([]uuid.UUID, error) {
	rows, err := db.Query(ctx, `SELECT interview_id FROM interviews WHERE candidate_id = $1
		UNION ALL SELECT interview_id FROM interviews WHERE interviewer_id = $1`, user)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
}

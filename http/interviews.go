package http

import (
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/supermock/engine/domain"
)

type cancelRequest struct {
	Reason string `json:"reason"`
}

type feedbackRequest struct {
	Rating  int            `json:"rating" required:"true"`
	Skills  map[string]int `json:"skills"`
	Comment string         `json:"comment"`
}

type partnerResponse struct {
	ID        string `json:"id"`
	Username  string `json:"username"`
	FirstName string `json:"first_name"`
}

type feedbackResponse struct {
	FromUserID  string         `json:"from_user_id"`
	ToUserID    string         `json:"to_user_id"`
	FromRole    string         `json:"from_role"`
	Rating      int            `json:"rating"`
	Skills      map[string]int `json:"skills"`
	Comment     string         `json:"comment"`
	SubmittedAt time.Time      `json:"submitted_at"`
}

type interviewResponse struct {
	ID              string             `json:"id"`
	MyRole          string             `json:"my_role"`
	CandidateID     string             `json:"candidate_id"`
	InterviewerID   string             `json:"interviewer_id"`
	Partner         partnerResponse    `json:"partner"`
	Profession      string             `json:"profession"`
	Language        string             `json:"language"`
	ScheduledAt     time.Time          `json:"scheduled_at"`
	DurationMinutes int                `json:"duration_minutes"`
	MeetingLink     string             `json:"meeting_link"`
	Status          string             `json:"status"`
	StartedAt       *time.Time         `json:"started_at"`
	CompletedAt     *time.Time         `json:"completed_at"`
	CancelledAt     *time.Time         `json:"cancelled_at"`
	CancelledBy     *uuid.UUID         `json:"cancelled_by"`
	CancelReason    *string            `json:"cancel_reason"`
	AbsentUserID    *uuid.UUID         `json:"absent_user_id"`
	Feedback        []feedbackResponse `json:"feedback"`
}

type interviewsResponse struct {
	Interviews []interviewResponse `json:"interviews"`
}

// interviewsOf selects the caller's ($1) interviews with their partner and feedback.
const interviewsOf = `SELECT i.interview_id::text, CASE WHEN i.candidate_id = $1 THEN 'candidate' ELSE 'interviewer' END,
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

func scanInterview(r pgx.CollectableRow) (interviewResponse, error) {
	var iv interviewResponse
	err := r.Scan(&iv.ID, &iv.MyRole, &iv.CandidateID, &iv.InterviewerID, &iv.Partner.ID, &iv.Partner.Username,
		&iv.Partner.FirstName, &iv.Profession, &iv.Language, &iv.ScheduledAt, &iv.DurationMinutes, &iv.MeetingLink,
		&iv.Status, &iv.StartedAt, &iv.CompletedAt, &iv.CancelledAt, &iv.CancelledBy, &iv.CancelReason,
		&iv.AbsentUserID, &iv.Feedback)
	iv.ScheduledAt = iv.ScheduledAt.UTC()
	for _, t := range []*time.Time{iv.StartedAt, iv.CompletedAt, iv.CancelledAt} {
		if t != nil {
			*t = t.UTC()
		}
	}
	for i := range iv.Feedback {
		iv.Feedback[i].SubmittedAt = iv.Feedback[i].SubmittedAt.UTC()
	}
	return iv, err
}

func (s *server) myInterviews(c *fiber.Ctx) error {
	rows, err := s.Pool.Query(c.UserContext(), interviewsOf+` ORDER BY i.scheduled_at DESC, i.interview_id`, sessionOf(c).UserID)
	if err != nil {
		return err
	}
	list, err := pgx.CollectRows(rows, scanInterview)
	if err != nil {
		return err
	}
	return c.JSON(interviewsResponse{Interviews: nonNil(list)})
}

// interview is one of the caller's interviews; anybody else's is not found.
func (s *server) interview(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	rows, err := s.Pool.Query(c.UserContext(), interviewsOf+` AND i.interview_id = $2`, sessionOf(c).UserID, id)
	if err != nil {
		return err
	}
	iv, err := pgx.CollectExactlyOneRow(rows, scanInterview)
	if errNoRows(err) {
		return domain.ErrInterviewNotFound
	}
	if err != nil {
		return err
	}
	return c.JSON(iv)
}

// onInterview runs a lifecycle command; the domain refuses non-participants
// (403 interview-not-participant) and unknown interviews (404).
func (s *server) onInterview(run func(s *server, c *fiber.Ctx, id, me uuid.UUID) (string, error)) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := pathID(c, "id")
		if err != nil {
			return err
		}
		return reply(c)(run(s, c, id, sessionOf(c).UserID))
	}
}

func startInterview(s *server, c *fiber.Ctx, id, me uuid.UUID) (string, error) {
	return s.service(c).StartInterview(c.UserContext(), s.meta(c), id, me)
}

func completeInterview(s *server, c *fiber.Ctx, id, me uuid.UUID) (string, error) {
	return s.service(c).CompleteInterview(c.UserContext(), s.meta(c), id, me)
}

func reportNoShow(s *server, c *fiber.Ctx, id, me uuid.UUID) (string, error) {
	return s.service(c).ReportNoShow(c.UserContext(), s.meta(c), id, me)
}

// cancelInterview takes an optional body with a reason.
func cancelInterview(s *server, c *fiber.Ctx, id, me uuid.UUID) (string, error) {
	var req cancelRequest
	if len(c.BodyRaw()) > 0 {
		if err := decode(c, &req); err != nil {
			return "", err
		}
	}
	return s.service(c).CancelInterview(c.UserContext(), s.meta(c), id, me, req.Reason)
}

func submitFeedback(s *server, c *fiber.Ctx, id, me uuid.UUID) (string, error) {
	var req feedbackRequest
	if err := decode(c, &req); err != nil {
		return "", err
	}
	return s.service(c).SubmitFeedback(c.UserContext(), s.meta(c), id, me,
		domain.FeedbackInput{Rating: req.Rating, Skills: req.Skills, Comment: req.Comment})
}

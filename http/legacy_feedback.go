package http

import (
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/supermock/engine/domain"
)

type legacyFeedbackRequest struct {
	Rating  int            `json:"rating" required:"true"`
	Comment string         `json:"comment"`
	Skills  map[string]int `json:"skills"`
}

type legacyFeedbackSession struct {
	ID                string    `json:"id"`
	Profession        string    `json:"profession"`
	ScheduledDateTime time.Time `json:"scheduledDateTime"`
}

// legacyFeedback is one side's feedback; its id is the interview's and the giver's
// role, which is unique since each side gives it once.
type legacyFeedback struct {
	ID        string                `json:"id"`
	Rating    int                   `json:"rating"`
	Comment   string                `json:"comment"`
	Skills    map[string]int        `json:"skills"`
	CreatedAt time.Time             `json:"createdAt"`
	FromUser  legacyPerson          `json:"fromUser"`
	ToUser    legacyPerson          `json:"toUser"`
	Session   legacyFeedbackSession `json:"session"`
}

// legacyFeedbackOf selects feedback with both people and its interview; the caller
// adds the condition.
const legacyFeedbackOf = `SELECT f.interview_id::text || '-' || f.from_role, f.rating, f.comment, f.skills, f.submitted_at,
		COALESCE(fu.telegram_id, 0), COALESCE(fu.first_name, ''), COALESCE(fu.last_name, ''),
		COALESCE(tu.telegram_id, 0), COALESCE(tu.first_name, ''), COALESCE(tu.last_name, ''),
		i.interview_id::text, i.profession, i.scheduled_at
	FROM feedback f
	JOIN interviews i ON i.interview_id = f.interview_id
	LEFT JOIN users fu ON fu.user_id = f.from_user_id
	LEFT JOIN users tu ON tu.user_id = f.to_user_id
	WHERE `

func (s *server) legacyFeedbackList(c *fiber.Ctx, cond string, args ...any) ([]legacyFeedback, error) {
	rows, err := s.Pool.Query(c.UserContext(), legacyFeedbackOf+cond+` ORDER BY f.submitted_at DESC, f.from_role`, args...)
	if err != nil {
		return nil, err
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (legacyFeedback, error) {
		var f legacyFeedback
		err := r.Scan(&f.ID, &f.Rating, &f.Comment, &f.Skills, &f.CreatedAt,
			&f.FromUser.ID, &f.FromUser.FirstName, &f.FromUser.LastName, &f.ToUser.ID, &f.ToUser.FirstName, &f.ToUser.LastName,
			&f.Session.ID, &f.Session.Profession, &f.Session.ScheduledDateTime)
		f.CreatedAt, f.Session.ScheduledDateTime = f.CreatedAt.UTC(), f.Session.ScheduledDateTime.UTC()
		return f, err
	})
	return nonNil(list), err
}

// legacySessionFeedback is the feedback given in one of the caller's interviews.
func (s *server) legacySessionFeedback(c *fiber.Ctx) error {
	iv, err := s.legacyInterview(c)
	if err != nil {
		return err
	}
	list, err := s.legacyFeedbackList(c, `f.interview_id = $1`, uuid.MustParse(iv.ID))
	if err != nil {
		return err
	}
	return legacyAnswer(c, list)
}

func (s *server) legacySubmitFeedback(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var req legacyFeedbackRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	me := sessionOf(c).UserID
	pos, err := s.Service.SubmitFeedback(c.UserContext(), s.meta(c), id, me,
		domain.FeedbackInput{Rating: req.Rating, Skills: req.Skills, Comment: req.Comment})
	if err != nil {
		return err
	}
	if err := s.settle(c, pos); err != nil {
		return err
	}
	list, err := s.legacyFeedbackList(c, `f.interview_id = $1 AND f.from_user_id = $2`, id, me)
	if err != nil {
		return err
	}
	var mine any
	if len(list) == 1 {
		mine = list[0]
	}
	return c.JSON(legacyOK{Success: true, Data: mine, Message: "Feedback submitted successfully"})
}

// legacyFeedbackHistory: type=given is what the caller gave, anything else what they
// received, as the old backend read it.
func (s *server) legacyFeedbackHistory(c *fiber.Ctx) error {
	column := "f.to_user_id"
	if c.Query("type") == "given" {
		column = "f.from_user_id"
	}
	list, err := s.legacyFeedbackList(c, column+` = $1`, sessionOf(c).UserID)
	if err != nil {
		return err
	}
	return legacyAnswer(c, list)
}

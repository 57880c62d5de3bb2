package http

import (
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/supermock/engine/domain"
	"github.com/supermock/engine/projections"
)

type legacyFeedbackRequest struct {
	Rating  int            `json:"rating" required:"true"`
	Comment string         `json:"comment"`
	Skills  map[string]int `json:"skills"`
}

// legacySessionFeedback is the feedback given in one of the caller's interviews.
func (s *server) legacySessionFeedback(c *fiber.Ctx) error {
	iv, err := s.legacyInterview(c)
	if err != nil {
		return err
	}
	list, err := read(s, c, projections.LegacyFeedbackOf, projections.LegacyFeedbackQuery{InterviewID: uuid.MustParse(iv.ID)})
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
	s.sawWrite(c, pos)
	list, err := read(s, c, projections.LegacyFeedbackOf, projections.LegacyFeedbackQuery{InterviewID: id, From: me})
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
	q := projections.LegacyFeedbackQuery{To: sessionOf(c).UserID}
	if c.Query("type") == "given" {
		q = projections.LegacyFeedbackQuery{From: sessionOf(c).UserID}
	}
	list, err := read(s, c, projections.LegacyFeedbackOf, q)
	if err != nil {
		return err
	}
	return legacyAnswer(c, list)
}

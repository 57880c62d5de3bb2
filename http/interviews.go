package http

import (
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/supermock/engine/domain"
	"github.com/supermock/engine/projections"
)

type cancelRequest struct {
	Reason string `json:"reason"`
}

type feedbackRequest struct {
	Rating  int            `json:"rating" required:"true"`
	Skills  map[string]int `json:"skills"`
	Comment string         `json:"comment"`
}

// myInterviews is a page of the caller's interviews, the latest scheduled first.
func (s *server) myInterviews(c *fiber.Ctx) error {
	page, err := pageOf(c)
	if err != nil {
		return err
	}
	list, err := read(s, c, projections.InterviewsOf, projections.InterviewsQuery{UserID: sessionOf(c).UserID, Page: page})
	if err != nil {
		return err
	}
	return c.JSON(list)
}

// interview is one of the caller's interviews; anybody else's is not found.
func (s *server) interview(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	iv, err := read(s, c, projections.InterviewOf, projections.InterviewQuery{UserID: sessionOf(c).UserID, InterviewID: id})
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
		me := sessionOf(c).UserID
		return reply(s, c, fiber.StatusOK, id, projections.InterviewOf, projections.InterviewQuery{UserID: me, InterviewID: id})(
			run(s, c, id, me))
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

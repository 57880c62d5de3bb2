package http

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/supermock/engine/domain"
	"github.com/supermock/engine/eventstore"
	"github.com/supermock/engine/projections/matchmaker"
)

// The /legacy group serves the existing React frontend in the API it was written for
// (the old backend's routes and shapes), translating to the domain and the read
// tables. The engine's own routes are not involved and do not change.

// legacyMatchWait bounds how long a join waits for the matchmaker to pair it.
const legacyMatchWait = 2 * time.Second

// legacyOK is the old backend's success envelope.
type legacyOK struct {
	Success bool   `json:"success"`
	Data    any    `json:"data"`
	Message string `json:"message,omitempty"`
}

// legacyRefusal is its error envelope: error is a message the frontend shows as text;
// code is the engine's stable code.
type legacyRefusal struct {
	Success   bool   `json:"success"`
	Error     string `json:"error"`
	Message   string `json:"message"`
	Code      string `json:"code"`
	RequestID string `json:"request_id"`
}

// legacyMessages are the old backend's own words where the frontend compares them.
var legacyMessages = map[string]string{
	"feedback-already-given":  "You have already submitted feedback for this session",
	"feedback-rating-invalid": "Rating must be between 1 and 5",
	"interview-not-found":     "Session not found or access denied",
	"unauthorized":            "User not authenticated",
}

var errLegacyNoForm = newError(fiber.StatusBadRequest, "form-required",
	"User language not found. Please complete the registration form first.")

func (s *server) legacyRoutes(app *fiber.App) {
	limit := s.limit()
	user := s.authenticate
	command := func(h fiber.Handler) []fiber.Handler { return []fiber.Handler{user, limit, h} }
	queries := s.limitQueries()
	query := func(h fiber.Handler) []fiber.Handler { return []fiber.Handler{user, queries, h} }

	g := app.Group("/legacy", s.legacyEnvelope)
	g.Get("/api/auth/session", queries, s.legacySession)
	g.Post("/api/auth/telegram-widget", limit, s.legacyWidgetLogin)
	g.Post("/api/auth/telegram", limit, s.legacyInitDataLogin)
	g.Post("/api/auth/telegram-webapp", limit, s.legacyInitDataLogin)
	g.Post("/api/auth/logout", s.legacyLogout)

	g.Get("/api/form", query(s.legacyForm)...)
	g.Post("/api/form", command(s.legacySubmitForm)...)
	g.Put("/api/form", command(s.legacySubmitForm)...)
	g.Post("/api/professions/selected", command(s.legacySelectProfession)...)

	g.Get("/api/calendar/slots/:profession", query(s.legacySlots)...)
	g.Post("/api/calendar/queue", command(s.legacyJoin)...)
	g.Get("/api/calendar/queue/status", query(s.legacyQueueStatus)...)
	g.Delete("/api/calendar/queue", command(s.legacyLeave)...)
	g.Get("/api/calendar/sessions", query(s.legacySessions)...)
	g.Get("/api/calendar/sessions/:id", query(s.legacyOneSession)...)
	g.Patch("/api/calendar/sessions/:id/complete", command(s.legacyComplete)...)

	g.Get("/api/feedback/sessions/:id", query(s.legacySessionFeedback)...)
	g.Post("/api/feedback/sessions/:id", command(s.legacySubmitFeedback)...)
	g.Get("/api/feedback/user", query(s.legacyFeedbackHistory)...)
}

// legacyEnvelope answers every refusal of the group, unknown routes included, in the
// old shape.
func (s *server) legacyEnvelope(c *fiber.Ctx) error {
	err := c.Next()
	if err == nil {
		return nil
	}
	e := s.refusal(c, err)
	msg := legacyMessages[e.code]
	if msg == "" {
		msg = e.message
	}
	return c.Status(e.status).JSON(legacyRefusal{Error: msg, Message: msg, Code: e.code, RequestID: requestIDOf(c)})
}

func legacyAnswer(c *fiber.Ctx, data any) error {
	return c.JSON(legacyOK{Success: true, Data: data})
}

// legacyInput decodes the body into req and loads the caller: what most commands of
// the group start with.
func legacyInput[R any](s *server, c *fiber.Ctx) (req R, me *domain.User, err error) {
	if err = decode(c, &req); err != nil {
		return req, nil, err
	}
	me, err = s.Service.LoadUser(c.UserContext(), sessionOf(c).UserID)
	return req, me, err
}

// awaitMatch lets the matchmaker take up the join at position, 2 s at most, and makes
// the rest of the request read everything committed by then, the match among it: the
// matchmaker commits a match with its own offset. The wait holds a channel of the
// process's watcher, which reads the offsets when a consumer here commits or the log
// announces a commit.
func (s *server) awaitMatch(c *fiber.Ctx, position string) error {
	at, err := eventstore.ParsePosition(position)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), legacyMatchWait)
	defer cancel()
	if err := s.watcher.Wait(ctx, []string{matchmaker.Group}, at); err != nil && c.UserContext().Err() != nil {
		return c.UserContext().Err()
	}
	head, err := s.Store.Log().LastCommitted(c.UserContext())
	if err != nil {
		return err
	}
	if head.Less(at) {
		head = at
	}
	s.sawWrite(c, head.String())
	return nil
}

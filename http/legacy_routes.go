package http

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/supermock/engine/eventstore"
	"github.com/supermock/engine/projections"
	"github.com/supermock/engine/projections/matchmaker"
)

// The /legacy group serves the existing React frontend in the API it was written for
// (the old backend's routes and shapes), translating to the domain and the read
// tables. The engine's own routes are not involved and do not change.

// legacyReads are the read tables behind the group's answers: a command of the group
// answers once they hold its events, so the frontend's next read (it sends no
// position) sees its own write.
var legacyReads = []string{"users", "selected_professions", "user_form_data", "interview_queue", "interviews", "feedback"}

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

// settle waits, at most FreshWait (3 s), until the group's read tables hold the events
// up to position; past that the answer goes out marked X-Projection-Lag: true.
func (s *server) settle(c *fiber.Ctx, position string) error {
	if position == "" {
		return nil
	}
	at, err := eventstore.ParsePosition(position)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), s.FreshWait)
	defer cancel()
	passed, err := s.waitConsumed(ctx, projectionGroups(legacyReads), at)
	if err == nil && !passed {
		c.Set(headerProjectionLag, "true")
	}
	return err
}

// settleMatch lets the matchmaker take up the join at position (2 s at most), then
// settles the read tables on everything committed by then, the match among it: the
// matchmaker commits a match with its own offset.
func (s *server) settleMatch(c *fiber.Ctx, position string) error {
	at, err := eventstore.ParsePosition(position)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), legacyMatchWait)
	defer cancel()
	if _, err := s.waitConsumed(ctx, []string{matchmaker.Group}, at); err != nil {
		return err
	}
	head, err := s.Store.Log().LastCommitted(c.UserContext())
	if err != nil {
		return err
	}
	if head.Less(at) {
		head = at
	}
	return s.settle(c, head.String())
}

// projectionGroups are the consumer groups of the named projections.
func projectionGroups(names []string) []string {
	groups := make([]string, len(names))
	for i, n := range names {
		groups[i] = projections.Group(n)
	}
	return groups
}

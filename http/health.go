package http

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/supermock/engine/internal/jsontime"
)

type healthResponse struct {
	Status    string         `json:"status"`
	Timestamp jsontime.Time  `json:"timestamp"`
	Database  string         `json:"database"`
	Services  healthServices `json:"services"`
}

type healthServices struct {
	EventStore  string `json:"eventstore"`
	Projections string `json:"projections"`
	Telegram    string `json:"telegram"`
}

// health answers 200 while PostgreSQL answers, 503 otherwise; it recovers by itself
// once the database is back, since every call asks anew. A projection stalled on an
// event (its checkpoint holds the error), or any consumer of the process stopped or
// stuck (the matchmaker, the notifier…), shows as projections "error", still 200:
// commands are served, only what that consumer feeds is behind.
func (s *server) health(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
	defer cancel()
	body := healthResponse{
		Status: "ok", Timestamp: jsontime.Of(s.Now()), Database: "connected",
		Services: healthServices{EventStore: "ok", Projections: "ok", Telegram: "disabled"},
	}
	if s.Config.TelegramToken != "" {
		body.Services.Telegram = "ok"
	}
	var stalled bool
	err := s.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM projection_checkpoints WHERE last_error IS NOT NULL)`).Scan(&stalled)
	switch {
	case err != nil && s.Pool.Ping(ctx) != nil:
		body.Status, body.Database = "error", "disconnected"
		body.Services.EventStore, body.Services.Projections = "error", "error"
		c.Set(fiber.HeaderRetryAfter, retryAfterSeconds)
		return c.Status(fiber.StatusServiceUnavailable).JSON(body)
	case err != nil || stalled:
		// A database without the read tables (not migrated) cannot project either.
		body.Services.Projections = "error"
	default:
		if bad, err := s.unready(ctx); err != nil || len(bad) > 0 {
			body.Services.Projections = "error"
		}
	}
	return c.JSON(body)
}

package http

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"
)

type healthBody struct {
	Status    string         `json:"status"`
	Timestamp time.Time      `json:"timestamp"`
	Database  string         `json:"database"`
	Services  healthServices `json:"services"`
}

type healthServices struct {
	EventStore  string `json:"eventstore"`
	Projections string `json:"projections"`
	Telegram    string `json:"telegram"`
}

// health answers 200 while PostgreSQL answers, 503 otherwise; it recovers by itself
// once the database is back, since every call asks anew.
func health(d Deps) fiber.Handler {
	return func(c *fiber.Ctx) error {
		ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
		defer cancel()
		body := healthBody{
			Status: "ok", Timestamp: d.Now().UTC(), Database: "connected",
			Services: healthServices{EventStore: "ok", Projections: "ok", Telegram: "disabled"},
		}
		if d.TelegramEnabled {
			body.Services.Telegram = "ok"
		}
		status := fiber.StatusOK
		if err := d.Pool.Ping(ctx); err != nil {
			status = fiber.StatusServiceUnavailable
			body.Status, body.Database = "error", "disconnected"
			body.Services.EventStore, body.Services.Projections = "error", "error"
		}
		return c.Status(status).JSON(body)
	}
}

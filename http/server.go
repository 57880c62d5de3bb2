// Package http is the engine's JSON API on fiber: routes, error mapping, and the health
// of the parts behind it.
package http

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/gofiber/fiber/v2/middleware/requestid"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Deps are what the API serves from.
type Deps struct {
	Pool   *pgxpool.Pool
	Logger *slog.Logger
	// TelegramEnabled says whether notifications are delivered through Telegram.
	TelegramEnabled bool
	// Now is the clock, time.Now by default.
	Now func() time.Time
}

// New builds the fiber app with every route.
func New(d Deps) *fiber.App {
	if d.Now == nil {
		d.Now = time.Now
	}
	app := fiber.New(fiber.Config{
		AppName:               "supermock",
		DisableStartupMessage: true,
		BodyLimit:             64 << 10,
		ReadTimeout:           10 * time.Second,
		WriteTimeout:          30 * time.Second,
		IdleTimeout:           60 * time.Second,
		ErrorHandler:          errorHandler(d.Logger),
	})
	app.Use(requestid.New())
	app.Use(recover.New())
	app.Get("/api/health", health(d))
	app.Use(func(c *fiber.Ctx) error { return fiber.ErrNotFound })
	return app
}

// Serve listens on addr until ctx ends, then drains requests in flight.
func Serve(ctx context.Context, app *fiber.App, addr string) error {
	errc := make(chan error, 1)
	go func() { errc <- app.Listen(addr) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := app.ShutdownWithContext(shutdownCtx); err != nil {
		return err
	}
	if err := <-errc; err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

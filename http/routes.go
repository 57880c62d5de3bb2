package http

import (
	"github.com/gofiber/fiber/v2"

	"github.com/supermock/engine/projections"
)

// routes registers every route of the API. Command routes are authenticated, rate
// limited and (POST) idempotent; query routes are rate limited on a budget of their
// own, and every read waits for the caller's own writes (and X-Min-Position) in the
// projections it reads. Health stays unlimited for the probes.
func (s *server) routes(app *fiber.App) {
	limit, queries := s.limit(), s.limitQueries()
	authn := s.authenticate
	user := func(h ...fiber.Handler) []fiber.Handler { return append([]fiber.Handler{authn, queries}, h...) }
	command := func(h ...fiber.Handler) []fiber.Handler { return append([]fiber.Handler{authn, limit}, h...) }
	post := func(h ...fiber.Handler) []fiber.Handler {
		return command(append([]fiber.Handler{s.idempotent}, h...)...)
	}

	app.Get("/api/health", quiet, s.health)
	app.Get("/livez", quiet, s.livez)
	app.Get("/readyz", quiet, s.readyz)
	app.Get("/api/openapi.json", queries, s.openAPI)
	app.Get("/api/docs", queries, s.docs)
	app.Get("/api/docs/:file", queries, s.docsAsset)
	app.Get("/api/professions", queries, s.professions)

	app.Post("/api/auth/telegram", limit, s.loginWidget)
	app.Post("/api/auth/webapp", limit, s.loginWebApp)
	app.Post("/api/auth/dev", limit, s.loginDev)
	app.Post("/api/auth/logout", limit, s.logout)

	app.Get("/api/me", user(s.me)...)
	app.Put("/api/me", command(s.updateProfile)...)
	app.Put("/api/me/professions", command(s.selectProfessions)...)
	app.Put("/api/me/form", command(s.submitForm)...)
	app.Delete("/api/me", command(s.eraseMe)...)
	app.Get("/api/me/export", user(s.exportMe)...)

	app.Post("/api/queue", post(s.joinQueue)...)
	app.Get("/api/queue", user(s.myEntries)...)
	app.Get("/api/queue/stats", user(s.queueStats)...)
	app.Delete("/api/queue/:id", command(s.leaveQueue)...)
	app.Get("/api/slots", user(s.slots)...)

	app.Get("/api/interviews", user(s.myInterviews)...)
	app.Get("/api/interviews/:id", user(s.interview)...)
	app.Post("/api/interviews/:id/start", post(s.onInterview(startInterview))...)
	app.Post("/api/interviews/:id/complete", post(s.onInterview(completeInterview))...)
	app.Post("/api/interviews/:id/cancel", post(s.onInterview(cancelInterview))...)
	app.Post("/api/interviews/:id/no-show", post(s.onInterview(reportNoShow))...)
	app.Post("/api/interviews/:id/feedback", post(s.onInterview(submitFeedback))...)

	app.Get("/api/notifications", user(s.notifications)...)
	app.Get("/api/stream", user(s.liveStream)...)
	// The wait for the inbox comes before the key's transaction, which it would hold open.
	app.Post("/api/notifications/:id/read", command(s.awaitReads(projections.NotificationOf), s.idempotent, s.readNotification)...)

	admin := func(h fiber.Handler) []fiber.Handler { return []fiber.Handler{authn, queries, s.requireAdmin, h} }
	app.Get("/api/admin/projections", admin(s.projectionStatuses)...)
	app.Get("/api/admin/consumers", admin(s.consumers)...)
	app.Get("/api/admin/projections/stream", admin(s.adminStatusStream)...)
	app.Post("/api/admin/projections/:name/rebuild", admin(s.rebuild)...)
	app.Get("/api/admin/events", admin(s.replay)...)
	app.Get("/api/admin/streams/:id", admin(s.stream)...)
	app.Get("/api/admin/queue", admin(s.adminQueue)...)
	app.Get("/api/admin/interviews", admin(s.adminInterviews)...)
	app.Get("/api/admin/notifications", admin(s.adminNotifications)...)
	app.Get("/api/admin/users", admin(s.adminUsers)...)
	app.Post("/api/admin/users/:id/erase", admin(s.eraseUser)...)

	app.Use("/admin", queries, s.console)
}

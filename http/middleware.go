package http

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/cors"
	"github.com/gofiber/fiber/v2/middleware/helmet"
	"github.com/gofiber/fiber/v2/middleware/limiter"
	"github.com/google/uuid"
)

const (
	localRoute   = "route"
	localSession = "session"
	localQuiet   = "quiet"
	// sessionCookie holds the JWT for browsers; Bearer works as well.
	sessionCookie = "sm_sess"
)

// Headers the API reads and writes besides the standard ones.
const (
	headerEventPosition  = "X-Event-Position"
	headerMinPosition    = "X-Min-Position"
	headerProjectionLag  = "X-Projection-Lag"
	headerIdempotencyKey = "Idempotency-Key"
	headerReplayed       = "Idempotent-Replayed"
)

// observe bounds the request's work in time, renders errors where it can still see the
// outcome, then counts the request and logs it under its id.
func (s *server) observe(c *fiber.Ctx) error {
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	c.SetUserContext(ctx)
	if err := c.Next(); err != nil {
		if err := c.App().ErrorHandler(c, err); err != nil {
			_ = c.SendStatus(fiber.StatusInternalServerError)
		}
	}
	route, ok := c.Locals(localRoute).(string)
	if !ok {
		route = c.Route().Path
	}
	status, elapsed := c.Response().StatusCode(), time.Since(start)
	// fiber's strings point into buffers it reuses: the labels outlive the request.
	s.metrics.request(strings.Clone(c.Method()), strings.Clone(route), status, elapsed)
	level := slog.LevelInfo
	if quiet, _ := c.Locals(localQuiet).(bool); quiet {
		level = slog.LevelDebug
	}
	s.Logger.LogAttrs(ctx, level, "request", slog.String("request_id", requestIDOf(c)),
		slog.String("method", c.Method()), slog.String("path", c.Path()), slog.String("route", route),
		slog.Int("status", status), slog.Duration("duration", elapsed))
	return nil
}

// quiet marks a route that probes call every few seconds (health, readiness): its
// requests are logged at debug, so they do not drown the rest.
func quiet(c *fiber.Ctx) error {
	c.Locals(localQuiet, true)
	return c.Next()
}

// logger is the request's logger: every line carries the request id.
func (s *server) logger(c *fiber.Ctx) *slog.Logger {
	return s.Logger.With("request_id", requestIDOf(c))
}

// securityHeaders: a JSON API is never framed, sniffed or cached; only the frontend's
// origin may call it from a browser, with credentials (the cookie).
func (s *server) securityHeaders() []any {
	h := helmet.Config{
		ContentSecurityPolicy:     "default-src 'none'; frame-ancestors 'none'",
		XFrameOptions:             "DENY",
		CrossOriginResourcePolicy: "same-site",
		ReferrerPolicy:            "no-referrer",
	}
	if s.Config.IsProduction() {
		h.HSTSMaxAge, h.HSTSExcludeSubdomains = 365*24*3600, true
	}
	out := []any{helmet.New(h), func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderCacheControl, "no-store")
		return c.Next()
	}}
	if len(s.origins) > 0 {
		out = append(out, cors.New(cors.Config{
			AllowOrigins:     strings.Join(slices.Sorted(maps.Keys(s.origins)), ","),
			AllowCredentials: true,
			AllowMethods:     "GET,POST,PUT,PATCH,DELETE,OPTIONS",
			// EventSource's reconnection sends Last-Event-ID, which is not a simple header.
			AllowHeaders: "Authorization,Content-Type,Idempotency-Key,X-Min-Position,X-Request-ID,Last-Event-ID",
			ExposeHeaders: "X-Event-Position,X-Projection-Lag,X-Request-ID,Idempotent-Replayed,Retry-After," +
				"X-RateLimit-Limit,X-RateLimit-Remaining,X-RateLimit-Reset",
			MaxAge: 600,
		}))
	}
	return out
}

// limit is the rate limit of command routes: RATE_LIMIT_MAX_REQUESTS per
// RATE_LIMIT_WINDOW_MS per user (or per IP before login), one budget for every route
// group.
func (s *server) limit() fiber.Handler { return s.commandLimit }

// limitQueries is the rate limit of query routes, a budget of their own
// (RATE_LIMIT_QUERY_MAX_REQUESTS): a page that polls spends no command's share.
func (s *server) limitQueries() fiber.Handler { return s.queryLimit }

// limiter allows max requests per RATE_LIMIT_WINDOW_MS per user, or per client address
// before login. Counters live in this process: replicas each allow the limit.
func (s *server) limiter(max int) fiber.Handler {
	return limiter.New(limiter.Config{
		Max:        max,
		Expiration: s.Config.RateLimitWindow,
		KeyGenerator: func(c *fiber.Ctx) string {
			if sess, ok := c.Locals(localSession).(session); ok {
				return "user:" + sess.UserID.String()
			}
			return "ip:" + s.clientIP(c)
		},
		LimitReached: func(*fiber.Ctx) error { return errRateLimited },
	})
}

// session is the caller of an authenticated request.
type session struct {
	UserID     uuid.UUID
	TelegramID int64
}

// authenticate accepts a Bearer token or the session cookie of a session not ended by
// logout; a state change on the cookie must also pass refuseCrossSite.
func (s *server) authenticate(c *fiber.Ctx) error {
	sess, viaCookie, err := s.sessionFrom(c)
	if err != nil {
		return err
	}
	if viaCookie {
		if err := s.refuseCrossSite(c); err != nil {
			return err
		}
	}
	c.Locals(localSession, sess)
	return c.Next()
}

// sessionFrom is the caller's session, from a Bearer token or the session cookie, and
// whether it came in the cookie; a session ended by logout is refused.
func (s *server) sessionFrom(c *fiber.Ctx) (session, bool, error) {
	claims, viaCookie, err := s.claimsFrom(c)
	if err != nil {
		return session{}, false, err
	}
	id, err := uuid.Parse(claims.Subject)
	if err != nil {
		return session{}, false, errTokenInvalid
	}
	ended, err := s.sessionEnded(c, claims.ID, id)
	if err != nil {
		return session{}, false, err
	}
	if ended {
		return session{}, false, errSessionEnded
	}
	return session{UserID: id, TelegramID: claims.TelegramID}, viaCookie, nil
}

// requireAdmin follows ADMIN_TELEGRAM_IDS as configured now, not the token's adm
// claim, so removing an admin takes effect at once.
func (s *server) requireAdmin(c *fiber.Ctx) error {
	if !s.admins[sessionOf(c).TelegramID] {
		return errForbidden
	}
	return c.Next()
}

func sessionOf(c *fiber.Ctx) session {
	sess, _ := c.Locals(localSession).(session)
	return sess
}

package http

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/supermock/engine/domain"
	"github.com/supermock/engine/http/auth"
)

var errSessionEnded = newError(fiber.StatusUnauthorized, "session-ended", "this session was logged out: log in again")

// claimsFrom checks the request's token: a Bearer token if the Authorization header is
// sent, else the session cookie (viaCookie).
func (s *server) claimsFrom(c *fiber.Ctx) (claims auth.Claims, viaCookie bool, err error) {
	token, viaCookie := c.Cookies(sessionCookie), true
	if h := c.Get(fiber.HeaderAuthorization); h != "" {
		scheme, rest, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "Bearer") {
			return auth.Claims{}, false, errTokenInvalid
		}
		token, viaCookie = strings.TrimSpace(rest), false
	}
	if token == "" {
		return auth.Claims{}, viaCookie, errUnauthorized
	}
	claims, err = auth.Parse(s.secrets, token, s.Now())
	return claims, viaCookie, err
}

// setSessionCookie hands the browser its session for ttl; an empty token deletes it.
func (s *server) setSessionCookie(c *fiber.Ctx, token string, ttl time.Duration) {
	cookie := &fiber.Cookie{Name: sessionCookie, Value: token, Path: "/", MaxAge: int(ttl / time.Second),
		HTTPOnly: true, Secure: s.Config.IsProduction(), SameSite: fiber.CookieSameSiteLaxMode}
	if token == "" {
		cookie.MaxAge, cookie.Expires = 0, time.Unix(1, 0)
	}
	c.Cookie(cookie)
}

// logout answers 204 with a session or without, so a client can always get rid of a
// cookie it cannot read.
func (s *server) logout(c *fiber.Ctx) error {
	if err := s.endRequestSession(c); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// endRequestSession ends the session the request carries, if its token is good, and
// deletes the cookie. A cookie's logout passes refuseCrossSite like any state change.
func (s *server) endRequestSession(c *fiber.Ctx) error {
	claims, viaCookie, err := s.claimsFrom(c)
	if viaCookie && !errors.Is(err, errUnauthorized) {
		if err := s.refuseCrossSite(c); err != nil {
			return err
		}
	}
	if err == nil {
		if err := s.endSession(c.UserContext(), claims); err != nil {
			return err
		}
	}
	s.setSessionCookie(c, "", 0)
	return nil
}

// endSession records the token as ended until it expires; rows of tokens that have
// expired since go in the same statement, so the table holds only live tokens.
func (s *server) endSession(ctx context.Context, claims auth.Claims) error {
	userID, err := uuid.Parse(claims.Subject)
	if err != nil {
		return errTokenInvalid
	}
	_, err = s.Pool.Exec(ctx, `WITH expired AS (DELETE FROM ended_sessions WHERE expires_at < $4)
		INSERT INTO ended_sessions (token_id, user_id, expires_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
		claims.ID, userID, time.Unix(claims.ExpiresAt, 0), s.Now())
	return err
}

// sessionEnded looks up the token and its user by primary key, once per authenticated
// request: a logout or an erasure on any replica is seen by every other one at once. A
// request that may change something reads its user's stream ahead in the same round
// trip, into c's context, for the command's fold of that stream. The checks of
// concurrent requests go together (s.checks).
func (s *server) sessionEnded(c *fiber.Ctx, tokenID string, userID uuid.UUID) (bool, error) {
	var ended bool
	var ahead func(context.Context) (context.Context, error)
	check := func() *pgx.Batch {
		b := &pgx.Batch{}
		b.Queue(`SELECT EXISTS (SELECT 1 FROM ended_sessions WHERE token_id = ANY($1))`,
			[]string{tokenID, allSessionsOf(userID)}).QueryRow(func(row pgx.Row) error { return row.Scan(&ended) })
		if c.Method() != fiber.MethodGet && c.Method() != fiber.MethodHead && s.Store != nil {
			ahead = s.Store.ReadAhead(b, domain.UserStream(userID))
		}
		return b
	}
	if err := s.checks.Send(c.UserContext(), check); err != nil || ended || ahead == nil {
		return ended, err
	}
	ctx, err := ahead(c.UserContext())
	c.SetUserContext(ctx)
	return false, err
}

// allSessionsOf is the ended_sessions row that ends every token of an erased user. It
// outlives the longest token (JWT_TTL): the user never gets a new one.
func allSessionsOf(userID uuid.UUID) string { return "user:" + userID.String() }

// endAllSessions ends every token of the user.
func (s *server) endAllSessions(ctx context.Context, userID uuid.UUID) error {
	_, err := s.Pool.Exec(ctx, `INSERT INTO ended_sessions (token_id, user_id, expires_at) VALUES ($1, $2, $3)
		ON CONFLICT (token_id) DO UPDATE SET expires_at = EXCLUDED.expires_at`,
		allSessionsOf(userID), userID, s.Now().Add(s.Config.JWTTTL))
	return err
}

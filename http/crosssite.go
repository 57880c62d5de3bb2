package http

import (
	"mime"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"
)

var errCrossSite = newError(fiber.StatusForbidden, "cross-site-refused",
	"a state change with the session cookie must be sent as application/json or from the web app's origin")

// origins are the browser origins (scheme://host[:port]) of FRONTEND_URL's entries.
func origins(frontendURLs []string) map[string]bool {
	out := make(map[string]bool, len(frontendURLs))
	for _, raw := range frontendURLs {
		if u, err := url.Parse(raw); err == nil && u.Scheme != "" && u.Host != "" {
			out[strings.ToLower(u.Scheme+"://"+u.Host)] = true
		}
	}
	return out
}

// refuseCrossSite guards state changes a browser authenticates with the cookie, which
// it attaches to requests from any page. A page elsewhere can send a form or a bodyless
// POST without asking, but neither JSON (that needs a CORS preflight, which only
// FRONTEND_URL's origins pass) nor our Origin: the web app's or the engine's own (the
// admin console). A foreign Origin is refused even with JSON: no browser sends that
// past CORS. Bearer tokens are never attached by a browser.
func (s *server) refuseCrossSite(c *fiber.Ctx) error {
	switch c.Method() {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions:
		return nil
	}
	if origin := c.Get(fiber.HeaderOrigin); origin != "" {
		if s.origins[strings.ToLower(origin)] || ownOrigin(c, origin) {
			return nil
		}
		return errCrossSite
	}
	if !isJSON(c) {
		return errCrossSite
	}
	return nil
}

// ownOrigin reports whether origin is the engine's own, as the request names it (Host,
// or X-Forwarded-Host from a trusted proxy): a page the engine serves, the admin console.
// A page elsewhere cannot send our host as its Origin.
func ownOrigin(c *fiber.Ctx, origin string) bool {
	u, err := url.Parse(origin)
	return err == nil && u.Host != "" && strings.EqualFold(u.Host, c.Hostname())
}

// isJSON reports whether the body is declared application/json (parameters aside).
func isJSON(c *fiber.Ctx) bool {
	mediaType, _, err := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	return err == nil && mediaType == fiber.MIMEApplicationJSON
}

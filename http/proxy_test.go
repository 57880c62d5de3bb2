package http_test

import (
	"testing"

	"github.com/supermock/engine/internal/config"
)

// A client writes whatever it likes into X-Forwarded-For before the request reaches our
// proxies; only the entries those proxies appended, on the right, name the client.
func TestForwardedForIsWalkedFromTheRightPastTrustedHops(t *testing.T) {
	t.Parallel()
	e := start(t, options{config: func(c *config.Config) {
		c.RateLimitMax, c.TrustedProxies = 2, []string{"127.0.0.1", "10.0.0.0/8"}
	}})
	id := int64(8200)
	login := func(forwardedFor string) response {
		id++
		return e.call("POST", "/api/auth/dev", "", map[string]any{"telegram_id": id, "username": "x"}, "X-Forwarded-For", forwardedFor)
	}
	// One client, 198.51.100.7, behind two of our proxies, naming itself differently each time.
	wantStatus(t, login("203.0.113.1, 198.51.100.7, 10.1.2.3"), 201)
	wantStatus(t, login("203.0.113.2,198.51.100.7"), 201)
	wantError(t, login("203.0.113.3, 198.51.100.7, 10.200.0.1, 10.1.2.3"), 429, "rate-limited")
	wantError(t, login("198.51.100.7"), 429, "rate-limited")
	// Another client has a budget of its own.
	wantStatus(t, login("198.51.100.9, 10.0.0.1"), 201)
	wantStatus(t, login("not-an-ip, 198.51.100.9"), 201)
	wantError(t, login("198.51.100.9"), 429, "rate-limited")
	// An entry that is no address stops the walk at the hop that wrote it down: what
	// lies to the left of it never buys a fresh budget.
	wantStatus(t, login("198.51.100.20, garbage, 10.0.0.1"), 201)
	wantStatus(t, login("198.51.100.21, garbage, 10.0.0.1"), 201)
	wantError(t, login("198.51.100.22, garbage, 10.0.0.1"), 429, "rate-limited")
}

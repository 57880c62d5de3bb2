package http_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/supermock/engine/http/auth"
	"github.com/supermock/engine/internal/config"
	"github.com/supermock/engine/internal/testdb"
)

func TestLogoutEndsTheSessionOnEveryReplica(t *testing.T) {
	t.Parallel()
	url := testdb.NewDatabase(t)
	one, two := start(t, options{poolFromURL: url}), start(t, options{poolFromURL: url})
	b := one.browser()
	l := b.login(3401, "leaving")
	other := one.loginWidget(3401, "leaving") // the same user on another device
	for _, e := range []*env{one, two} {
		wantStatus(t, e.call("GET", "/api/queue", l.Token, nil), 200)
	}
	wantStatus(t, b.do("GET", "/api/queue", nil), 200)

	// A page elsewhere cannot log the user out with the cookie.
	wantError(t, b.do("POST", "/api/auth/logout", []byte("x=1"), "Content-Type", "application/x-www-form-urlencoded"), 403, "cross-site-refused")
	wantStatus(t, two.call("GET", "/api/queue", l.Token, nil), 200)

	// The web app logs out: the cookie goes, and the token is refused on both instances.
	r := b.do("POST", "/api/auth/logout", nil, "Origin", frontend)
	wantStatus(t, r, 204)
	if c := sessionCookie(t, r); c.Value != "" || c.Path != "/" || !c.HttpOnly || c.Expires.After(time.Now()) {
		t.Fatalf("the cookie is not deleted: %+v", c)
	}
	wantError(t, b.do("GET", "/api/queue", nil), 401, "unauthorized") // the browser has no cookie left
	before := two.events()
	for _, e := range []*env{two, one} {
		wantError(t, e.call("GET", "/api/queue", l.Token, nil), 401, "session-ended")
		wantError(t, e.call("PUT", "/api/me/professions", l.Token, map[string]any{"professions": []string{"qa-engineer"}}), 401, "session-ended")
	}
	if two.events() != before {
		t.Fatal("an ended session changed the log")
	}
	// Logout ends that session only; a logout without a session still clears the cookie.
	wantStatus(t, two.call("GET", "/api/queue", other.Token, nil), 200)
	wantStatus(t, two.call("POST", "/api/auth/logout", "", nil), 204)
	wantStatus(t, two.call("POST", "/api/auth/logout", "not-a-token", nil), 204)

	// Many logouts of one session at once, on both instances: all succeed, and it stays ended.
	var wg sync.WaitGroup
	statuses := make([]int, 40)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = []*env{one, two}[i%2].call("POST", "/api/auth/logout", other.Token, nil).status
		}()
	}
	wg.Wait()
	for i, s := range statuses {
		if s != 204 {
			t.Fatalf("logout %d answered %d", i, s)
		}
	}
	wantError(t, one.call("GET", "/api/queue", other.Token, nil), 401, "session-ended")
}

// A new JWT_SECRET with the old one as JWT_SECRET_PREVIOUS logs nobody out.
func TestSecretRotationKeepsSessions(t *testing.T) {
	t.Parallel()
	url := testdb.NewDatabase(t)
	const next = "the-next-secret-of-at-least-32-bytes"
	old := start(t, options{poolFromURL: url})
	rotated := start(t, options{poolFromURL: url, config: func(c *config.Config) { c.JWTSecret, c.JWTSecretPrevious = next, jwtSecret }})
	before := old.loginDev(3501)
	wantStatus(t, rotated.call("GET", "/api/queue", before.Token, nil), 200)
	after := rotated.loginDev(3502)
	wantStatus(t, rotated.call("GET", "/api/queue", after.Token, nil), 200)
	wantError(t, old.call("GET", "/api/queue", after.Token, nil), 401, "token-invalid")
	// Tokens of the previous secret end by logout as any other.
	wantStatus(t, rotated.call("POST", "/api/auth/logout", before.Token, nil), 204)
	wantError(t, rotated.call("GET", "/api/queue", before.Token, nil), 401, "session-ended")
	forged := auth.Sign([]byte("neither secret, but 32 bytes long!"), auth.Claims{Subject: after.User.ID}, time.Now(), time.Hour)
	wantError(t, rotated.call("GET", "/api/queue", forged, nil), 401, "token-invalid")
}

// The session checks of concurrent requests go to the database together: each request
// still gets its own answer, the ended sessions refused and the others served, and the
// commands of the others land.
func TestConcurrentRequestsEachGetTheirOwnSessionAnswer(t *testing.T) {
	t.Parallel()
	e := start(t, options{})
	users := make([]login, 24)
	for i := range users {
		users[i] = e.loginWidget(int64(3500+i), fmt.Sprintf("crowd%d", i))
	}
	for i := 0; i < len(users); i += 3 {
		wantStatus(t, e.call("POST", "/api/auth/logout", users[i].Token, nil), 204)
	}
	type answer struct {
		user   int
		status int
		body   string
	}
	answers := make(chan answer, len(users)*8)
	before := e.events()
	var wg sync.WaitGroup
	for i, u := range users {
		for round := range 4 {
			wg.Go(func() {
				r := e.call("GET", "/api/queue", u.Token, nil)
				answers <- answer{i, r.status, string(r.body)}
				r = e.call("PUT", "/api/me/professions", u.Token, map[string]any{"professions": []string{[]string{"qa-engineer", "backend-developer"}[round%2]}})
				answers <- answer{i, r.status, string(r.body)}
			})
		}
	}
	wg.Wait()
	close(answers)
	for a := range answers {
		ended := a.user%3 == 0
		if ended && (a.status != 401 || !strings.Contains(a.body, "session-ended")) || !ended && a.status/100 != 2 {
			t.Fatalf("user %d (session ended: %t) got %d %s", a.user, ended, a.status, a.body)
		}
	}
	if got, live := e.events()-before, len(users)-len(users)/3; got < live {
		t.Fatalf("the commands of %d users still logged in appended %d events", live, got)
	}
}

package http_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	nethttp "net/http"
	"strings"
	"testing"
	"time"

	"github.com/supermock/engine/internal/config"
)

// loginDevCookie logs the browser in through the development route.
func (b *browser) loginDevCookie(tgID int64, username string) {
	b.e.t.Helper()
	body := fmt.Sprintf(`{"telegram_id":%d,"username":%q}`, tgID, username)
	r := b.do("POST", "/api/auth/dev", []byte(body), "Content-Type", "application/json")
	if r.status != 200 && r.status != 201 {
		b.e.t.Fatalf("dev login: %s", r)
	}
}

func wantPage(t *testing.T, r response, status int, contains ...string) {
	t.Helper()
	if r.status != status || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
		t.Fatalf("got %d %s, want a %d page", r.status, r.header.Get("Content-Type"), status)
	}
	for _, s := range contains {
		if !strings.Contains(string(r.body), s) {
			t.Errorf("the %d page lacks %q:\n%s", status, s, r.body)
		}
	}
}

// The console at /admin is the console for an admin's cookie, a login page without a
// session and a refusal for a user who is not an admin; its labels follow
// Accept-Language and it loads nothing from elsewhere.
func TestConsoleIsForAdminsOnly(t *testing.T) {
	t.Parallel()
	e := start(t, options{})
	anyone := e.browser()
	login := anyone.do("GET", "/admin", nil)
	wantPage(t, login, 401, `<html lang="en">`, `id="dev-login"`, "Admins only")
	if strings.Contains(string(login.body), "telegram.org") || strings.Contains(string(login.body), `src="http`) {
		t.Errorf("the login page loads a script from elsewhere without BOT_USERNAME:\n%s", login.body)
	}
	csp := login.header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'self';") || !strings.Contains(csp, "connect-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("Content-Security-Policy %q", csp)
	}
	wantPage(t, anyone.do("GET", "/admin/", nil, "Accept-Language", "ru-RU,ru;q=0.9,en;q=0.8"), 401,
		`<html lang="ru">`, "Только для админов", `"login.submit":"Войти"`)

	user := e.browser()
	user.loginDevCookie(9501, "plain")
	wantPage(t, user.do("GET", "/admin", nil), 403, `id="forbidden"`, "plain")

	adm := e.browser()
	adm.loginDevCookie(adminTG, "boss")
	page := adm.do("GET", "/admin", nil)
	wantPage(t, page, 200, `data-state="console"`, `href="#consumers"`, `/admin/assets/consumers.js`, "boss")
	if strings.Contains(string(page.body), `src="http`) || strings.Contains(string(page.body), `href="http`) {
		t.Errorf("the console loads something from elsewhere:\n%s", page.body)
	}

	for name, typ := range map[string]string{"console.js": "javascript", "consumers.js": "javascript", "console.css": "text/css"} {
		r := anyone.do("GET", "/admin/assets/"+name, nil)
		if r.status != 200 || !strings.Contains(r.header.Get("Content-Type"), typ) || len(r.body) == 0 {
			t.Errorf("%s: %d %s", name, r.status, r.header.Get("Content-Type"))
		}
	}
	for _, name := range []string{"page.html", "labels.json", "nothing.js", "../console.go"} {
		if r := anyone.do("GET", "/admin/assets/"+name, nil); r.status != 404 {
			t.Errorf("%s: %d, want 404", name, r.status)
		}
	}
}

// In production the login page offers the Telegram Login Widget, whose script (and
// frame) the page's policy allows from telegram.org, and no development login.
func TestConsoleLoginInProductionIsTelegramsWidget(t *testing.T) {
	t.Parallel()
	e := start(t, options{config: func(c *config.Config) {
		c.AppEnv, c.BotUsername, c.BackendURL = config.Production, "supermock_bot", "https://engine.supermock.test"
	}})
	r := e.call("GET", "/admin", "", nil)
	wantPage(t, r, 401, `src="https://telegram.org/js/telegram-widget.js?22"`, `data-telegram-login="supermock_bot"`,
		`data-auth-url="https://engine.supermock.test/admin"`)
	if strings.Contains(string(r.body), "dev-login") {
		t.Error("production offers the development login")
	}
	if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self' https://telegram.org;") ||
		!strings.Contains(csp, "frame-src https://oauth.telegram.org;") {
		t.Errorf("Content-Security-Policy %q", csp)
	}
}

type statusEvent struct {
	Consumers   []json.RawMessage `json:"consumers"`
	Projections []struct {
		Name    string `json:"name"`
		Rebuild *struct {
			Running bool  `json:"running"`
			Done    int64 `json:"done"`
			Total   int64 `json:"total"`
		} `json:"rebuild"`
		LastRebuild *struct {
			Seconds float64 `json:"duration_seconds"`
			Events  int64   `json:"events"`
			Error   string  `json:"error"`
		} `json:"last_rebuild"`
	} `json:"projections"`
}

// The status stream pushes the projections at once, then the progress and the result
// of a rebuild of all of them as it happens; users are refused.
func TestAdminStatusStreamPushesARebuild(t *testing.T) {
	t.Parallel()
	e := start(t, options{consumers: true})
	admin, user := e.loginDev(adminTG), e.loginDev(9601)
	wantError(t, e.call("GET", "/api/admin/projections/stream", user.Token, nil), 403, "forbidden")
	// A rebuild reads what readers may see: wait for the logins' events.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	e.waitVisible(ctx)

	req, _ := nethttp.NewRequest("GET", e.base+"/api/admin/projections/stream", nil)
	req.Header.Set("Authorization", "Bearer "+admin.Token)
	resp, err := nethttp.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	events := bufio.NewScanner(resp.Body)
	next := func() statusEvent {
		t.Helper()
		var name string
		for events.Scan() {
			line := events.Text()
			if v, ok := strings.CutPrefix(line, "event: "); ok {
				name = v
			}
			if v, ok := strings.CutPrefix(line, "data: "); ok {
				if name != "status" {
					t.Fatalf("a %q event: %s", name, v)
				}
				var s statusEvent
				if err := json.Unmarshal([]byte(v), &s); err != nil {
					t.Fatal(err)
				}
				return s
			}
		}
		t.Fatalf("the stream ended: %v", events.Err())
		return statusEvent{}
	}
	first := next()
	if len(first.Projections) != 8 || first.Consumers == nil {
		t.Fatalf("first status: %+v", first)
	}
	for _, p := range first.Projections {
		if p.LastRebuild != nil {
			t.Fatalf("%s was rebuilt before any rebuild: %+v", p.Name, p.LastRebuild)
		}
	}
	wantError(t, e.call("POST", "/api/admin/projections/everything/rebuild", admin.Token, nil), 404, "projection-not-found")
	r := e.call("POST", "/api/admin/projections/all/rebuild", admin.Token, nil)
	if r.status != 202 && r.status != 200 || !strings.Contains(string(r.body), `"projection":"all"`) {
		t.Fatalf("rebuild all: %s", r)
	}
	for {
		s := next()
		finished := 0
		for _, p := range s.Projections {
			if l := p.LastRebuild; l != nil && p.Rebuild == nil {
				if l.Error != "" || l.Events < 2 || l.Seconds <= 0 {
					t.Fatalf("%s rebuilt: %+v", p.Name, l)
				}
				finished++
			}
		}
		if finished == len(s.Projections) {
			break
		}
	}
	// An open stream does not hold the server's shutdown up: it ends with it.
	if err := e.app.ShutdownWithTimeout(time.Minute); err != nil {
		t.Fatalf("shutdown with a status stream open: %v", err)
	}
	for events.Scan() {
	}
}

package http_test

import (
	"context"
	"log/slog"
	nethttp "net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	api "github.com/supermock/engine/http"
	"github.com/supermock/engine/http/auth"
	"github.com/supermock/engine/internal/config"
)

func sessionCookie(t *testing.T, r response) *nethttp.Cookie {
	t.Helper()
	for _, c := range (&nethttp.Response{Header: r.header}).Cookies() {
		if c.Name == "sm_sess" {
			return c
		}
	}
	t.Fatalf("no sm_sess cookie in %v", r.header)
	return nil
}

func TestWidgetLoginRegistersOnceAndOpensASession(t *testing.T) {
	t.Parallel()
	e := start(t, options{consumers: true})
	before := e.events()
	r := e.call("POST", "/api/auth/telegram", "", widgetFields(4242, "ada", time.Now()))
	wantStatus(t, r, 201)
	var first login
	r.json(t, &first)
	if first.User.TelegramID != 4242 || first.User.Username != "ada" || first.User.AccountRole != "user" ||
		first.User.PreferredRole != "candidate" || first.Token == "" {
		t.Fatalf("first login: %s", r)
	}
	c := sessionCookie(t, r)
	if !c.HttpOnly || c.Secure || c.SameSite != nethttp.SameSiteLaxMode || c.Value != first.Token {
		t.Fatalf("cookie %+v", c)
	}
	if e.events() != before+2 { // the claim of the Telegram id and UserRegistered
		t.Fatalf("log grew by %d events, want 2", e.events()-before)
	}
	second := e.loginWidget(4242, "ada")
	if second.User.ID != first.User.ID || e.events() != before+2 {
		t.Fatalf("second login made user %s (first %s) and %d events", second.User.ID, first.User.ID, e.events()-before)
	}

	// The cookie alone is a session; X-Min-Position waits for the users projection.
	req, _ := nethttp.NewRequest("GET", e.base+"/api/me", nil)
	req.AddCookie(&nethttp.Cookie{Name: "sm_sess", Value: first.Token})
	req.Header.Set("X-Min-Position", r.header.Get("X-Event-Position"))
	resp, err := nethttp.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("X-Projection-Lag") != "" {
		t.Fatalf("GET /api/me with the cookie: %d lag=%q", resp.StatusCode, resp.Header.Get("X-Projection-Lag"))
	}
}

func TestWebAppLogin(t *testing.T) {
	t.Parallel()
	e := start(t, options{config: func(c *config.Config) { c.AppEnv = config.Production }})
	fields := map[string]string{"user": `{"id":5151,"first_name":"Grace","username":"grace"}`,
		"auth_date": itoa(time.Now().Unix()), "query_id": "AAHdF6IQAAAAAN0XohDhrOrc"}
	r := e.call("POST", "/api/auth/webapp", "", map[string]string{"init_data": auth.SignWebApp(fields, botToken)})
	wantStatus(t, r, 201)
	var l login
	r.json(t, &l)
	if l.User.TelegramID != 5151 || l.User.Username != "grace" {
		t.Fatalf("webapp login: %s", r)
	}
	if c := sessionCookie(t, r); !c.Secure || !c.HttpOnly {
		t.Fatalf("production cookie must be Secure and HttpOnly: %+v", c)
	}
}

func TestLoginRefusals(t *testing.T) {
	t.Parallel()
	e := start(t, options{})
	prod := start(t, options{config: func(c *config.Config) { c.AppEnv = config.Production }})
	noTelegram := start(t, options{config: func(c *config.Config) { c.TelegramToken = "" }})
	now := time.Now()
	tampered := widgetFields(77, "eve", now)
	tampered["id"] = 78
	forgedWebApp := auth.SignWebApp(map[string]string{"user": `{"id":79}`, "auth_date": itoa(now.Unix())}, "111:another-bot")
	noHash := widgetFields(80, "x", now)
	delete(noHash, "hash")
	cases := []struct {
		name   string
		e      *env
		path   string
		body   any
		status int
		code   string
	}{
		{"tampered widget hash", e, "/api/auth/telegram", tampered, 401, "telegram-hash-invalid"},
		{"stale auth_date", e, "/api/auth/telegram", widgetFields(81, "old", now.Add(-25*time.Hour)), 401, "telegram-auth-expired"},
		{"future auth_date", e, "/api/auth/telegram", widgetFields(82, "new", now.Add(time.Hour)), 401, "telegram-auth-expired"},
		{"no hash", e, "/api/auth/telegram", noHash, 400, "invalid-request"},
		{"widget malformed", e, "/api/auth/telegram", `{"id":`, 400, "malformed-json"},
		{"widget nested field", e, "/api/auth/telegram", map[string]any{"id": map[string]int{"a": 1}}, 400, "invalid-request"},
		{"webapp signed by another bot", e, "/api/auth/webapp", map[string]string{"init_data": forgedWebApp}, 401, "telegram-hash-invalid"},
		{"webapp missing init_data", e, "/api/auth/webapp", map[string]string{}, 400, "invalid-request"},
		{"telegram disabled", noTelegram, "/api/auth/telegram", widgetFields(83, "y", now), 503, "telegram-disabled"},
		{"dev login in production", prod, "/api/auth/dev", map[string]any{"telegram_id": 84}, 404, "not-found"},
		{"dev login wrong type", e, "/api/auth/dev", map[string]any{"telegram_id": "84"}, 400, "invalid-request"},
	}
	for _, tc := range cases {
		before := tc.e.events()
		wantError(t, tc.e.call("POST", tc.path, "", tc.body), tc.status, tc.code)
		if after := tc.e.events(); after != before {
			t.Errorf("%s: the log grew by %d events", tc.name, after-before)
		}
	}
}

func TestTokens(t *testing.T) {
	t.Parallel()
	e := start(t, options{})
	l := e.loginDev(1001)
	claims := auth.Claims{Subject: l.User.ID, TelegramID: 1001}
	expired := auth.Sign([]byte(jwtSecret), claims, time.Now().Add(-2*time.Hour), time.Hour)
	forged := auth.Sign([]byte("an attacker's key, 32 bytes long!"), claims, time.Now(), time.Hour)
	parts := strings.Split(l.Token, ".")
	tampered := parts[0] + "." + strings.TrimSuffix(parts[1], "J") + "K." + parts[2]
	cases := []struct {
		name, auth, code string
	}{
		{"missing", "", "unauthorized"},
		{"expired", "Bearer " + expired, "token-expired"},
		{"forged", "Bearer " + forged, "token-invalid"},
		{"tampered", "Bearer " + tampered, "token-invalid"},
		{"garbage", "Bearer abc", "token-invalid"},
		{"not bearer", "Basic dXNlcjpwYXNz", "token-invalid"},
	}
	for _, tc := range cases {
		before := e.events()
		wantError(t, e.call("PUT", "/api/me/professions", "", map[string]any{"professions": []string{"qa-engineer"}},
			"Authorization", tc.auth), 401, tc.code)
		wantError(t, e.call("GET", "/api/queue", "", nil, "Authorization", tc.auth), 401, tc.code)
		if e.events() != before {
			t.Errorf("%s: the log changed", tc.name)
		}
	}
	wantDone(t, e.call("PUT", "/api/me/professions", l.Token, map[string]any{"professions": []string{"qa-engineer"}}))
}

func TestAdminsComeFromTheConfiguration(t *testing.T) {
	t.Parallel()
	e := start(t, options{})
	admin, user := e.loginDev(adminTG), e.loginDev(1002)
	if admin.User.AccountRole != "admin" || user.User.AccountRole != "user" {
		t.Fatalf("roles: admin %q, user %q", admin.User.AccountRole, user.User.AccountRole)
	}
	stream := "/api/admin/streams/user-" + user.User.ID
	wantError(t, e.call("GET", stream, user.Token, nil), 403, "forbidden")
	wantError(t, e.call("GET", stream, "", nil), 401, "unauthorized")
	r := e.call("GET", stream, admin.Token, nil)
	wantStatus(t, r, 200)
	var s struct {
		Version int64 `json:"version"`
		Events  []struct {
			EventType string `json:"event_type"`
			Actor     string `json:"actor"`
		} `json:"events"`
	}
	r.json(t, &s)
	if s.Version != 1 || len(s.Events) != 1 || s.Events[0].EventType != "UserRegistered" {
		t.Fatalf("stream: %s", r)
	}
	wantError(t, e.call("GET", "/api/admin/streams/user-nobody", admin.Token, nil), 404, "stream-not-found")
}

func TestProductionRefusesAShortSecret(t *testing.T) {
	t.Parallel()
	pool, err := pgxpool.New(context.Background(), "postgres://127.0.0.1:1/none")
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	for _, secret := range []string{"", "short", strings.Repeat("s", config.MinSecretLength-1)} {
		_, err := api.New(api.Deps{Pool: pool, Logger: slog.New(slog.DiscardHandler),
			Config: config.Config{AppEnv: config.Production, JWTSecret: secret}})
		if err == nil || !strings.Contains(err.Error(), "JWT_SECRET") {
			t.Errorf("production with JWT_SECRET %q: %v, want an error naming JWT_SECRET", secret, err)
		}
	}
	if _, err := api.New(api.Deps{Pool: pool, Logger: slog.New(slog.DiscardHandler),
		Config: config.Config{AppEnv: config.Production, JWTSecret: strings.Repeat("s", config.MinSecretLength), DataKey: testDataKey}}); err != nil {
		t.Errorf("production with a secret of %d bytes: %v", config.MinSecretLength, err)
	}
	if _, err := config.Load(func(k string) string {
		return map[string]string{"APP_ENV": "production", "JWT_SECRET": "short"}[k]
	}); err == nil {
		t.Error("config.Load accepted a short JWT_SECRET in production")
	}
}

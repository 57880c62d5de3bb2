package http_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/supermock/engine/http/auth"
)

// Free text with a NUL, a control character or a direction override is a 400 naming
// its field, on every route that takes some, and the log stays as it was.
func TestFreeTextRefusedOnEveryRoute(t *testing.T) {
	t.Parallel()
	e := start(t, options{consumers: true})
	me, cand, intv := e.loginDev(14001), e.loginDev(14002), e.loginDev(14003)
	now := time.Now()
	wantStatus(t, e.call("POST", "/api/queue", cand.Token, window("candidate", "qa-engineer", now, 3*time.Hour)), 201)
	wantStatus(t, e.call("POST", "/api/queue", intv.Token, window("interviewer", "qa-engineer", now, 3*time.Hour)), 201)
	iv := "/api/interviews/" + e.interviewOf(cand.Token)
	form := func(field string, value any) map[string]any {
		f := map[string]any{"profession": "qa-engineer", "country": "DE", "experience": "1-3", "language": "en"}
		f[field] = value
		return f
	}
	for _, bad := range []string{"\x00", "\t", "\x1b[2J", "\u0085", "\u202e", "\u2066", "\ufffd"} {
		for _, c := range []struct {
			field, method, path, token string
			body                       any
		}{
			{"first_name", "PUT", "/api/me", me.Token, map[string]any{"first_name": "Mal" + bad + "lory"}},
			{"last_name", "PUT", "/api/me", me.Token, map[string]any{"last_name": "O" + bad}},
			{"tools", "PUT", "/api/me/form", me.Token, form("tools", []string{"Go", "Post" + bad + "greSQL"})},
			{"email", "PUT", "/api/me/form", me.Token, form("email", "ann"+bad+"@example.org")},
			{"phone", "PUT", "/api/me/form", me.Token, form("phone", "+49 30 1234"+bad+"567")},
			{"reason", "POST", iv + "/cancel", cand.Token, map[string]any{"reason": "ill" + bad}},
			{"skills", "POST", iv + "/feedback", cand.Token, map[string]any{"rating": 4, "skills": map[string]int{"s" + bad + "ql": 4}}},
			{"comment", "POST", iv + "/feedback", cand.Token, map[string]any{"rating": 4, "comment": "fine" + bad}},
		} {
			before := e.events()
			r := e.call(c.method, c.path, c.token, c.body)
			wantError(t, r, 400, "text-invalid")
			var body errorAnswer
			r.json(t, &body)
			if !strings.HasPrefix(body.Error.Message, c.field+" ") {
				t.Errorf("%s with %q: message %q does not name the field", c.field, bad, body.Error.Message)
			}
			if e.events() != before {
				t.Fatalf("%s with %q reached the log", c.field, bad)
			}
		}
	}
}

// What Telegram signs is cleaned, never refused: a login with an odd name works and
// the name is stored without the odd characters.
func TestTelegramNamesAreCleaned(t *testing.T) {
	t.Parallel()
	e := start(t, options{consumers: true})
	now := time.Now()
	fields := map[string]string{"id": "14101", "first_name": "Mal\x00lo\u202ery", "last_name": "\x1bO'Brien",
		"username": "mallory", "auth_date": strconv.FormatInt(now.Unix(), 10)}
	body := map[string]any{}
	for k, v := range fields {
		body[k] = v
	}
	body["hash"] = auth.SignWidget(fields, botToken)
	r := e.call("POST", "/api/auth/telegram", "", body)
	wantStatus(t, r, 201)
	var l login
	r.json(t, &l)
	var m struct {
		FirstName string `json:"first_name"`
		LastName  string `json:"last_name"`
	}
	e.get("/api/me", l.Token, r.header.Get("X-Event-Position"), &m)
	if m.FirstName != "Mallory" || m.LastName != "O'Brien" {
		t.Fatalf("stored names %q %q", m.FirstName, m.LastName)
	}

	webapp := map[string]string{"user": `{"id":14102,"first_name":"Eve\u0000\u2067","username":"e\u0000ve"}`,
		"auth_date": strconv.FormatInt(now.Unix(), 10)}
	r = e.call("POST", "/api/auth/webapp", "", map[string]string{"init_data": auth.SignWebApp(webapp, botToken)})
	wantStatus(t, r, 201)
	r.json(t, &l)
	if l.User.Username != "eve" {
		t.Fatalf("webapp login: %s", r)
	}
}

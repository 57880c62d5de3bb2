package http_test

import (
	"context"
	"encoding/json"
	"errors"
	nethttp "net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/supermock/engine/domain"
	"github.com/supermock/engine/internal/config"
)

// interviewOf waits until the caller has an interview in the read table.
func (e *env) interviewOf(token string) string {
	e.t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		var list struct {
			Interviews []struct {
				ID string `json:"id"`
			} `json:"interviews"`
		}
		r := e.call("GET", "/api/interviews", token, nil)
		wantStatus(e.t, r, 200)
		r.json(e.t, &list)
		if len(list.Interviews) > 0 {
			return list.Interviews[0].ID
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.t.Fatal("no interview was scheduled")
	return ""
}

// Every refusal has its documented status and code, names the request id, and
// leaves the log as it was.
func TestRefusalsLeaveTheLogUnchanged(t *testing.T) {
	t.Parallel()
	e := start(t, options{consumers: true})
	me, other := e.loginDev(2001), e.loginDev(2002)
	cand, intv := e.loginDev(2003), e.loginDev(2004)
	now := time.Now()

	r := e.call("POST", "/api/queue", other.Token, window("candidate", "qa-engineer", now.Add(48*time.Hour), 2*time.Hour))
	wantStatus(t, r, 201)
	var entry struct {
		ID string `json:"id"`
	}
	r.json(t, &entry)
	wantStatus(t, e.call("POST", "/api/queue", cand.Token, window("candidate", "data-engineer", now, 3*time.Hour)), 201)
	wantStatus(t, e.call("POST", "/api/queue", intv.Token, window("interviewer", "data-engineer", now, 3*time.Hour)), 201)
	theirs := e.interviewOf(cand.Token)
	mine := e.call("POST", "/api/queue", me.Token, window("candidate", "game-developer", now.Add(72*time.Hour), 2*time.Hour))
	wantStatus(t, mine, 201)

	// A notification of somebody else's, in their inbox already.
	iv, err := e.svc.LoadInterview(context.Background(), uuid.MustParse(theirs))
	if err != nil {
		t.Fatal(err)
	}
	var theirNotification string
	for _, n := range iv.DueNotifications(time.Now()) {
		if n.UserID.String() == cand.User.ID {
			pos, err := e.svc.RecordNotificationSent(context.Background(), domain.Meta{Actor: domain.SystemActor}, n, "see you")
			if err != nil {
				t.Fatal(err)
			}
			var in inbox
			e.get("/api/notifications", cand.Token, pos, &in)
			if len(in.Notifications) != 1 {
				t.Fatalf("the candidate's inbox: %+v", in)
			}
			theirNotification = in.Notifications[0].ID
		}
	}
	if theirNotification == "" {
		t.Fatal("no notification was due for the candidate")
	}

	valid := window("candidate", "backend-developer", now.Add(24*time.Hour), 2*time.Hour)
	with := func(k string, v any) map[string]any {
		out := map[string]any{}
		for key, val := range valid {
			out[key] = val
		}
		if v == nil {
			delete(out, k)
		} else {
			out[k] = v
		}
		return out
	}
	big := `{"role":"candidate","comment":"` + strings.Repeat("x", 70<<10) + `"}`
	cases := []struct {
		name, method, path string
		token              string
		body               any
		headers            []string
		status             int
		code               string
		mentions           string
	}{
		{"malformed json", "POST", "/api/queue", me.Token, `{"role":`, nil, 400, "malformed-json", ""},
		{"not an object", "POST", "/api/queue", me.Token, `[1,2]`, nil, 400, "malformed-json", ""},
		{"missing field", "POST", "/api/queue", me.Token, with("language", nil), nil, 400, "invalid-request", "language"},
		{"null field", "POST", "/api/queue", me.Token, with("role", json.RawMessage("null")), nil, 400, "invalid-request", "role"},
		{"wrong type of time", "POST", "/api/queue", me.Token, with("window_start", 12), nil, 400, "invalid-request", "window_start"},
		{"unparsable time", "POST", "/api/queue", me.Token, with("window_end", "tomorrow"), nil, 400, "invalid-request", "window_end"},
		{"wrong type of string", "POST", "/api/queue", me.Token, with("role", true), nil, 400, "invalid-request", "role"},
		{"unknown field", "POST", "/api/queue", me.Token, with("priority", 1), nil, 400, "invalid-request", "priority"},
		{"unknown profession", "POST", "/api/queue", me.Token, with("profession", "astronaut"), nil, 400, "profession-unknown", "astronaut"},
		{"unknown language", "POST", "/api/queue", me.Token, with("language", "xx"), nil, 400, "language-invalid", ""},
		{"window in the past", "POST", "/api/queue", me.Token,
			window("candidate", "qa-engineer", now.Add(-5*time.Hour), 2*time.Hour), nil, 400, "queue-window-in-past", ""},
		{"window too short", "POST", "/api/queue", me.Token,
			window("candidate", "qa-engineer", now.Add(time.Hour), 30*time.Minute), nil, 400, "queue-window-too-short", ""},
		{"window overlaps mine", "POST", "/api/queue", me.Token,
			window("interviewer", "qa-engineer", now.Add(72*time.Hour), time.Hour), nil, 409, "queue-window-overlaps", ""},
		{"text body", "POST", "/api/queue", me.Token, "role=candidate", []string{"Content-Type", "text/plain"}, 415, "unsupported-media-type", ""},
		{"somebody else's entry", "DELETE", "/api/queue/" + entry.ID, me.Token, nil, nil, 404, "queue-entry-not-found", ""},
		{"no such entry", "DELETE", "/api/queue/" + uuid.NewString(), me.Token, nil, nil, 404, "queue-entry-not-found", ""},
		{"entry id not a uuid", "DELETE", "/api/queue/42", me.Token, nil, nil, 400, "invalid-request", "id"},
		{"complete somebody else's interview", "POST", "/api/interviews/" + theirs + "/complete", me.Token, nil, nil, 403, "interview-not-participant", ""},
		{"start somebody else's interview", "POST", "/api/interviews/" + theirs + "/start", me.Token, nil, nil, 403, "interview-not-participant", ""},
		{"cancel somebody else's interview", "POST", "/api/interviews/" + theirs + "/cancel", me.Token, map[string]string{"reason": "x"}, nil, 403, "interview-not-participant", ""},
		{"no-show in somebody else's interview", "POST", "/api/interviews/" + theirs + "/no-show", me.Token, nil, nil, 403, "interview-not-participant", ""},
		{"feedback on somebody else's interview", "POST", "/api/interviews/" + theirs + "/feedback", me.Token, map[string]any{"rating": 5}, nil, 403, "interview-not-participant", ""},
		{"read somebody else's interview", "GET", "/api/interviews/" + theirs, me.Token, nil, nil, 404, "interview-not-found", ""},
		{"no such interview", "POST", "/api/interviews/" + uuid.NewString() + "/complete", me.Token, nil, nil, 404, "interview-not-found", ""},
		{"feedback rating of the wrong type", "POST", "/api/interviews/" + theirs + "/feedback", cand.Token, map[string]any{"rating": "five"}, nil, 400, "invalid-request", "rating"},
		{"feedback without rating", "POST", "/api/interviews/" + theirs + "/feedback", cand.Token, map[string]any{"comment": "ok"}, nil, 400, "invalid-request", "rating"},
		{"feedback rating out of range", "POST", "/api/interviews/" + theirs + "/feedback", cand.Token, map[string]any{"rating": 9}, nil, 400, "feedback-rating-invalid", ""},
		{"feedback before completion", "POST", "/api/interviews/" + theirs + "/feedback", cand.Token, map[string]any{"rating": 4}, nil, 409, "interview-not-completed", ""},
		{"complete before start", "POST", "/api/interviews/" + theirs + "/complete", cand.Token, nil, nil, 409, "interview-not-in-progress", ""},
		{"somebody else's notification", "POST", "/api/notifications/" + theirNotification + "/read", me.Token, nil, nil, 404, "notification-not-found", ""},
		{"no such notification", "POST", "/api/notifications/" + uuid.NewString() + "/read", me.Token, nil, nil, 404, "notification-not-found", ""},
		{"empty professions", "PUT", "/api/me/professions", me.Token, map[string]any{"professions": []string{}}, nil, 400, "professions-empty", ""},
		{"professions of the wrong type", "PUT", "/api/me/professions", me.Token, map[string]any{"professions": "qa-engineer"}, nil, 400, "invalid-request", "professions"},
		{"form without country", "PUT", "/api/me/form", me.Token, map[string]any{"profession": "qa-engineer", "experience": "1-3", "language": "en"}, nil, 400, "invalid-request", "country"},
		{"bad timezone", "PUT", "/api/me", me.Token, map[string]any{"timezone": "Mars/Olympus"}, nil, 400, "timezone-invalid", ""},
		{"bad cursor", "GET", "/api/queue", me.Token, nil, []string{"X-Min-Position", "yesterday"}, 400, "bad-cursor", ""},
		{"bad status filter", "GET", "/api/queue?status=lost", me.Token, nil, nil, 400, "invalid-request", "status"},
		{"no token", "POST", "/api/queue", "", valid, nil, 401, "unauthorized", ""},
		{"no such route", "GET", "/api/nothing", me.Token, nil, nil, 404, "not-found", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := e.events()
			r := e.call(tc.method, tc.path, tc.token, tc.body, tc.headers...)
			wantError(t, r, tc.status, tc.code)
			var body errorAnswer
			r.json(t, &body)
			if !strings.Contains(body.Error.Message, tc.mentions) {
				t.Errorf("message %q does not name %q", body.Error.Message, tc.mentions)
			}
			if after := e.events(); after != before {
				t.Errorf("the log grew by %d events", after-before)
			}
		})
	}
	// A body past the limit is refused unread: the server may close the connection
	// while the client still writes, which the client sees as a reset instead of the
	// 413. Either way nothing is stored.
	t.Run("oversized body", func(t *testing.T) {
		before := e.events()
		req, err := nethttp.NewRequest("POST", e.base+"/api/queue", strings.NewReader(big))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+me.Token)
		res, err := nethttp.DefaultClient.Do(req)
		switch {
		case errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE):
		case err != nil:
			t.Fatal(err)
		default:
			var body errorAnswer
			err := json.NewDecoder(res.Body).Decode(&body)
			res.Body.Close()
			if res.StatusCode != 413 || err != nil || body.Error.Code != "body-too-large" {
				t.Errorf("got %d %+v (%v), want 413 body-too-large", res.StatusCode, body, err)
			}
		}
		if after := e.events(); after != before {
			t.Errorf("the log grew by %d events", after-before)
		}
	})
}

func TestRateLimitOnCommands(t *testing.T) {
	t.Parallel()
	e := start(t, options{config: func(c *config.Config) { c.RateLimitMax = 3 }})
	l := e.loginDev(3001) // the login counts on the IP, not on the user
	body := map[string]any{"professions": []string{"qa-engineer"}}
	for range 3 {
		wantDone(t, e.call("PUT", "/api/me/professions", l.Token, body))
	}
	before := e.events()
	r := e.call("PUT", "/api/me/professions", l.Token, map[string]any{"professions": []string{"data-engineer"}})
	wantError(t, r, 429, "rate-limited")
	if e.events() != before {
		t.Error("a rate-limited command was stored")
	}
	// Queries have a budget of their own, and another user has a budget of their own.
	wantStatus(t, e.call("GET", "/api/queue", l.Token, nil), 200)
	wantDone(t, e.call("PUT", "/api/me/professions", e.loginDev(3002).Token, body))
}

// Query routes are limited too, on a larger budget apart from the commands': a client
// polling in a loop is stopped, and spends nobody else's share.
func TestRateLimitOnQueries(t *testing.T) {
	t.Parallel()
	e := start(t, options{config: func(c *config.Config) { c.RateLimitMax, c.RateLimitQueryMax = 2, 5 }})
	poller, other := e.loginDev(3011), e.loginDev(3012)
	paths := []string{"/api/queue", "/api/interviews", "/api/notifications", "/api/queue/stats", "/api/queue"}
	for _, path := range paths {
		wantStatus(t, e.call("GET", path, poller.Token, nil), 200)
	}
	for _, path := range append(paths, "/api/me", "/api/slots") {
		wantError(t, e.call("GET", path, poller.Token, nil), 429, "rate-limited")
	}
	wantStatus(t, e.call("GET", "/legacy/api/calendar/sessions", poller.Token, nil), 429) // one budget for every route group
	// Its commands still have their own budget; another user's queries theirs.
	wantDone(t, e.call("PUT", "/api/me/professions", poller.Token, map[string]any{"professions": []string{"qa-engineer"}}))
	wantStatus(t, e.call("GET", "/api/queue", other.Token, nil), 200)
	// Before login, per address: the public lists are limited as well; health never is.
	for range 5 {
		wantStatus(t, e.call("GET", "/api/professions", "", nil), 200)
	}
	wantError(t, e.call("GET", "/api/professions", "", nil), 429, "rate-limited")
	for range 10 {
		wantStatus(t, e.call("GET", "/api/health", "", nil), 200)
	}
}

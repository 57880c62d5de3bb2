package http_test

import (
	"bytes"
	"encoding/json"
	"io"
	nethttp "net/http"
	"net/http/cookiejar"
	"testing"
	"time"

	"github.com/supermock/engine/internal/config"
)

// browser is a client that keeps the session cookie the server set, as a browser does,
// and sends whatever headers a page could make it send.
type browser struct {
	e      *env
	client *nethttp.Client
}

func (e *env) browser() *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return &browser{e: e, client: &nethttp.Client{Jar: jar}}
}

// do sends body (nil for none) with the headers given as name, value pairs.
func (b *browser) do(method, path string, body []byte, headers ...string) response {
	b.e.t.Helper()
	req, err := nethttp.NewRequest(method, b.e.base+path, bytes.NewReader(body))
	if err != nil {
		b.e.t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := b.client.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		b.e.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: out}
}

// login logs in through the widget: the answer sets the cookie in the browser.
func (b *browser) login(tgID int64, username string) login {
	b.e.t.Helper()
	body, _ := json.Marshal(widgetFields(tgID, username, time.Now()))
	r := b.do("POST", "/api/auth/telegram", body, "Content-Type", "application/json")
	wantStatus(b.e.t, r, 201)
	var l login
	r.json(b.e.t, &l)
	return l
}

func TestCookieStateChangesNeedJSONOrTheFrontendsOrigin(t *testing.T) {
	t.Parallel()
	const second = "https://app.supermock.test"
	e := start(t, options{consumers: true, config: func(c *config.Config) { c.FrontendURL = frontend + ", " + second + "/" }})
	b := e.browser()
	cand := b.login(3301, "cand")
	intv := e.loginDev(3302)
	now := time.Now()
	wantStatus(t, e.call("POST", "/api/queue", cand.Token, window("candidate", "data-engineer", now, 3*time.Hour)), 201)
	wantStatus(t, e.call("POST", "/api/queue", intv.Token, window("interviewer", "data-engineer", now, 3*time.Hour)), 201)
	id := e.interviewOf(cand.Token)
	cancel := "/api/interviews/" + id + "/cancel"

	// What a page on another site can make a browser send with the cookie, no preflight asked.
	refused := []struct {
		name    string
		body    string
		headers []string
	}{
		{"a form", "reason=gone", []string{"Content-Type", "application/x-www-form-urlencoded"}},
		{"a bodyless POST", "", nil},
		{"text/plain holding JSON", `{"reason":"gone"}`, []string{"Content-Type", "text/plain"}},
		{"a multipart form from another origin", "--x\r\nContent-Disposition: form-data; name=\"reason\"\r\n\r\ngone\r\n--x--\r\n",
			[]string{"Content-Type", "multipart/form-data; boundary=x", "Origin", "https://evil.supermock.test"}},
		{"JSON from another origin", `{"reason":"gone"}`, []string{"Content-Type", "application/json", "Origin", "https://evil.supermock.test"}},
		{"a sandboxed page", "", []string{"Origin", "null"}},
		{"JSON as a prefix of another type", `{"reason":"gone"}`, []string{"Content-Type", "application/jsonp"}},
	}
	for _, tc := range refused {
		before := e.events()
		wantError(t, b.do("POST", cancel, []byte(tc.body), tc.headers...), 403, "cross-site-refused")
		if e.events() != before {
			t.Errorf("%s: the log grew", tc.name)
		}
	}
	// Leaving the queue is as refused; reading is not a state change.
	entry := e.call("POST", "/api/queue", cand.Token, window("candidate", "qa-engineer", now.Add(48*time.Hour), 2*time.Hour))
	wantStatus(t, entry, 201)
	var joined struct {
		ID string `json:"id"`
	}
	entry.json(t, &joined)
	wantError(t, b.do("DELETE", "/api/queue/"+joined.ID, nil), 403, "cross-site-refused")
	wantStatus(t, b.do("GET", "/api/interviews/"+id, nil), 200)

	// Bearer requests are not the browser's doing: a form type gets the API's usual 415.
	wantError(t, e.call("POST", cancel, cand.Token, "reason=gone", "Content-Type", "application/x-www-form-urlencoded"), 415, "unsupported-media-type")

	// The web app itself: JSON, or any of FRONTEND_URL's origins, even bodyless.
	wantStatus(t, b.do("DELETE", "/api/queue/"+joined.ID, nil, "Origin", second), 200)
	wantStatus(t, b.do("POST", cancel, []byte(`{"reason":"ill"}`), "Content-Type", "application/json; charset=utf-8"), 200)
	// A page the engine serves (the admin console) sends the engine's own Origin.
	wantStatus(t, b.do("POST", "/api/auth/logout", nil, "Origin", e.base), 204)

	// Both origins pass CORS, with the cookie.
	for _, origin := range []string{frontend, second} {
		r := b.do("OPTIONS", "/api/queue", nil, "Origin", origin, "Access-Control-Request-Method", "POST")
		if r.header.Get("Access-Control-Allow-Origin") != origin || r.header.Get("Access-Control-Allow-Credentials") != "true" {
			t.Errorf("preflight from %s: %v", origin, r.header)
		}
	}
}

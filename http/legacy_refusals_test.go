package http_test

import (
	nethttp "net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
)

// Refusals of /legacy come in the old shape, with a message the pages can show.
func TestLegacyRefusalsInTheOldShape(t *testing.T) {
	t.Parallel()
	e := start(t, options{consumers: true})
	b := e.frontendTab()

	forged := strings.Replace(widget(7101, "Eve", "", "eve", time.Now()), `"first_name":"Eve"`, `"first_name":"Mallory"`, 1)
	b.refused(b.do("POST", "/api/auth/telegram-widget", forged), 401, "telegram-hash-invalid", "")
	if s := b.ok("GET", "/api/auth/session", ""); flag(t, s, "authenticated") {
		t.Fatal("a forged widget opened a session")
	}
	b.refused(b.do("GET", "/api/calendar/queue/status", ""), 401, "unauthorized", "User not authenticated")

	b.ok("POST", "/api/auth/telegram-widget", widget(7101, "Eve", "", "eve", time.Now()))
	b.refused(b.do("POST", "/api/calendar/queue", joinBody("frontend-developer", time.Now().Add(3*time.Hour), "CANDIDATE")),
		400, "form-required", "User language not found. Please complete the registration form first.")
	b.refused(b.do("GET", "/api/calendar/sessions/"+uuid.NewString(), ""), 404, "interview-not-found", "Session not found or access denied")
	b.refused(b.do("GET", "/api/feedback/sessions/"+uuid.NewString(), ""), 404, "interview-not-found", "Session not found or access denied")
	b.refused(b.do("POST", "/api/form", `{"profession":"frontend-developer","country":"RU","language":"ru","experience":"7-9","email":"","phone":""}`),
		400, "experience-invalid", "")
	b.refused(b.do("POST", "/api/professions/selected", `{"profession":"astronaut"}`), 400, "profession-unknown", "")
	b.refused(b.do("PATCH", "/api/calendar/sessions/not-a-uuid/complete", `{"rating":0,"comment":""}`), 400, "invalid-request", "")
	b.refused(b.do("GET", "/api/nothing-here", ""), 404, "not-found", "")
}

// The frontend's origin may call the group from the browser with its cookie, PATCH
// included.
func TestLegacyCORSAllowsTheFrontend(t *testing.T) {
	t.Parallel()
	e := start(t, options{})
	for _, method := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
		req, err := nethttp.NewRequest("OPTIONS", e.base+"/legacy/api/calendar/queue", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Origin", frontend)
		req.Header.Set("Access-Control-Request-Method", method)
		req.Header.Set("Access-Control-Request-Headers", "content-type")
		resp, err := nethttp.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		h := resp.Header
		if resp.StatusCode != 204 || h.Get("Access-Control-Allow-Origin") != frontend ||
			h.Get("Access-Control-Allow-Credentials") != "true" || !strings.Contains(h.Get("Access-Control-Allow-Methods"), method) {
			t.Fatalf("preflight for %s: %d %v", method, resp.StatusCode, h)
		}
	}
}

// Joins racing from one user's tabs leave one waiting entry: each replaces the last.
func TestLegacyJoinsRacingKeepOneEntry(t *testing.T) {
	t.Parallel()
	e := start(t, options{consumers: true})
	tabs := make([]*frontendTab, 24)
	for i := range tabs {
		tabs[i] = e.frontendTab()
		tabs[i].ok("POST", "/api/auth/telegram-widget", widget(7201, "Racer", "", "racer", time.Now()))
	}
	tabs[0].ok("POST", "/api/form", `{"profession":"qa-engineer","country":"RU","language":"en","experience":"1-3","email":"","phone":""}`)
	base := time.Now().UTC().Truncate(time.Hour).Add(2 * time.Hour)
	var wg sync.WaitGroup
	answers := make([]legacyAnswer, len(tabs))
	for i, tab := range tabs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i] = tab.do("POST", "/api/calendar/queue", joinBody("qa-engineer", base.Add(time.Duration(i)*time.Hour), "CANDIDATE"))
		}()
	}
	wg.Wait()
	joined := 0
	for _, a := range answers {
		switch {
		case a.status == 200 && a.body["success"] == true:
			joined++
		case a.status == 409 && a.body["code"] == "concurrent-modification":
		case a.status == 429 && a.body["code"] == "too-many-waits":
			// More tabs than one user may have waiting for the read tables at once.
		default:
			t.Fatalf("a racing join answered %d %s", a.status, a.raw)
		}
	}
	if joined == 0 {
		t.Fatal("no join got through")
	}
	if n := waitingEntries(t, e, 7201); n != 1 {
		t.Fatalf("%d waiting entries after %d racing joins", n, joined)
	}
	status := tabs[0].ok("GET", "/api/calendar/queue/status", "")
	if at := when(t, status, "preferredDateTime"); at.Before(base) || at.Minute() != 0 {
		t.Fatalf("queue status %v", status)
	}
}

package http_test

import (
	"context"
	nethttp "net/http"
	"strings"
	"testing"
	"time"

	"github.com/supermock/engine/internal/config"
	"github.com/supermock/engine/internal/testdb"
)

// The frontend's journey through /legacy, request by request as its pages send them:
// two people log in with the widget, fill the form, join from opposite sides at the
// same hour, both see the meeting, complete it, give feedback, read their history and
// log out. Every field the pages read is checked by name and JSON type.
func TestLegacyFrontendJourney(t *testing.T) {
	t.Parallel()
	clock := testdb.NewClock(time.Now().UTC())
	e := start(t, options{consumers: true, clock: clock, config: longSessions})
	alice, bob := e.frontendTab(), e.frontendTab()

	// Logged out, the session is a 200 saying so.
	session := alice.ok("GET", "/api/auth/session", "")
	if flag(t, session, "authenticated") || !isNull(field(t, session, []string{"user"})) {
		t.Fatalf("session before login: %v", session)
	}

	// Login.tsx posts the widget's object as is.
	alice.ok("POST", "/api/auth/telegram-widget", widget(7001, "Alice", "Liddell", "alice", clock.Now()))
	bob.ok("POST", "/api/auth/telegram-widget", widget(7002, "Bob", "Builder", "bob", clock.Now()))
	session = alice.ok("GET", "/api/auth/session", "")
	if !flag(t, session, "authenticated") || num(t, session, "user", "id") != 7001 ||
		str(t, session, "user", "first_name") != "Alice" || str(t, session, "user", "last_name") != "Liddell" ||
		str(t, session, "user", "username") != "alice" {
		t.Fatalf("session after login: %v", session)
	}

	// Before the form, its fields are null; new users may take either side.
	form := alice.ok("GET", "/api/form", "")
	for _, f := range []string{"profession", "country", "language", "experience", "email", "phone"} {
		if !isNull(field(t, form, []string{f})) {
			t.Fatalf("%s before the form: %v", f, form)
		}
	}
	if str(t, form, "status") != "INTERVIEWER" || !flag(t, form, "canBeCandidate") {
		t.Fatalf("role offer of a new user: %v", form)
	}

	// Collectingcontacts.tsx posts, Profile.tsx puts; read back at once.
	alice.ok("POST", "/api/form", `{"profession":"frontend-developer","country":"RU","language":"ru","experience":"0-0","email":"","phone":""}`)
	bob.ok("PUT", "/api/form", `{"profession":"frontend-developer","country":"DE","language":"ru","experience":"3-5","email":"bob@example.com","phone":"+7 (999) 123-45-67"}`)
	form = alice.ok("GET", "/api/form", "")
	if str(t, form, "profession") != "frontend-developer" || str(t, form, "country") != "RU" ||
		str(t, form, "language") != "ru" || str(t, form, "experience") != "0-1" ||
		!isNull(field(t, form, []string{"email"})) || !isNull(field(t, form, []string{"phone"})) {
		t.Fatalf("alice's form: %v", form)
	}
	form = bob.ok("GET", "/api/form", "")
	if str(t, form, "email") != "bob@example.com" || str(t, form, "phone") != "+79991234567" || str(t, form, "experience") != "3-5" {
		t.Fatalf("bob's form: %v", form)
	}
	if p := alice.ok("POST", "/api/professions/selected", `{"profession":"frontend-developer"}`); str(t, p, "profession") != "frontend-developer" {
		t.Fatalf("selected profession: %v", p)
	}

	// Interview.tsx: every future hour of the next 14 days is offered.
	slots := list(t, alice.ok("GET", "/api/calendar/slots/frontend-developer", ""))
	if len(slots) < 14*24-1 {
		t.Fatalf("%d slots", len(slots))
	}
	first := when(t, slots[0], "datetime")
	if !first.After(clock.Now()) || first.Minute() != 0 || !flag(t, slots[0], "available") {
		t.Fatalf("first slot %v at %s", slots[0], clock.Now())
	}
	at := when(t, slots[3], "datetime")

	// Alice changes her mind once: the second join replaces the first.
	alice.ok("POST", "/api/calendar/queue", joinBody("frontend-developer", at.Add(time.Hour), "CANDIDATE"))
	joined := alice.ok("POST", "/api/calendar/queue", joinBody("frontend-developer", at, "CANDIDATE"))
	if str(t, joined, "queueEntry", "status") != "WAITING" || obj(t, joined)["session"] != nil ||
		!when(t, joined, "queueEntry", "preferredDateTime").Equal(at) {
		t.Fatalf("alice's join: %v", joined)
	}
	if n := waitingEntries(t, e, 7001); n != 1 {
		t.Fatalf("alice holds %d waiting entries after two joins", n)
	}
	status := alice.ok("GET", "/api/calendar/queue/status", "")
	if str(t, status, "status") != "WAITING" || str(t, status, "profession") != "frontend-developer" ||
		str(t, status, "language") != "ru" || !when(t, status, "preferredDateTime").Equal(at) ||
		num(t, status, "usersInQueueWithSameLanguage") != 1 {
		t.Fatalf("alice's queue status: %v", status)
	}

	// Bob takes the other side at the same hour: matched at once.
	joined = bob.ok("POST", "/api/calendar/queue", joinBody("frontend-developer", at, "INTERVIEWER"))
	if str(t, joined, "queueEntry", "status") != "MATCHED" || str(t, joined, "session", "meetingLink") == "" {
		t.Fatalf("bob's join: %v", joined)
	}
	var link, sessionID string
	for _, b := range []*frontendTab{alice, bob} {
		status := b.ok("GET", "/api/calendar/queue/status", "")
		m := obj(t, status, "matchedSession")
		if str(t, status, "status") != "MATCHED" || !when(t, m, "scheduledDateTime").Equal(at) ||
			str(t, m, "profession") != "frontend-developer" || str(t, m, "language") != "ru" ||
			str(t, m, "candidate", "firstName") != "Alice" || str(t, m, "candidate", "lastName") != "Liddell" ||
			str(t, m, "interviewer", "firstName") != "Bob" || str(t, m, "interviewer", "lastName") != "Builder" {
			t.Fatalf("queue status after the match: %v", status)
		}
		if link != "" && str(t, m, "meetingLink") != link {
			t.Fatalf("two meeting links: %s and %s", link, str(t, m, "meetingLink"))
		}
		link, sessionID = str(t, m, "meetingLink"), str(t, m, "id")
	}
	if len(list(t, alice.ok("GET", "/api/calendar/sessions", ""))) != 0 {
		t.Fatal("a scheduled interview is listed among the completed ones")
	}

	// At the hour, "complete" starts and completes it in one call.
	clock.Set(at.Add(5 * time.Minute))
	alice.ok("PATCH", "/api/calendar/sessions/"+sessionID+"/complete", `{"rating":0,"comment":""}`)
	if alice.ok("GET", "/api/calendar/queue/status", "") != nil {
		t.Fatal("a completed interview still shows in the queue status")
	}
	sessions := list(t, bob.ok("GET", "/api/calendar/sessions", ""))
	if len(sessions) != 1 || str(t, sessions[0], "id") != sessionID || str(t, sessions[0], "profession") != "frontend-developer" ||
		!when(t, sessions[0], "scheduledDateTime").Equal(at) {
		t.Fatalf("bob's sessions: %v", sessions)
	}
	one := bob.ok("GET", "/api/calendar/sessions/"+sessionID, "")
	if str(t, one, "id") != sessionID || str(t, one, "candidate", "firstName") != "Alice" ||
		str(t, one, "interviewer", "lastName") != "Builder" || !when(t, one, "scheduledDateTime").Equal(at) {
		t.Fatalf("the session: %v", one)
	}

	// Feedback.tsx: both sides, then the second try of one of them.
	if len(list(t, alice.ok("GET", "/api/feedback/sessions/"+sessionID, ""))) != 0 {
		t.Fatal("feedback before anybody gave it")
	}
	alice.refused(alice.do("POST", "/api/feedback/sessions/"+sessionID, `{"rating":0,"comment":""}`),
		400, "feedback-rating-invalid", "Rating must be between 1 and 5")
	alice.ok("POST", "/api/feedback/sessions/"+sessionID, `{"rating":5,"comment":"Clear questions"}`)
	bob.ok("POST", "/api/feedback/sessions/"+sessionID, `{"rating":4,"comment":"Good answers"}`)
	alice.refused(alice.do("POST", "/api/feedback/sessions/"+sessionID, `{"rating":3,"comment":"again"}`),
		409, "feedback-already-given", "You have already submitted feedback for this session")
	given := list(t, bob.ok("GET", "/api/feedback/sessions/"+sessionID, ""))
	if len(given) != 2 {
		t.Fatalf("session feedback: %v", given)
	}
	for _, f := range given {
		str(t, f, "id")
		str(t, f, "comment")
		num(t, f, "fromUser", "id")
		str(t, f, "fromUser", "firstName")
		str(t, f, "fromUser", "lastName")
		str(t, f, "toUser", "firstName")
		str(t, f, "toUser", "lastName")
		if r := num(t, f, "rating"); r != 4 && r != 5 {
			t.Fatalf("rating %v", r)
		}
	}

	// FeedbackHistory.tsx.
	received := list(t, alice.ok("GET", "/api/feedback/user?type=received", ""))
	sent := list(t, alice.ok("GET", "/api/feedback/user?type=given", ""))
	if len(received) != 1 || num(t, received[0], "rating") != 4 || str(t, received[0], "comment") != "Good answers" ||
		str(t, received[0], "fromUser", "firstName") != "Bob" || str(t, received[0], "toUser", "firstName") != "Alice" ||
		str(t, received[0], "session", "profession") != "frontend-developer" ||
		!when(t, received[0], "session", "scheduledDateTime").Equal(at) || when(t, received[0], "createdAt").IsZero() {
		t.Fatalf("alice received: %v", received)
	}
	if len(sent) != 1 || num(t, sent[0], "rating") != 5 || str(t, sent[0], "toUser", "lastName") != "Builder" {
		t.Fatalf("alice gave: %v", sent)
	}

	// After the exchange the roles flip: bob, who interviewed, is offered the candidate
	// side only; alice may interview.
	if f := bob.ok("GET", "/api/form", ""); str(t, f, "status") != "CANDIDATE" {
		t.Fatalf("bob's offer after the exchange: %v", f)
	}
	if f := alice.ok("GET", "/api/form", ""); str(t, f, "status") != "INTERVIEWER" || !flag(t, f, "canBeCandidate") {
		t.Fatalf("alice's offer after the exchange: %v", f)
	}

	// useTelegramAuth.ts logs out with no body; a copy of the cookie is refused after.
	copied := e.frontendTab()
	copied.keep(alice.sessionCookie())
	out := alice.do("POST", "/api/auth/logout", "")
	if out.status != 200 || out.body["success"] != true || !clearsCookie(out.header) {
		t.Fatalf("logout: %d %s %v", out.status, out.raw, out.header.Values("Set-Cookie"))
	}
	if session := alice.ok("GET", "/api/auth/session", ""); flag(t, session, "authenticated") {
		t.Fatalf("session after logout: %v", session)
	}
	alice.refused(alice.do("GET", "/api/form", ""), 401, "unauthorized", "User not authenticated")
	if session := copied.ok("GET", "/api/auth/session", ""); flag(t, session, "authenticated") {
		t.Fatalf("a copy of the logged-out cookie: %v", session)
	}
	copied.refused(copied.do("GET", "/api/form", ""), 401, "session-ended", "")
}

// longSessions keeps the sessions alive while the test clock moves on by hours.
func longSessions(c *config.Config) { c.JWTTTL = 30 * 24 * time.Hour }

func joinBody(profession string, at time.Time, queueType string) string {
	return `{"profession":"` + profession + `","preferredDateTime":"` + at.UTC().Format("2006-01-02T15:04:05.000Z") +
		`","queueType":"` + queueType + `"}`
}

// waitingEntries counts the user's entries the engine itself holds as waiting.
func waitingEntries(t testing.TB, e *env, tgID int64) int {
	t.Helper()
	var n int
	err := e.pool.QueryRow(context.Background(), `SELECT count(*) FROM interview_queue q
		JOIN users u ON u.user_id = q.user_id WHERE u.telegram_id = $1 AND q.status = 'waiting'`, tgID).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func clearsCookie(h nethttp.Header) bool {
	for _, c := range h.Values("Set-Cookie") {
		if strings.HasPrefix(c, "sm_sess=;") && (strings.Contains(c, "max-age=-1") || strings.Contains(strings.ToLower(c), "expires=thu, 01 jan 1970")) {
			return true
		}
	}
	return false
}

package http_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/supermock/engine/internal/testdb"
)

type me struct {
	ID            string   `json:"id"`
	PreferredRole string   `json:"preferred_role"`
	Timezone      string   `json:"timezone"`
	Professions   []string `json:"professions"`
	Form          *struct {
		Profession string   `json:"profession"`
		Language   string   `json:"language"`
		Tools      []string `json:"tools"`
	} `json:"form"`
}

type interview struct {
	ID          string    `json:"id"`
	ScheduledAt time.Time `json:"scheduled_at"`
	MyRole      string    `json:"my_role"`
	Status      string    `json:"status"`
	MeetingLink string    `json:"meeting_link"`
	Partner     struct {
		Username string `json:"username"`
	} `json:"partner"`
	Feedback []struct {
		FromRole string `json:"from_role"`
		Rating   int    `json:"rating"`
	} `json:"feedback"`
}

type inbox struct {
	Unread        int `json:"unread"`
	Notifications []struct {
		ID   string `json:"id"`
		Kind string `json:"kind"`
	} `json:"notifications"`
}

// get reads a route after the given position, failing on a stale or refused read.
func (e *env) get(path, token, after string, into any) {
	e.t.Helper()
	r := e.call("GET", path, token, nil, "X-Min-Position", after)
	if r.status != 200 || r.header.Get("X-Projection-Lag") != "" {
		e.t.Fatalf("GET %s after %s: %s (lag %q)", path, after, r, r.header.Get("X-Projection-Lag"))
	}
	r.json(e.t, into)
}

// command sends a command that must succeed and returns its position.
func (e *env) command(method, path, token string, body any) string {
	e.t.Helper()
	r := e.call(method, path, token, body)
	if r.status != 200 && r.status != 201 && r.status != 202 {
		e.t.Fatalf("%s %s: %s", method, path, r)
	}
	return r.header.Get("X-Event-Position")
}

// inboxOf waits until the user's inbox holds at least want notifications: the notifier
// records them a moment after the events that call for them.
func (e *env) inboxOf(token string, want int) inbox {
	e.t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var in inbox
		e.get("/api/notifications", token, "", &in)
		if len(in.Notifications) >= want {
			return in
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("the inbox holds %+v, want %d notifications", in, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestJourney(t *testing.T) {
	t.Parallel()
	clock := testdb.NewClock(time.Now())
	e := start(t, options{consumers: true, notifier: true, clock: clock})
	alice, bob := e.loginWidget(7001, "alice"), e.loginWidget(7002, "bob")
	form := map[string]any{"profession": "backend-developer", "country": "DE", "experience": "3-5",
		"language": "en", "email": "someone@example.org", "tools": []string{"Go", "PostgreSQL"}}
	var pos string
	for _, l := range []login{alice, bob} {
		e.command("PUT", "/api/me/professions", l.Token, map[string]any{"professions": []string{"backend-developer", "devops-engineer"}})
		e.command("PUT", "/api/me", l.Token, map[string]any{"timezone": "Europe/Berlin"})
		pos = e.command("PUT", "/api/me/form", l.Token, form)
		var m me
		e.get("/api/me", l.Token, pos, &m)
		if m.ID != l.User.ID || m.PreferredRole != "candidate" || m.Timezone != "Europe/Berlin" || m.Form == nil ||
			m.Form.Profession != "backend-developer" || len(m.Form.Tools) != 2 || len(m.Professions) != 2 {
			t.Fatalf("profile of %s: %+v", l.User.Username, m)
		}
	}

	now := clock.Now()
	e.command("POST", "/api/queue", alice.Token, window("candidate", "backend-developer", now, 3*time.Hour))
	e.command("POST", "/api/queue", bob.Token, window("interviewer", "backend-developer", now, 3*time.Hour))
	id := e.interviewOf(alice.Token)
	if bobs := e.interviewOf(bob.Token); bobs != id {
		t.Fatalf("alice's interview %s, bob's %s", id, bobs)
	}
	var ia, ib interview
	e.get("/api/interviews/"+id, alice.Token, "", &ia)
	e.get("/api/interviews/"+id, bob.Token, "", &ib)
	if ia.MyRole != "candidate" || ib.MyRole != "interviewer" || ia.Status != "scheduled" ||
		ia.MeetingLink != "https://meet.jit.si/supermock-"+id || ia.Partner.Username != "bob" || ib.Partner.Username != "alice" {
		t.Fatalf("interview as alice %+v, as bob %+v", ia, ib)
	}

	// Both are told, and read what they were told.
	for _, l := range []login{alice, bob} {
		in := e.inboxOf(l.Token, 1)
		if in.Unread != 1 || len(in.Notifications) != 1 || in.Notifications[0].Kind != "interview-scheduled" {
			t.Fatalf("inbox of %s: %+v", l.User.Username, in)
		}
		read := e.command("POST", "/api/notifications/"+in.Notifications[0].ID+"/read", l.Token, nil)
		e.get("/api/notifications", l.Token, read, &in)
		if in.Unread != 0 {
			t.Fatalf("%s still has %d unread", l.User.Username, in.Unread)
		}
	}

	e.command("POST", "/api/interviews/"+id+"/start", alice.Token, nil)
	clock.Set(ia.ScheduledAt.Add(45 * time.Minute))
	pos = e.command("POST", "/api/interviews/"+id+"/complete", bob.Token, nil)
	e.get("/api/interviews/"+id, alice.Token, pos, &ia)
	if ia.Status != "completed" {
		t.Fatalf("after completion: %+v", ia)
	}
	// Completion asks both for feedback.
	for _, l := range []login{alice, bob} {
		in := e.inboxOf(l.Token, 2)
		kinds := map[string]int{}
		for _, n := range in.Notifications {
			kinds[n.Kind]++
		}
		if len(in.Notifications) != 2 || kinds["interview-scheduled"] != 1 || kinds["feedback-request"] != 1 {
			t.Fatalf("inbox of %s after completion: %+v", l.User.Username, in)
		}
	}
	e.command("POST", "/api/interviews/"+id+"/feedback", alice.Token, map[string]any{"rating": 5, "comment": "clear questions"})
	pos = e.command("POST", "/api/interviews/"+id+"/feedback", bob.Token,
		map[string]any{"rating": 4, "skills": map[string]int{"sql": 4, "go": 5}, "comment": "good"})
	e.get("/api/interviews/"+id, bob.Token, pos, &ib)
	if len(ib.Feedback) != 2 {
		t.Fatalf("feedback: %+v", ib.Feedback)
	}

	for l, want := range map[string]string{alice.Token: "interviewer", bob.Token: "candidate"} {
		var m me
		e.get("/api/me", l, pos, &m)
		if m.PreferredRole != want {
			t.Fatalf("preferred role of %s is %s, want %s", m.ID, m.PreferredRole, want)
		}
	}
	var entries struct {
		Entries []struct {
			Status      string  `json:"status"`
			InterviewID *string `json:"interview_id"`
		} `json:"entries"`
	}
	e.get("/api/queue", alice.Token, pos, &entries)
	if len(entries.Entries) != 1 || entries.Entries[0].Status != "matched" || fmt.Sprint(*entries.Entries[0].InterviewID) != id {
		t.Fatalf("alice's entries: %+v", entries)
	}
	// Every answer of the journey was one the document describes, and every time in it
	// RFC 3339 in UTC with milliseconds: each call is held to both as it is made.
	if answers, times := e.checked.answers.Load(), e.checked.times.Load(); answers < 40 || times < 60 {
		t.Fatalf("%d answers and %d times held against the document", answers, times)
	}
}

func TestStatsSlotsAndLeaving(t *testing.T) {
	t.Parallel()
	e := start(t, options{consumers: true})
	x, y := e.loginDev(8001), e.loginDev(8002)
	tomorrow := time.Now().UTC().Truncate(24 * time.Hour).Add(34 * time.Hour) // 10:00 UTC the day after tomorrow
	r := e.call("POST", "/api/queue", x.Token, window("interviewer", "qa-engineer", tomorrow, 3*time.Hour))
	wantStatus(t, r, 201)
	var joined struct {
		ID string `json:"id"`
	}
	r.json(t, &joined)
	pos := e.command("PUT", "/api/me/form", y.Token, map[string]any{"profession": "qa-engineer", "country": "FR",
		"experience": "0-1", "language": "en"})

	var stats struct {
		Stats []struct {
			Profession, Language, Role string
			Waiting                    int
		} `json:"stats"`
	}
	e.get("/api/queue/stats?profession=qa-engineer", y.Token, r.header.Get("X-Event-Position"), &stats)
	if len(stats.Stats) != 1 || stats.Stats[0].Role != "interviewer" || stats.Stats[0].Waiting != 1 {
		t.Fatalf("stats: %+v", stats)
	}
	var slots struct {
		Role            string `json:"role"`
		CounterpartRole string `json:"counterpart_role"`
		Slots           []struct {
			Start   time.Time `json:"start"`
			Waiting int       `json:"waiting"`
		} `json:"slots"`
	}
	e.get("/api/slots", y.Token, pos, &slots)
	if slots.Role != "candidate" || slots.CounterpartRole != "interviewer" || len(slots.Slots) != 3 || !slots.Slots[0].Start.Equal(tomorrow) || !slots.Slots[2].Start.Equal(tomorrow.Add(2*time.Hour)) ||
		slots.Slots[0].Waiting != 1 {
		t.Fatalf("slots of a candidate: %+v", slots)
	}
	e.get("/api/slots?role=interviewer", y.Token, pos, &slots)
	if len(slots.Slots) != 0 {
		t.Fatalf("an interviewer sees interviewers: %+v", slots)
	}
	// x has no form, so the profession must be named.
	wantError(t, e.call("GET", "/api/slots", x.Token, nil), 400, "invalid-request")

	pos = e.command("DELETE", "/api/queue/"+joined.ID, x.Token, nil)
	e.get("/api/queue/stats", y.Token, pos, &stats)
	if len(stats.Stats) != 0 {
		t.Fatalf("stats after leaving: %+v", stats)
	}
	if again := e.call("DELETE", "/api/queue/"+joined.ID, x.Token, nil); again.status != 200 || again.header.Get("X-Event-Position") != "" {
		t.Fatalf("leaving twice: %s", again)
	}
}

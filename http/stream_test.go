package http_test

import (
	"context"
	"encoding/json"
	"fmt"
	nethttp "net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/supermock/engine/domain"
	"github.com/supermock/engine/eventstore"
	"github.com/supermock/engine/internal/testdb"
)

// withoutReady leaves the ready events out.
func withoutReady(evs []sseEvent) []sseEvent {
	var out []sseEvent
	for _, ev := range evs {
		if ev.Event != "ready" {
			out = append(out, ev)
		}
	}
	return out
}

// kinds are the events' kinds, ready left out.
func kinds(evs []sseEvent) []string {
	var out []string
	for _, ev := range withoutReady(evs) {
		out = append(out, ev.Event)
	}
	return out
}

// wantAscending fails unless every id is a cursor past the one before. (A ready
// event's may be the start of the log: it tells where the stream stands.)
func wantAscending(t *testing.T, evs ...sseEvent) {
	t.Helper()
	var last eventstore.Position
	for i, ev := range evs {
		at, err := eventstore.ParsePosition(ev.ID)
		if err != nil || ev.ID == "" {
			t.Fatalf("event %d %+v: id is not a cursor", i, ev)
		}
		if i > 0 && !last.Less(at) {
			t.Fatalf("event %d %+v comes at or before the one before it (%s)", i, ev, last)
		}
		last = at
	}
}

// news reads n events, ready ones left out.
func (s *sseStream) news(n int) []sseEvent {
	s.t.Helper()
	var out []sseEvent
	for len(out) < n {
		if ev := s.next(); ev.Event != "ready" {
			out = append(out, ev)
		}
	}
	return out
}

// collect reads events up to the first of the kind.
func (s *sseStream) collect(kind string) []sseEvent {
	s.t.Helper()
	var out []sseEvent
	for {
		ev := s.next()
		out = append(out, ev)
		if ev.Event == kind {
			return out
		}
	}
}

func TestStreamTellsBothSidesOfTheirMatch(t *testing.T) {
	t.Parallel()
	e := start(t, options{consumers: true})
	alice, bob := e.loginDev(7101), e.loginDev(7102)
	sa, readyA := e.stream(alice.Token)
	// A browser's EventSource sends the cookie.
	sb, r := e.openStream("/api/stream", "Cookie", "sm_sess="+bob.Token)
	if sb == nil {
		t.Fatalf("stream on the cookie: %s", r)
	}
	for name, want := range map[string]string{"Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"} {
		if got := r.header.Get(name); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	readyB := sb.until("ready")

	now := time.Now()
	e.command("POST", "/api/queue", alice.Token, window("candidate", "backend-developer", now, 3*time.Hour))
	e.command("POST", "/api/queue", bob.Token, window("interviewer", "backend-developer", now, 3*time.Hour))
	for _, side := range []struct {
		s            *sseStream
		ready        sseEvent
		role, author string
	}{{sa, readyA, "candidate", "dev7102"}, {sb, readyB, "interviewer", "dev7101"}} {
		evs := side.s.collect("interview.scheduled")
		if got := strings.Join(kinds(evs), " "); got != "queue.joined queue.matched interview.scheduled" {
			t.Fatalf("the %s's stream told %s", side.role, got)
		}
		wantAscending(t, append([]sseEvent{side.ready}, evs...)...)
		var entry struct {
			Role, Status string
			InterviewID  *string `json:"interview_id"`
		}
		var iv interview
		if err := json.Unmarshal([]byte(evs[1].Data), &entry); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(evs[2].Data), &iv); err != nil {
			t.Fatal(err)
		}
		if entry.Role != side.role || entry.Status != "matched" || entry.InterviewID == nil || *entry.InterviewID != iv.ID {
			t.Fatalf("the %s's matched entry: %s", side.role, evs[1].Data)
		}
		if iv.MyRole != side.role || iv.Status != "scheduled" || iv.Partner.Username != side.author ||
			iv.MeetingLink != "https://meet.jit.si/supermock-"+iv.ID {
			t.Fatalf("the %s's interview: %s", side.role, evs[2].Data)
		}
	}

	// Alice cancels: Bob hears it, and that his entry is waiting again (rule 7).
	id := e.interviewOf(alice.Token)
	e.command("POST", "/api/interviews/"+id+"/cancel", alice.Token, map[string]any{"reason": "ill"})
	evs := sb.collect("queue.requeued")
	got := strings.Join(kinds(evs), " ")
	if !strings.Contains(got, "interview.cancelled") || !strings.Contains(got, "queue.cancelled") {
		t.Fatalf("bob's stream told %s after the cancellation", got)
	}
	var entry struct{ Status string }
	if err := json.Unmarshal([]byte(evs[len(evs)-1].Data), &entry); err != nil || entry.Status != "waiting" {
		t.Fatalf("bob's requeued entry: %s", evs[len(evs)-1].Data)
	}
	if ev := sa.until("interview.cancelled"); !strings.Contains(ev.Data, `"status":"cancelled"`) {
		t.Fatalf("alice's stream told %+v", ev)
	}
}

// A client that comes back with the id of the last event it got is told exactly what
// happened meanwhile, from its own stream and its interview's, then the live events.
func TestStreamResumesWhereTheClientLeftOff(t *testing.T) {
	t.Parallel()
	e := start(t, options{consumers: true, deps: withStreams(20*time.Millisecond, 0, 0)})
	x, y := e.loginDev(7201), e.loginDev(7202)
	s, _ := e.stream(x.Token)
	now := time.Now()
	e.command("POST", "/api/queue", x.Token, window("candidate", "qa-engineer", now, 3*time.Hour))
	joined := s.until("queue.joined")
	s.close()

	// While x is away: the match, and x starts the interview from another device.
	e.command("POST", "/api/queue", y.Token, window("interviewer", "qa-engineer", now, 3*time.Hour))
	id := e.interviewOf(x.Token)
	e.command("POST", "/api/interviews/"+id+"/start", x.Token, nil)
	e.command("PUT", "/api/me", y.Token, map[string]any{"first_name": "Yves"}) // not x's news

	want := []string{"queue.matched", "interview.scheduled", "interview.started"}
	var before []sseEvent
	for i, headers := range [][]string{
		// A browser reconnects to the URL it first opened, with Last-Event-ID: the header wins.
		{"Last-Event-ID", joined.ID},
		// A client that keeps the cursor itself names it in the URL.
		nil,
	} {
		path := "/api/stream?after=" + joined.ID
		if headers != nil {
			path = "/api/stream?after=0-0"
		}
		again, r := e.openStream(path, append([]string{"Authorization", "Bearer " + x.Token}, headers...)...)
		if again == nil {
			t.Fatalf("reconnect: %s", r)
		}
		// What x missed, then the live news: an entry x joins now.
		r = e.call("POST", "/api/queue", x.Token, window("candidate", "qa-engineer", now.Add(time.Duration(24+3*i)*time.Hour), 2*time.Hour))
		wantStatus(t, r, 201)
		var entry struct{ ID string }
		r.json(t, &entry)
		want = append(want, "queue.joined")
		evs := again.news(len(want))
		if got := strings.Join(kinds(evs), " "); got != strings.Join(want, " ") {
			t.Fatalf("reconnect %d after %s: the stream told %s", i, joined.ID, got)
		}
		wantAscending(t, append([]sseEvent{joined}, evs...)...)
		var iv interview
		var last struct{ ID string }
		if json.Unmarshal([]byte(evs[2].Data), &iv) != nil || iv.ID != id || iv.Status != "in_progress" {
			t.Fatalf("the started interview: %s", evs[2].Data)
		}
		if json.Unmarshal([]byte(evs[len(evs)-1].Data), &last) != nil || last.ID != entry.ID {
			t.Fatalf("the live entry %s: %s", entry.ID, evs[len(evs)-1].Data)
		}
		// The second reconnect replays the very events the first was told.
		for j, ev := range before {
			if ev.ID != evs[j].ID {
				t.Fatalf("reconnects differ at %d: %+v and %+v", j, before, evs)
			}
		}
		before = evs
		again.close()
	}
}

// Dozens of tabs of one user opening at once get exactly the cap; the others are told
// so, and a closed one makes room.
func TestStreamsPerUserAreCapped(t *testing.T) {
	t.Parallel()
	e := start(t, options{deps: withStreams(20*time.Millisecond, 0, 0)})
	u, other := e.loginDev(7301), e.loginDev(7302)
	const tries = 30
	streams := make([]*sseStream, tries)
	answers := make([]response, tries)
	var wg sync.WaitGroup
	for i := range tries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			streams[i], answers[i] = e.openStream("/api/stream", "Authorization", "Bearer "+u.Token)
		}()
	}
	wg.Wait()
	var open []*sseStream
	for i, s := range streams {
		if s != nil {
			open = append(open, s)
			continue
		}
		wantError(t, answers[i], 429, "too-many-streams")
	}
	if len(open) != 5 {
		t.Fatalf("%d of %d streams opened, want 5", len(open), tries)
	}
	for _, s := range open {
		s.until("ready")
	}
	e.stream(other.Token) // another user is not held back

	open[0].close()
	testdb.Eventually(t, time.Minute, func() bool {
		s, r := e.openStream("/api/stream", "Authorization", "Bearer "+u.Token)
		if s == nil {
			wantError(t, r, 429, "too-many-streams")
			return false
		}
		s.until("ready")
		return true
	})
}

func TestStreamRefusals(t *testing.T) {
	t.Parallel()
	e := start(t, options{})
	u := e.loginDev(7401)
	bearer := []string{"Authorization", "Bearer " + u.Token}
	for _, tc := range []struct {
		path    string
		headers []string
		status  int
		code    string
	}{
		{"/api/stream", nil, 401, "unauthorized"},
		{"/api/stream", []string{"Authorization", "Bearer nonsense"}, 401, "token-invalid"},
		{"/api/stream?after=yesterday", bearer, 400, "bad-cursor"},
		{"/api/stream", append([]string{"Last-Event-ID", "12-x"}, bearer...), 400, "bad-cursor"},
		{"/api/stream", append([]string{"Last-Event-ID", "999999999999-1"}, bearer...), 400, "position-ahead-of-log"},
		{"/api/stream?since=now", bearer, 400, "invalid-request"},
	} {
		s, r := e.openStream(tc.path, tc.headers...)
		if s != nil {
			t.Fatalf("%s %v opened a stream", tc.path, tc.headers)
		}
		wantError(t, r, tc.status, tc.code)
	}
}

// A stream with nothing to tell still carries a comment now and then, so proxies keep
// it open; the interval is the test's, not the 15 s of production.
func TestStreamHeartbeat(t *testing.T) {
	t.Parallel()
	e := start(t, options{deps: withStreams(10*time.Millisecond, 0, 0)})
	s, _ := e.stream(e.loginDev(7501).Token)
	s.onlyHeartbeats(3)
}

// Shutting the server down ends the open streams instead of waiting for them.
func TestStreamEndsOnShutdown(t *testing.T) {
	t.Parallel()
	e := start(t, options{})
	s, _ := e.stream(e.loginDev(7601).Token)
	if err := e.app.ShutdownWithTimeout(time.Minute); err != nil {
		t.Fatalf("shutdown with a stream open: %v", err)
	}
	if ev, err := s.read(); err == nil {
		t.Fatalf("the stream went on after shutdown: %+v", ev)
	}
}

// One process holds a thousand streams in little memory, and every one hears its news.
// Not parallel: the heap it measures is its own.
func TestThousandStreams(t *testing.T) {
	e := start(t, options{consumers: true})
	const users, perUser = 200, 5
	ctx := context.Background()
	ids := make([]uuid.UUID, users)
	for i := range ids {
		reg, err := e.svc.RegisterFromTelegram(ctx, domain.Meta{Actor: domain.SystemActor},
			domain.TelegramLogin{TelegramID: int64(760000 + i), Username: fmt.Sprintf("many%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = reg.UserID
	}
	streams, perStream, goroutines := openMany(t, e, ids, perUser)
	t.Logf("%d streams: %.1f KiB of heap and stack and %.1f goroutines per stream (server and test client)",
		users*perUser, perStream/1024, goroutines)
	if perStream > 128<<10 {
		t.Fatalf("%.1f KiB per stream", perStream/1024)
	}

	entries := make([]uuid.UUID, users)
	now := time.Now()
	for i, id := range ids {
		entry, _, err := e.svc.JoinQueue(ctx, domain.Meta{Actor: id.String()}, id, domain.QueueInput{Role: "candidate",
			Profession: "game-developer", Language: "en", WindowStart: now, WindowEnd: now.Add(3 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		entries[i] = entry
	}
	for i, s := range streams {
		var got struct{ ID string }
		ev := s.until("queue.joined")
		if err := json.Unmarshal([]byte(ev.Data), &got); err != nil || got.ID != entries[i/perUser].String() {
			t.Fatalf("stream %d was told %+v, want entry %s", i, ev, entries[i/perUser])
		}
	}
}

// openMany opens perUser streams for each user and reports the heap and stack they
// take and the goroutines they run, per stream.
func openMany(t testing.TB, e *env, users []uuid.UUID, perUser int) (streams []*sseStream, bytes, goroutines float64) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	g0 := runtime.NumGoroutine()
	for i, id := range users {
		for range perUser {
			s, _ := e.stream(token(id, int64(760000+i)))
			streams = append(streams, s)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	n := float64(len(streams))
	used := float64(after.HeapAlloc+after.StackInuse) - float64(before.HeapAlloc+before.StackInuse)
	t.Logf("heap %.1f KiB, stack %.1f KiB per stream", (float64(after.HeapAlloc)-float64(before.HeapAlloc))/n/1024,
		(float64(after.StackInuse)-float64(before.StackInuse))/n/1024)
	return streams, used / n, float64(runtime.NumGoroutine()-g0) / n
}

// A reconnect while the read tables lag (here: no projections run at all) waits for
// them with the heartbeat going, so the connection stays open and its end is noticed.
func TestStreamReplayWaitsWithHeartbeats(t *testing.T) {
	t.Parallel()
	e := start(t, options{deps: withStreams(10*time.Millisecond, 0, 0)})
	u := e.loginDev(7701)
	testdb.WaitVisible(t, e.store.Log()) // so the replay has the login's events to go through
	s, r := e.openStream("/api/stream?after=0-0", "Authorization", "Bearer "+u.Token)
	if s == nil {
		t.Fatalf("reconnect: %s", r)
	}
	s.onlyHeartbeats(3)
}

// The web app's EventSource, on another origin, reconnects with Last-Event-ID: a header
// that needs the preflight's consent.
func TestStreamReconnectPassesCORS(t *testing.T) {
	t.Parallel()
	e := start(t, options{})
	req, _ := nethttp.NewRequest("OPTIONS", e.base+"/api/stream", nil)
	req.Header.Set("Origin", frontend)
	req.Header.Set("Access-Control-Request-Method", "GET")
	req.Header.Set("Access-Control-Request-Headers", "last-event-id")
	resp, err := nethttp.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Access-Control-Allow-Origin") != frontend || resp.Header.Get("Access-Control-Allow-Credentials") != "true" ||
		!strings.Contains(strings.ToLower(resp.Header.Get("Access-Control-Allow-Headers")), "last-event-id") {
		t.Fatalf("preflight of a reconnect: %d %v", resp.StatusCode, resp.Header)
	}
}

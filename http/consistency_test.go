package http_test

import (
	"bytes"
	"encoding/json"
	goflag "flag"
	"fmt"
	"io"
	"maps"
	nethttp "net/http"
	"net/http/cookiejar"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/supermock/engine/domain"
	"github.com/supermock/engine/internal/testdb"
)

// visitor is one client as a web page is one: a single keep-alive connection per
// server, the session as a Bearer token or as the cookie, and no header beyond those.
// Writes go to one base URL, reads to another (the same, or a second replica).
type visitor struct {
	t           testing.TB
	client      *nethttp.Client
	write, read string
	token       string // empty: the cookie carries the session
}

func newVisitor(t testing.TB, write, read string, cookie bool) *visitor {
	b := &visitor{t: t, write: write, read: read,
		client: &nethttp.Client{Transport: &nethttp.Transport{MaxConnsPerHost: 1, MaxIdleConnsPerHost: 1}}}
	if cookie {
		b.client.Jar, _ = cookiejar.New(nil) // fails only with options
	}
	t.Cleanup(b.client.CloseIdleConnections)
	return b
}

func (b *visitor) do(method, path string, body any, into any) {
	b.t.Helper()
	base := b.write
	if method == "GET" {
		base = b.read
	}
	var raw []byte
	if body != nil {
		raw, _ = json.Marshal(body)
	}
	req, _ := nethttp.NewRequest(method, base+path, bytes.NewReader(raw))
	if method != "GET" {
		req.Header.Set("Content-Type", "application/json")
	}
	if b.token != "" {
		req.Header.Set("Authorization", "Bearer "+b.token)
	}
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.Header.Get("X-Projection-Lag") != "" {
		b.t.Errorf("%s %s: served stale after waiting", method, path)
	}

	if resp.StatusCode >= 300 {
		b.t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, out)
	}
	if into != nil {
		if err := json.Unmarshal(out, into); err != nil {
			b.t.Fatalf("%s %s: %s: %v", method, path, out, err)
		}
	}
}

// journal counts the reads of the journeys and the stale ones among them.
type journal struct {
	reads, stale atomic.Int64
	mu           sync.Mutex
	first        []string
}

func (j *journal) check(ok bool, format string, args ...any) {
	j.reads.Add(1)
	if ok {
		return
	}
	j.stale.Add(1)
	j.mu.Lock()
	defer j.mu.Unlock()
	if len(j.first) < 5 {
		j.first = append(j.first, fmt.Sprintf(format, args...))
	}
}

var journeyLanguages = []string{"en", "ru", "de", "fr", "es", "it", "pt", "nl", "pl", "uk", "tr", "ja"}

type journeyInterview struct {
	ID          string    `json:"id"`
	ScheduledAt time.Time `json:"scheduled_at"`
	Status      string    `json:"status"`
	Feedback    []struct {
		FromRole string `json:"from_role"`
	} `json:"feedback"`
}

// journey is the whole life of one interview, as two users' pages see it: every read
// comes right after a write of the same user and must show it.
func journey(t testing.TB, j *journal, clock *journeyClock, n int, write, read string) {
	professions := domain.Professions()
	profession := string(professions[n%len(professions)].Slug)
	language := journeyLanguages[(n/len(professions))%len(journeyLanguages)]
	cookie := n%2 == 1
	var users [2]*visitor
	var ids [2]string
	var streams [2]*sseStream
	for k, zone := range []string{"Europe/Berlin", "Asia/Tokyo"} {
		b := newVisitor(t, write, read, cookie)
		var l login
		b.do("POST", "/api/auth/dev", map[string]any{"telegram_id": 300000 + 2*n + k, "username": fmt.Sprintf("j%d_%d", n, k)}, &l)
		session := []string{"Cookie", "sm_sess=" + l.Token}
		if !cookie {
			b.token = l.Token
			session = []string{"Authorization", "Bearer " + l.Token}
		}
		// The page listens for its news from the start, on the server it reads from.
		s, r := openStream(t, read, "/api/stream", session...)
		if s == nil {
			t.Fatalf("GET /api/stream: %s", r)
		}
		s.until("ready")
		streams[k] = s
		var m me
		b.do("GET", "/api/me", nil, &m)
		j.check(m.ID == l.User.ID, "me after login: %+v", m)
		b.do("PUT", "/api/me", map[string]any{"timezone": zone}, &m)
		j.check(m.Timezone == zone, "answer of PUT /api/me: %+v", m)
		m = me{}
		b.do("GET", "/api/me", nil, &m)
		j.check(m.Timezone == zone, "timezone after PUT /api/me: %+v", m)
		b.do("PUT", "/api/me/professions", map[string]any{"professions": []string{profession}}, &m)
		j.check(len(m.Professions) == 1, "answer of PUT /api/me/professions: %+v", m)
		m = me{}
		b.do("GET", "/api/me", nil, &m)
		j.check(len(m.Professions) == 1 && m.Professions[0] == profession, "professions after PUT: %+v", m)
		b.do("PUT", "/api/me/form", map[string]any{"profession": profession, "country": "DE", "experience": "1-3",
			"language": language, "tools": []string{"Go"}}, &m)
		j.check(m.Form != nil && m.Form.Language == language, "answer of PUT /api/me/form: %+v", m)
		m = me{}
		b.do("GET", "/api/me", nil, &m)
		j.check(m.Form != nil && m.Form.Profession == profession && m.Form.Language == language, "form after PUT: %+v", m)
		users[k], ids[k] = b, l.User.ID
	}
	candidate, interviewer := users[0], users[1]
	join := func(b *visitor, role string) {
		body := window(role, profession, clock.Now(), 3*time.Hour)
		body["language"] = language
		var entry map[string]any
		b.do("POST", "/api/queue", body, &entry)
		j.check(entry["id"] != nil && entry["role"] == role && entry["status"] == "waiting" && entry["interview_id"] == nil,
			"answer of POST /api/queue: %+v", entry)
		var list struct {
			Entries []map[string]any `json:"entries"`
		}
		b.do("GET", "/api/queue", nil, &list)
		j.check(len(list.Entries) == 1, "entries after joining: %+v", list)
		if len(list.Entries) == 1 {
			// The answer is the entry as the read table shows it, field for field, but
			// for a match the matchmaker may have written since.
			listed := maps.Clone(list.Entries[0])
			if listed["status"] == "matched" {
				listed["status"], listed["interview_id"] = "waiting", nil
			}
			j.check(reflect.DeepEqual(listed, entry), "answer of POST /api/queue %+v, then GET /api/queue %+v", entry, list.Entries[0])
		}
	}
	join(candidate, "candidate")
	var stats struct {
		Stats []struct {
			Role    string `json:"role"`
			Waiting int    `json:"waiting"`
		} `json:"stats"`
	}
	candidate.do("GET", "/api/queue/stats?profession="+profession+"&language="+language, nil, &stats)
	j.check(len(stats.Stats) == 1 && stats.Stats[0].Role == "candidate" && stats.Stats[0].Waiting == 1, "stats after joining: %+v", stats)
	join(interviewer, "interviewer")

	// The match is the matchmaker's write, not the users': it is awaited.
	var id string
	testdb.Eventually(t, time.Minute, func() bool {
		var list struct {
			Interviews []journeyInterview `json:"interviews"`
		}
		candidate.do("GET", "/api/interviews", nil, &list)
		if len(list.Interviews) == 1 {
			id = list.Interviews[0].ID
		}
		return id != ""
	})
	// Both pages heard of it, with the partner, unasked.
	for k, s := range streams {
		var told struct {
			ID      string `json:"id"`
			Partner struct {
				ID string `json:"id"`
			} `json:"partner"`
		}
		ev := s.until("interview.scheduled")
		if err := json.Unmarshal([]byte(ev.Data), &told); err != nil || told.ID != id || told.Partner.ID != ids[1-k] {
			t.Fatalf("the stream of user %d told %+v, want interview %s with %s", k, ev, id, ids[1-k])
		}
	}
	// The confirmation is the notifier's write: awaited; marking it read is the user's.
	var in inbox
	testdb.Eventually(t, time.Minute, func() bool {
		candidate.do("GET", "/api/notifications?unread=true", nil, &in)
		return len(in.Notifications) > 0
	})
	unread := in.Unread
	var told struct{ ID, Kind string }
	if ev := streams[0].until("notification.received"); json.Unmarshal([]byte(ev.Data), &told) != nil || told.Kind != "interview-scheduled" {
		t.Fatalf("the candidate's stream told %+v, want the confirmation", ev)
	}
	var marked struct {
		ReadAt *time.Time `json:"read_at"`
	}
	candidate.do("POST", "/api/notifications/"+in.Notifications[0].ID+"/read", nil, &marked)
	j.check(marked.ReadAt != nil, "answer of marking a notification read: %+v", marked)
	candidate.do("GET", "/api/notifications", nil, &in)
	j.check(in.Unread == unread-1, "unread after reading one: %d, before %d", in.Unread, unread)
	var iv journeyInterview
	candidate.do("POST", "/api/interviews/"+id+"/start", nil, &iv)
	j.check(iv.Status == "in_progress", "answer of start: %+v", iv)
	iv = journeyInterview{}
	candidate.do("GET", "/api/interviews/"+id, nil, &iv)
	j.check(iv.Status == "in_progress", "interview after start: %+v", iv)
	clock.reach(iv.ScheduledAt.Add(time.Minute)) // completion waits for the scheduled start
	interviewer.do("POST", "/api/interviews/"+id+"/complete", nil, &iv)
	j.check(iv.Status == "completed", "answer of complete: %+v", iv)
	iv = journeyInterview{}
	interviewer.do("GET", "/api/interviews/"+id, nil, &iv)
	j.check(iv.Status == "completed", "interview after complete: %+v", iv)
	candidate.do("POST", "/api/interviews/"+id+"/feedback", map[string]any{"rating": 5}, &iv)
	j.check(len(iv.Feedback) >= 1, "answer of feedback: %+v", iv)
	iv = journeyInterview{}
	candidate.do("GET", "/api/interviews/"+id, nil, &iv)
	j.check(len(iv.Feedback) >= 1, "feedback after giving it: %+v", iv)
	interviewer.do("POST", "/api/interviews/"+id+"/feedback", map[string]any{"rating": 4}, &iv)
	j.check(len(iv.Feedback) == 2, "answer of feedback: %+v", iv)
	iv = journeyInterview{}
	interviewer.do("GET", "/api/interviews/"+id, nil, &iv)
	j.check(len(iv.Feedback) == 2, "feedback after both gave it: %+v", iv)
	var m me
	interviewer.do("GET", "/api/me", nil, &m)
	j.check(m.PreferredRole == "candidate", "preferred role after feedback: %+v", m)
	// The interviewer's page heard the interview end and the candidate's feedback come in.
	streams[1].until("interview.completed")
	var rated journeyInterview
	if ev := streams[1].until("feedback.received"); json.Unmarshal([]byte(ev.Data), &rated) != nil || rated.ID != id || len(rated.Feedback) == 0 {
		t.Fatalf("the interviewer's stream told %+v, want the candidate's feedback", ev)
	}

}

// journeyClock is the engine's clock, moved only forward by the journeys that share it.
type journeyClock struct {
	*testdb.Clock
	mu sync.Mutex
}

func (c *journeyClock) reach(at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.Now().Before(at) {
		c.Set(at)
	}
}

// journeys sets how many journeys each read-your-writes test runs; 0 keeps the quick
// defaults of the suite (60 on one server, 30 across two).
var journeys = goflag.Int("journeys", 0, "journeys of each read-your-writes test (0: 60 on one server, 30 across two)")

// journeysOr is the journeys asked with -journeys, or def.
func journeysOr(def int) int {
	if *journeys > 0 {
		return *journeys
	}
	return def
}

// runJourneys runs n journeys, a few at a time, and fails on any stale read.
func runJourneys(t *testing.T, clock *journeyClock, n int, write, read string) {
	var j journal
	var wg sync.WaitGroup
	next := atomic.Int64{}
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each journey is a subtest of its own, so it may stop at its first failure.
			for k := int(next.Add(1)) - 1; k < n && !t.Failed(); k = int(next.Add(1)) - 1 {
				t.Run(fmt.Sprintf("journey-%d", k), func(t *testing.T) { journey(t, &j, clock, k, write, read) })
			}
		}()
	}
	wg.Wait()
	t.Logf("%d journeys, %d reads after writes, %d stale", n, j.reads.Load(), j.stale.Load())
	if j.stale.Load() != 0 {
		t.Fatalf("%d of %d reads were stale, e.g.:\n%s", j.stale.Load(), j.reads.Load(), strings.Join(j.first, "\n"))
	}
	if j.reads.Load() < int64(n)*25 {
		t.Fatalf("only %d reads in %d journeys", j.reads.Load(), n)
	}
}

// The read tables' wait is 8 s here, not 3 s, under the requests' 10 s bound: a stale
// read means a read that did not wait for its writes, never a machine that is slow.

// Every read right after a write of the same session shows it, with nothing but the
// session sent, as a Bearer token or as the cookie.
func TestJourneysReadTheirWrites(t *testing.T) {
	t.Parallel()
	clock := &journeyClock{Clock: testdb.NewClock(time.Now())}
	e := start(t, options{consumers: true, notifier: true, freshWait: 8 * time.Second, clock: clock.Clock})
	runJourneys(t, clock, journeysOr(60), e.base, e.base)
}

// The same with every write sent to one replica and every read to another.
func TestJourneysReadTheirWritesOnAnotherReplica(t *testing.T) {
	t.Parallel()
	url := testdb.NewDatabase(t)
	clock := &journeyClock{Clock: testdb.NewClock(time.Now())}
	writer := start(t, options{poolFromURL: url, consumers: true, notifier: true, freshWait: 8 * time.Second, clock: clock.Clock})
	reader := start(t, options{poolFromURL: url, freshWait: 8 * time.Second, clock: clock.Clock})
	runJourneys(t, clock, journeysOr(30), writer.base, reader.base)
}

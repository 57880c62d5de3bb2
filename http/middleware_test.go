package http_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"maps"
	nethttp "net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/supermock/engine/internal/config"
)

func TestCORSAndSecurityHeaders(t *testing.T) {
	t.Parallel()
	e := start(t, options{})
	preflight := func(origin string) nethttp.Header {
		req, _ := nethttp.NewRequest("OPTIONS", e.base+"/api/queue", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "content-type,idempotency-key")
		resp, err := nethttp.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.Header
	}
	h := preflight(frontend)
	if h.Get("Access-Control-Allow-Origin") != frontend || h.Get("Access-Control-Allow-Credentials") != "true" ||
		!strings.Contains(strings.ToLower(h.Get("Access-Control-Allow-Headers")), "idempotency-key") {
		t.Fatalf("preflight from the frontend: %v", h)
	}
	if got := preflight("http://evil.test").Get("Access-Control-Allow-Origin"); got != "" {
		t.Fatalf("another origin was allowed: %q", got)
	}
	r := e.call("GET", "/api/professions", "", nil, "Origin", frontend)
	wantStatus(t, r, 200)
	for name, want := range map[string]string{
		"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Cache-Control": "no-store",
		"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'", "Referrer-Policy": "no-referrer",
		"Access-Control-Expose-Headers": "X-Event-Position,X-Projection-Lag,X-Request-ID,Idempotent-Replayed,Retry-After,X-RateLimit-Limit,X-RateLimit-Remaining,X-RateLimit-Reset",
	} {
		if got := r.header.Get(name); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	if r.header.Get("X-Request-ID") == "" {
		t.Error("no X-Request-ID")
	}
	var list struct {
		Professions []struct{ Slug, Label string } `json:"professions"`
	}
	r.json(t, &list)
	if len(list.Professions) != 20 || list.Professions[0].Slug != "frontend-developer" {
		t.Fatalf("professions: %s", r)
	}
}

func TestIdempotencyKey(t *testing.T) {
	t.Parallel()
	e := start(t, options{})
	l := e.loginDev(4001)
	body := window("candidate", "qa-engineer", time.Now().Add(24*time.Hour), 2*time.Hour)
	first := e.call("POST", "/api/queue", l.Token, body, "Idempotency-Key", "join-1")
	wantDone(t, first)
	before := e.events()
	again := e.call("POST", "/api/queue", l.Token, body, "Idempotency-Key", "join-1")
	if again.status != first.status || !bytes.Equal(again.body, first.body) || again.header.Get("Idempotent-Replayed") != "true" ||
		again.header.Get("X-Event-Position") != first.header.Get("X-Event-Position") {
		t.Fatalf("retry: %s %v, first %s", again, again.header, first)
	}
	if e.events() != before {
		t.Fatal("a retry with the same key appended events")
	}
	// Refusals are answers too: the retry of an overlapping join is refused the same way.
	overlap := window("interviewer", "qa-engineer", time.Now().Add(24*time.Hour), time.Hour)
	refused := e.call("POST", "/api/queue", l.Token, overlap, "Idempotency-Key", "join-2")
	wantError(t, refused, 409, "queue-window-overlaps")
	// The replay is the first answer, naming the request that ran the command.
	if again := e.call("POST", "/api/queue", l.Token, overlap, "Idempotency-Key", "join-2"); again.status != 409 ||
		!bytes.Equal(again.body, refused.body) || again.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry of a refusal: %s", again)
	}

	other := window("candidate", "qa-engineer", time.Now().Add(96*time.Hour), 2*time.Hour)
	wantError(t, e.call("POST", "/api/queue", l.Token, other, "Idempotency-Key", "join-1"), 422, "idempotency-key-reused")
	// Another user's key of the same name is theirs.
	wantDone(t, e.call("POST", "/api/queue", e.loginDev(4002).Token, body, "Idempotency-Key", "join-1"))
}

// syncBuffer is a log destination several requests write to.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) lines() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Split(strings.TrimSpace(b.buf.String()), "\n")
}

func TestEveryLogLineNamesItsRequest(t *testing.T) {
	t.Parallel()
	var out syncBuffer
	e := start(t, options{logger: slog.New(slog.NewJSONHandler(&out, nil))})
	l := e.loginDev(6001)
	e.call("GET", "/api/nothing", "", nil)
	e.call("PUT", "/api/me/form", l.Token, `{"x":`)
	wantDone(t, e.call("PUT", "/api/me/professions", l.Token, map[string]any{"professions": []string{"qa-engineer"}}))
	lines := out.lines()
	if len(lines) < 4 {
		t.Fatalf("%d log lines", len(lines))
	}
	for _, line := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil || rec["request_id"] == "" || rec["request_id"] == nil {
			t.Fatalf("log line without request id: %s", line)
		}
	}
}

// Before login the rate limit counts per client address: behind a trusted proxy that is
// the X-Forwarded-For client, and an untrusted sender cannot pick its own address.
func TestRateLimitCountsClientsBehindATrustedProxy(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name          string
		trusted       []string
		secondAllowed bool
	}{
		{"behind a trusted proxy", []string{"127.0.0.1"}, true},
		{"the header of an untrusted sender is ignored", nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := start(t, options{config: func(c *config.Config) { c.RateLimitMax, c.TrustedProxies = 2, tc.trusted }})
			login := func(id int64, client string) response {
				return e.call("POST", "/api/auth/dev", "", map[string]any{"telegram_id": id, "username": "x"}, "X-Forwarded-For", client)
			}
			for i := range 2 {
				wantStatus(t, login(int64(8100+i), "203.0.113.1"), 201)
			}
			wantError(t, login(8102, "203.0.113.1"), 429, "rate-limited")
			second := login(8103, "203.0.113.2")
			if allowed := second.status == 201; allowed != tc.secondAllowed {
				t.Fatalf("another client's login: %s", second)
			}
		})
	}
}

// Probes and scrapes come every few seconds: health requests are logged at debug, and
// scrapes of the metrics port not at all, so an engine at the default level logs the
// requests of its users only.
func TestHealthAndMetricsRequestsAreLoggedAtDebug(t *testing.T) {
	t.Parallel()
	for _, level := range []slog.Level{slog.LevelInfo, slog.LevelDebug} {
		var out syncBuffer
		e := start(t, options{logger: slog.New(slog.NewJSONHandler(&out, &slog.HandlerOptions{Level: level}))})
		wantStatus(t, e.call("GET", "/api/health", "", nil), 200)
		scrape, err := nethttp.Get(e.metricsBase + "/metrics")
		if err != nil || scrape.StatusCode != 200 {
			t.Fatalf("scrape: %v %v", err, scrape)
		}
		scrape.Body.Close()
		wantStatus(t, e.call("GET", "/api/professions", "", nil), 200)
		logged := map[string]string{}
		for _, line := range out.lines() {
			var rec struct{ Msg, Level, Route string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "request" {
				logged[rec.Route] = rec.Level
			}
		}
		want := map[string]string{"/api/professions": "INFO"}
		if level == slog.LevelDebug {
			want["/api/health"] = "DEBUG"
		}
		if !maps.Equal(logged, want) {
			t.Errorf("at %s the requests logged are %v, want %v", level, logged, want)
		}
	}
}

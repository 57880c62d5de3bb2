package http_test

import (
	"io"
	nethttp "net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/supermock/engine/internal/config"
)

func TestMetrics(t *testing.T) {
	t.Parallel()
	e := start(t, options{consumers: true})
	l := e.loginDev(9001)
	r := e.call("POST", "/api/queue", l.Token, window("candidate", "qa-engineer", time.Now().Add(24*time.Hour), 2*time.Hour))
	wantStatus(t, r, 201)
	e.call("POST", "/api/queue", l.Token, `{`)
	var list any
	e.get("/api/queue", l.Token, r.header.Get("X-Event-Position"), &list)

	// Never on the public port; on the metrics port only /metrics.
	wantError(t, e.call("GET", "/metrics", "", nil), 404, "not-found")
	resp, err := nethttp.Get(e.metricsBase + "/api/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Fatalf("the metrics port serves the API: %d", resp.StatusCode)
	}
	resp, err = nethttp.Get(e.metricsBase + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := response{status: resp.StatusCode, header: resp.Header, body: body}
	wantStatus(t, m, 200)
	text := string(m.body)
	for _, want := range []string{
		`supermock_http_requests_total{method="POST",route="/api/queue",status="201"} 1`,
		`supermock_http_requests_total{method="POST",route="/api/queue",status="400"} 1`,
		`supermock_http_requests_total{method="GET",route="/api/queue",status="200"} 1`,
		`supermock_http_request_duration_seconds_count{method="POST",route="/api/queue"} 2`,
		`supermock_projection_lag_events{projection="interview_queue"}`,
		`supermock_projection_lag_seconds{projection="users"}`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	appends := regexp.MustCompile(`(?m)^supermock_append_duration_seconds_count (\d+)$`).FindStringSubmatch(text)
	if len(appends) < 2 || atoi(appends[1]) < 2 { // the login and the join at least
		t.Errorf("append latency count: %v", appends)
	}
	lag := regexp.MustCompile(`(?m)^supermock_projection_lag_events\{projection="interview_queue"\} (\S+)$`).FindStringSubmatch(text)
	if len(lag) < 2 || lag[1] != "0" {
		t.Errorf("the queue projection has read the join, yet its lag is %v", lag)
	}
}

// Go's profiles are served on the metrics port when PPROF asks for them, and never on
// the API's.
func TestProfilesOnTheMetricsPortOnlyWhenAsked(t *testing.T) {
	t.Parallel()
	status := func(url string) int {
		t.Helper()
		resp, err := nethttp.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	off := start(t, options{})
	on := start(t, options{config: func(c *config.Config) { c.Pprof = true }})
	for _, c := range []struct {
		url  string
		want int
	}{
		{on.metricsBase + "/debug/pprof/", 200},
		{on.metricsBase + "/debug/pprof/heap", 200},
		{on.base + "/debug/pprof/", 404},
		{off.metricsBase + "/debug/pprof/", 404},
	} {
		if got := status(c.url); got != c.want {
			t.Errorf("GET %s: %d, want %d", c.url, got, c.want)
		}
	}
}

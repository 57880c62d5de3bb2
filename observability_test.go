package main

import (
	"context"
	"io"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/supermock/engine/eventstore"
	"github.com/supermock/engine/internal/testdb"
)

type consumerRow struct {
	Name      string `json:"name"`
	LagEvents int64  `json:"lag_events"`
	LastError string `json:"last_error"`
	Running   bool   `json:"running"`
	Stuck     bool   `json:"stuck"`
}

// metric reads one sample of /metrics (c is on the metrics port); -1 when it is not there.
func metric(c *client, series string) float64 {
	c.t.Helper()
	_, raw, err := c.do("GET", "/metrics", "", nil)
	if err != nil {
		c.t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindSubmatch(raw)
	if m == nil {
		return -1
	}
	v, _ := strconv.ParseFloat(string(m[1]), 64)
	return v
}

// Every consumer of a serving engine is listed, running, in the admin API and in
// /metrics; a match and its messages show in the operator's metrics; and a matchmaker
// stopped by an event it cannot read shows its error and its lag.
func TestEveryConsumerIsVisibleAndAStalledMatchmakerShows(t *testing.T) {
	t.Parallel()
	tg := newFakeTelegram(t)
	port, metricsPort := freePort(t), freePort(t)
	url := testdb.NewDatabase(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve"}, env(map[string]string{"DATABASE_URL": url, "PORT": strconv.Itoa(port), "METRICS_PORT": strconv.Itoa(metricsPort),
			"ADMIN_TELEGRAM_IDS": "4242", "RATE_LIMIT_QUERY_MAX_REQUESTS": "1000000", "TELEGRAM_TOKEN": fakeToken, "TELEGRAM_API_URL": tg.srv.URL}), io.Discard, io.Discard)
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	c, scrape := newClient(t, port), newClient(t, metricsPort)
	testdb.Eventually(t, 2*time.Minute, func() bool {
		status, _, err := c.do("GET", "/readyz", "", nil)
		return err == nil && status == 200
	})
	c.must(200, "GET", "/livez", "", nil, nil)

	admin, _, err := c.login(4242)
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Consumers []consumerRow `json:"consumers"`
	}
	c.must(200, "GET", "/api/admin/consumers", admin, nil, &list)
	want := []string{"projection-users", "matchmaker", "notifier", "notifier-scheduler", "notifier-sender", "expiry"}
	byName := map[string]consumerRow{}
	for _, s := range list.Consumers {
		byName[s.Name] = s
	}
	for _, name := range want {
		if s, ok := byName[name]; !ok || !s.Running {
			t.Errorf("%s: %+v (listed %v), want it listed and running", name, s, ok)
		}
	}
	if len(list.Consumers) != 13 {
		t.Errorf("%d consumers listed, want the 8 projections and 5 more: %+v", len(list.Consumers), list.Consumers)
	}

	// A match, and the two confirmations it sends.
	at := time.Now().Add(48 * time.Hour).Truncate(time.Hour)
	for i, role := range []string{"candidate", "interviewer"} {
		token, _, err := c.login(int64(5001 + i))
		if err != nil {
			t.Fatal(err)
		}
		c.must(201, "POST", "/api/queue", token, joinBody(role, at), nil)
	}
	testdb.Eventually(t, 2*time.Minute, func() bool {
		return metric(scrape, "supermock_matches_total") >= 1 && metric(scrape, `supermock_telegram_responses_total{class="ok"}`) >= 2 &&
			metric(scrape, `supermock_notifications_total{status="sent"}`) >= 2
	})
	for _, series := range []string{"supermock_join_to_match_seconds_count", "supermock_db_pool_max_connections",
		`supermock_consumer_running{consumer="notifier-sender"}`, `supermock_consumer_running{consumer="matchmaker"}`} {
		if v := metric(scrape, series); v < 1 {
			t.Errorf("%s is %v, want at least 1", series, v)
		}
	}
	if _, raw, _ := scrape.do("GET", "/metrics", "", nil); !regexp.MustCompile(`supermock_build_info\{goversion="go[^"]+",revision="[^"]+",version="[^"]+"\} 1`).Match(raw) {
		t.Error("/metrics has no supermock_build_info")
	}

	// An event the matchmaker cannot read: it stops there and says so.
	poisonJoin(t, url)
	testdb.Eventually(t, 2*time.Minute, func() bool {
		c.must(200, "GET", "/api/admin/consumers", admin, nil, &list)
		for _, s := range list.Consumers {
			if s.Name == "matchmaker" {
				return s.LastError != "" && s.LagEvents >= 1 && s.Running
			}
		}
		return false
	})
	testdb.Eventually(t, 2*time.Minute, func() bool {
		return metric(scrape, `supermock_consumer_lag_events{consumer="matchmaker"}`) >= 1 &&
			metric(scrape, `supermock_consumer_last_error_timestamp_seconds{consumer="matchmaker"}`) > 0
	})
}

// poisonJoin appends a QueueJoined whose payload no reader can decode.
func poisonJoin(t *testing.T, url string) {
	t.Helper()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	codec := eventstore.NewCodec()
	type join struct {
		EntryID string `json:"entry_id"`
		UserID  string `json:"user_id"`
	}
	if err := codec.Register("QueueJoined", 1, join{}); err != nil {
		t.Fatal(err)
	}
	store := eventstore.New(pool, codec, nil)
	if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		_, err := store.Append(ctx, tx, eventstore.Meta{}, eventstore.StreamAppend{StreamID: "user-poison",
			Expected: eventstore.NoStream, Events: []any{join{EntryID: "not-an-id", UserID: "nobody"}}})
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	nethttp "net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/supermock/engine/domain"
	api "github.com/supermock/engine/http"
	"github.com/supermock/engine/http/auth"
	"github.com/supermock/engine/internal/config"
	"github.com/supermock/engine/internal/eventlog"
	"github.com/supermock/engine/internal/testdb"
	"github.com/supermock/engine/projections"
	"github.com/supermock/engine/projections/matchmaker"
	"github.com/supermock/engine/projections/notifier"
)

func TestMain(m *testing.M) { testdb.Main(m) }

const (
	botToken  = "424242:TEST-bot-token-for-signing"
	jwtSecret = "test-secret-of-at-least-32-bytes!"
	adminTG   = 900001
	frontend  = "http://frontend.test"
	// testDataKey passes the production check; the test stores keep a key of their own.
	testDataKey = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
)

// testConfig is a development server with Telegram on and generous rate limits.
func testConfig() config.Config {
	return config.Config{
		AppEnv: config.Development, JWTSecret: jwtSecret, JWTTTL: time.Hour, TelegramToken: botToken,
		FrontendURL: frontend, RateLimitWindow: 15 * time.Minute, RateLimitMax: 10000, RateLimitQueryMax: 100000,
		AdminTelegramIDs: []int64{adminTG}, InterviewDuration: time.Hour, DataKey: testDataKey,
	}
}

// env is one API on a loopback port over a fresh database.
type env struct {
	t     testing.TB
	pool  *pgxpool.Pool
	store *eventlog.Store
	svc   *domain.Service
	cfg   config.Config
	base  string
	// metricsBase is the metrics port's URL, apart from the API's.
	metricsBase string
	app         *fiber.App
	now         func() time.Time
	// checked counts the answers held against the OpenAPI document.
	checked checked
}

// listen serves app on a loopback port until the test ends.
func listen(t testing.TB, app *fiber.App) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = app.Listener(ln) }()
	t.Cleanup(func() { _ = app.ShutdownWithTimeout(5 * time.Second) })
	return "http://" + ln.Addr().String()
}

type options struct {
	config      func(*config.Config)
	logger      *slog.Logger
	consumers   bool // run the projections and the matchmaker
	notifier    bool // and the notifier, whose appends come at their own time
	poolFromURL string
	clock       *testdb.Clock // the API's and the matchmaker's time; the wall clock when nil
	// freshWait replaces the 3 s bound of a read's wait: tests that count stale reads
	// set a bound only a stuck system reaches, so they never measure the machine.
	// Without consumers the tables never catch up, so the wait is 1 ms unless set.
	freshWait time.Duration
	// deps tunes what the API is built from beyond the above.
	deps func(api.Deps) api.Deps
}

func start(t testing.TB, o options) *env {
	t.Helper()
	var pool *pgxpool.Pool
	if o.poolFromURL != "" {
		var err error
		if pool, err = pgxpool.New(context.Background(), o.poolFromURL); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(pool.Close)
	} else {
		pool = testdb.New(t)
	}
	store, err := eventlog.New(pool)
	if err != nil {
		t.Fatal(err)
	}
	if !o.consumers && o.freshWait == 0 {
		o.freshWait = time.Millisecond
	}
	cfg := testConfig()
	if o.config != nil {
		o.config(&cfg)
	}
	now := time.Now
	if o.clock != nil {
		now = o.clock.Now
	}
	svc, err := domain.NewService(store, domain.Config{Clock: domain.ClockFunc(now), InterviewDuration: cfg.InterviewDuration})
	if err != nil {
		t.Fatal(err)
	}
	logger := o.logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	metrics := api.NewMetrics(pool, store.Log(), nil)
	deps := api.Deps{Pool: pool, Logger: logger, Config: cfg, Store: store, Now: now, Metrics: metrics, FreshWait: o.freshWait}
	if o.deps != nil {
		deps = o.deps(deps)
	}
	app, err := api.New(deps)
	if err != nil {
		t.Fatal(err)
	}
	base, metricsBase := listen(t, app), listen(t, metrics.App(cfg.Pprof))
	e := &env{t: t, pool: pool, store: store, svc: svc, cfg: cfg, base: base, metricsBase: metricsBase, app: app, now: now}
	if o.consumers {
		e.runConsumers(o.notifier)
	}
	return e
}

// runConsumers runs every projection, the matchmaker and, if asked, the notifier (inbox
// only, no Telegram token) until the test ends.
func (e *env) runConsumers(withNotifier bool) {
	ctx, cancel := context.WithCancel(context.Background())
	runner, err := projections.NewRunner(ctx, e.pool, e.store.Log(), projections.All(), projections.RunnerConfig{})
	if err != nil {
		e.t.Fatal(err)
	}
	mm := matchmaker.New(e.store, domain.ClockFunc(e.now), e.cfg.InterviewDuration, slog.New(slog.DiscardHandler))
	var wg sync.WaitGroup
	if withNotifier {
		notif, err := notifier.New(e.store, notifier.Config{Clock: domain.ClockFunc(e.now),
			PollInterval: 20 * time.Millisecond, PlanInterval: 100 * time.Millisecond})
		if err != nil {
			e.t.Fatal(err)
		}
		wg.Add(1)
		go func() { defer wg.Done(); _ = notif.Run(ctx) }()
	}
	wg.Add(2)
	go func() { defer wg.Done(); _ = runner.Run(ctx) }()
	go func() {
		defer wg.Done()
		if err := mm.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			e.t.Errorf("matchmaker: %v", err)
		}
	}()
	e.t.Cleanup(func() { cancel(); wg.Wait() })
}

type response struct {
	status int
	header nethttp.Header
	body   []byte
}

func (r response) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("answer %d %s: %v", r.status, r.body, err)
	}
}

func (r response) String() string { return fmt.Sprintf("%d %s", r.status, r.body) }

// call sends a request; body is sent as is when it is a string or []byte, as JSON
// otherwise. headers are name, value pairs (a name given twice is sent twice);
// "Authorization" may be given as a token.
func (e *env) call(method, path, token string, body any, headers ...string) response {
	e.t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	case []byte:
		raw = b
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			e.t.Fatal(err)
		}
	}
	req, err := nethttp.NewRequest(method, e.base+path, bytes.NewReader(raw))
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	given := map[string]bool{}
	for i := 0; i+1 < len(headers); i += 2 {
		if given[headers[i]] {
			req.Header.Add(headers[i], headers[i+1])
		} else {
			req.Header.Set(headers[i], headers[i+1])
		}
		given[headers[i]] = true
	}
	resp, err := nethttp.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	r := response{status: resp.StatusCode, header: resp.Header, body: out}
	e.checkAgainstDocument(req, raw, r)
	return r
}

type errorAnswer struct {
	Error struct {
		Code      string `json:"code"`
		Message   string `json:"message"`
		RequestID string `json:"request_id"`
	} `json:"error"`
}

// wantError checks the status, the code and that the body names the request id the
// header carries.
func wantError(t testing.TB, r response, status int, code string) {
	t.Helper()
	var e errorAnswer
	if err := json.Unmarshal(r.body, &e); err != nil || r.status != status || e.Error.Code != code {
		t.Fatalf("got %s, want %d %s", r, status, code)
	}
	if e.Error.RequestID == "" || e.Error.RequestID != r.header.Get("X-Request-ID") {
		t.Fatalf("error body request id %q, header %q", e.Error.RequestID, r.header.Get("X-Request-ID"))
	}
	if strings.Contains(string(r.body), "goroutine") || strings.Contains(string(r.body), ".go:") {
		t.Fatalf("error body leaks internals: %s", r.body)
	}
}

// wantDone checks that a command was carried out: 200 or 201 with what it changed, or
// 202 naming it when the read tables (not running in most tests) do not show it yet.
func wantDone(t testing.TB, r response) {
	t.Helper()
	if r.status != 200 && r.status != 201 && (r.status != 202 || r.header.Get("X-Projection-Lag") != "true") {
		t.Fatalf("got %s, want a command done", r)
	}
}

func wantStatus(t testing.TB, r response, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("got %s, want %d", r, status)
	}
}

// events counts the rows of the log.
func (e *env) events() int {
	e.t.Helper()
	n, err := e.store.Log().CountEvents(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return int(n)
}

type login struct {
	Token string `json:"token"`
	User  struct {
		ID            string `json:"id"`
		TelegramID    int64  `json:"telegram_id"`
		Username      string `json:"username"`
		AccountRole   string `json:"account_role"`
		PreferredRole string `json:"preferred_role"`
	} `json:"user"`
	position string
}

// widgetFields are what Telegram's Login Widget would hand the browser, signed.
func widgetFields(tgID int64, username string, at time.Time) map[string]any {
	f := map[string]string{"id": strconv.FormatInt(tgID, 10), "first_name": "User " + username,
		"username": username, "auth_date": strconv.FormatInt(at.Unix(), 10)}
	out := map[string]any{"id": tgID, "first_name": f["first_name"], "username": username,
		"auth_date": at.Unix(), "hash": auth.SignWidget(f, botToken)}
	return out
}

// loginWidget logs in through the widget flow.
func (e *env) loginWidget(tgID int64, username string) login {
	e.t.Helper()
	r := e.call("POST", "/api/auth/telegram", "", widgetFields(tgID, username, time.Now()))
	if r.status != 200 && r.status != 201 {
		e.t.Fatalf("widget login: %s", r)
	}
	var l login
	r.json(e.t, &l)
	l.position = r.header.Get("X-Event-Position")
	return l
}

// loginDev logs in through the development route.
func (e *env) loginDev(tgID int64) login {
	e.t.Helper()
	r := e.call("POST", "/api/auth/dev", "", map[string]any{"telegram_id": tgID, "username": fmt.Sprintf("dev%d", tgID)})
	if r.status != 200 && r.status != 201 {
		e.t.Fatalf("dev login: %s", r)
	}
	var l login
	r.json(e.t, &l)
	l.position = r.header.Get("X-Event-Position")
	return l
}

func (l login) userID() uuid.UUID { return uuid.MustParse(l.User.ID) }

// window is a join request body for a window from start for length.
func window(role, profession string, start time.Time, length time.Duration) map[string]any {
	return map[string]any{"role": role, "profession": profession, "language": "en",
		"window_start": start.UTC().Format(time.RFC3339), "window_end": start.Add(length).UTC().Format(time.RFC3339)}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

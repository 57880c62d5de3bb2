package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/supermock/engine/http/auth"
	"github.com/supermock/engine/internal/testdb"
)

// browserNames are the Chrome builds the browser tests drive, looked up on PATH.
var browserNames = []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"}

// page is one headless browser tab; on a failure of its test it leaves a screenshot
// and the page's console log in the test's artifact folder.
type page struct {
	t    *testing.T
	ctx  context.Context // the tab's; actions run under a bound of their own
	base string

	mu      sync.Mutex
	console []string
}

func openBrowser(t *testing.T, base string) *page {
	t.Helper()
	var path string
	for _, name := range browserNames {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		t.Skipf("no Chrome or Chromium on PATH (looked for %v): install Debian's chromium, as .ci/install-chromium does", browserNames)
	}
	opts := append(slices.Clone(chromedp.DefaultExecAllocatorOptions[:]), chromedp.ExecPath(path),
		chromedp.WindowSize(390, 844), // a phone's screen
		chromedp.Flag("lang", "en-US"))
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // Chrome's sandbox refuses to run as root
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancelTab(); cancelAlloc() })
	// The first run starts the browser, which lives as long as its context: no bound on it.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", path, err)
	}
	p := &page{t: t, ctx: ctx, base: base}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			p.mu.Lock()
			p.console = append(p.console, m.String())
			p.mu.Unlock()
		}
	}()
	t.Cleanup(p.keepEvidence)
	return p
}

// keepEvidence saves what the page showed and logged when the test failed.
func (p *page) keepEvidence() {
	if !p.t.Failed() {
		return
	}
	dir := p.t.ArtifactDir()
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	if shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
		_ = os.WriteFile(filepath.Join(dir, "screenshot.png"), shot, 0o644)
	}
	p.mu.Lock()
	log := strings.Join(p.console, "\n")
	p.mu.Unlock()
	_ = os.WriteFile(filepath.Join(dir, "console.log"), []byte(log+"\n"), 0o644)
	p.t.Logf("the page's screenshot and console log are in %s (kept with go test -artifacts); its console:\n%s", dir, log)
}

// do runs browser actions, failing the test on an error; each run is bounded, for a
// stuck test.
func (p *page) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 2*time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		p.t.Fatalf("%s: %v", what, err)
	}
}

// eval is the value of a JavaScript expression.
func eval[T any](p *page, expr string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 2*time.Minute)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		p.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// until waits for a JavaScript expression to be true, polled in the page.
func (p *page) until(what, expr string) {
	p.t.Helper()
	p.do(what, func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(0), chromedp.WithPollingInterval(50*time.Millisecond))(ctx, t)
		return chromedp.Void{}, err
	})
}

// devLogin logs in on the console's login page.
func (p *page) devLogin(telegramID int64, username string) {
	p.t.Helper()
	p.do("log in as "+username,
		chromedp.Navigate(p.base+"/admin"),
		chromedp.WaitVisible(chromedp.CSS("#dev-login")),
		chromedp.SendKeys(chromedp.CSS(`#dev-login input[name="telegram_id"]`), fmt.Sprint(telegramID)),
		chromedp.SendKeys(chromedp.CSS(`#dev-login input[name="username"]`), username),
		chromedp.Click(chromedp.CSS(`#dev-login button[type="submit"]`)))
}

type consoleRow struct {
	Name string `json:"name"`
	Lag  string `json:"lag"`
}

// An admin logs in (back from the Telegram Login Widget), sees every consumer of the engine with its lag, rebuilds every
// projection and watches the rebuild finish, finds a demo user by username and opens
// one of their events, and downloads a CSV replay; a user who is not an admin is
// refused.
func TestAdminConsoleInABrowser(t *testing.T) {
	t.Parallel()
	const adminID = 7301
	tg := newFakeTelegram(t)
	vars := map[string]string{"DATABASE_URL": testdb.NewDatabase(t), "ADMIN_TELEGRAM_IDS": fmt.Sprint(adminID),
		"RATE_LIMIT_QUERY_MAX_REQUESTS": "1000000", "TELEGRAM_TOKEN": fakeToken, "TELEGRAM_API_URL": tg.srv.URL,
		"BOT_USERNAME": "supermock_test_bot"}
	s := startServe(t, vars, "127.0.0.1")
	p := openBrowser(t, s.base)

	p.devLogin(7302, "plain")
	p.do("the refusal", chromedp.WaitVisible(chromedp.CSS("#forbidden")), chromedp.Click(chromedp.CSS("#logout")),
		chromedp.WaitVisible(chromedp.CSS("#dev-login")))

	// The admin comes back from Telegram's Login Widget with its signed fields.
	fields := map[string]string{"id": fmt.Sprint(adminID), "first_name": "Boss", "username": "boss",
		"auth_date": fmt.Sprint(time.Now().Unix())}
	query := url.Values{"hash": {auth.SignWidget(fields, fakeToken)}}
	for k, v := range fields {
		query.Set(k, v)
	}
	p.do("log in through the widget", chromedp.Navigate(s.base+"/admin?"+query.Encode()),
		chromedp.WaitVisible(chromedp.CSS("#consumers table")))
	if where := eval[string](p, `location.href`); where != s.base+"/admin" {
		t.Errorf("after the login the address is %s: the signed fields stay in the history", where)
	}
	api := newClient(t, s.port)
	token, _, err := api.login(adminID)
	if err != nil {
		t.Fatal(err)
	}
	var board struct {
		Consumers []struct {
			Name string `json:"name"`
		} `json:"consumers"`
	}
	api.must(200, "GET", "/api/admin/consumers", token, nil, &board)
	var want []string
	for _, c := range board.Consumers {
		want = append(want, c.Name)
	}
	rows := eval[[]consoleRow](p, `[...document.querySelectorAll("#consumers tr[data-consumer]")].map(r => ({name: r.dataset.consumer, lag: r.querySelector(".lag-events").textContent}))`)
	var shown []string
	for _, r := range rows {
		shown = append(shown, r.Name)
		if r.Lag == "" || strings.Trim(r.Lag, "0123456789,  ") != "" {
			t.Errorf("%s shows the lag %q", r.Name, r.Lag)
		}
	}
	slices.Sort(shown)
	slices.Sort(want)
	if len(want) < 13 || !slices.Equal(shown, want) {
		t.Fatalf("the console shows the consumers %v, the API lists %v", shown, want)
	}

	if rebuilt := eval[int](p, `document.querySelectorAll("#projections .result").length`); rebuilt != 0 {
		t.Fatalf("%d projections show a rebuild before any", rebuilt)
	}
	p.do("rebuild all", chromedp.Click(chromedp.CSS("#rebuild-all")))
	p.until("the rebuild finishes", `(() => {
		const rows = [...document.querySelectorAll("#projections tr[data-projection]")];
		return rows.length === 8 && rows.every(r => r.querySelector('.result[data-result="ok"]') && !r.querySelector("progress"));
	})()`)
	if notice := eval[string](p, `document.getElementById("notice").textContent`); notice != "Rebuild started" {
		t.Errorf("the notice after the click: %q", notice)
	}

	// A demo history: the admin finds one of its users by username and opens an event.
	if err := run(context.Background(), []string{"demo", "--users", "12", "--days", "2"}, env(vars), io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.New(context.Background(), vars["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var username, userID string
	testdb.Eventually(t, 2*time.Minute, func() bool {
		err := pool.QueryRow(context.Background(), `SELECT username, user_id::text FROM users
			WHERE username LIKE '%\_%' ORDER BY registered_at, user_id LIMIT 1`).Scan(&username, &userID)
		return err == nil
	})
	p.do("find "+username,
		chromedp.Click(chromedp.CSS(`#nav a[data-page="find"]`)),
		chromedp.SendKeys(chromedp.CSS("#find-user"), "@"+username),
		chromedp.Click(chromedp.CSS(`#find-user-form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.profile[data-user="`+userID+`"]`)),
		chromedp.Click(chromedp.CSS(`.profile button[data-stream="user-`+userID+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#find-result tr[data-event] details.payload summary`)),
		chromedp.Click(chromedp.CSS(`#find-result tr[data-event] details.payload summary`)),
		chromedp.WaitVisible(chromedp.CSS(`#find-result tr[data-event] details.payload pre`)))
	var registered struct {
		UserID   string `json:"user_id"`
		Username string `json:"username"`
	}
	if raw := eval[string](p, `document.querySelector("#find-result tr[data-event] details.payload pre").textContent`); json.Unmarshal([]byte(raw), &registered) != nil ||
		registered.UserID != userID {
		t.Errorf("the user's first event shows the payload %q", raw)
	}

	// The replay of the user's stream as CSV, downloaded by the browser.
	downloads := t.TempDir()
	waitDownload, cancel := context.WithTimeout(p.ctx, 2*time.Minute)
	defer cancel()
	progress := chromedp.Events(waitDownload, browser.DownloadProgress)
	p.do("download a CSV replay",
		chromedp.Click(chromedp.CSS(`#nav a[data-page="replay"]`)),
		chromedp.SendKeys(chromedp.CSS("#replay-stream"), "user-"+userID),
		chromedp.SetValue(chromedp.CSS("#replay-format"), "csv"),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error { // as a user's choice does
			_, err := chromedp.Evaluate[bool](`document.getElementById("replay-format").dispatchEvent(new Event("change", {bubbles: true}))`)(ctx, t)
			return err
		}),
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
				Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: downloads, EventsEnabled: ptr(true)})
			return err
		}),
		chromedp.Click(chromedp.CSS("#replay-download")))
	var file string
	for ev, err := range progress {
		if err != nil {
			t.Fatalf("download: %v", err)
		}
		if ev.State == browser.DownloadProgressStateCompleted {
			file = filepath.Join(downloads, ev.GUID)
			break
		}
		if ev.State == browser.DownloadProgressStateCanceled {
			t.Fatal("the download was cancelled")
		}
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	records, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
	if err != nil || len(records) < 3 || records[0][0] != "position" {
		t.Fatalf("the downloaded CSV (%v):\n%s", err, raw)
	}
	stream := slices.Index(records[0], "stream_id")
	for _, r := range records[1:] {
		if stream < 0 || r[stream] != "user-"+userID {
			t.Errorf("a line of another stream: %v", r)
		}
	}

	// More failed deliveries than a page: the rest come with "more", each once.
	for range 60 {
		if _, err := pool.Exec(context.Background(), `INSERT INTO notifier_outbox (notification_id, interview_id, user_id, kind,
			due_at, status, last_error) VALUES (gen_random_uuid(), gen_random_uuid(), $1, 'confirmed', now(), 'failed', 'blocked')`,
			userID); err != nil {
			t.Fatal(err)
		}
	}
	var failed struct {
		Total int `json:"total"`
	}
	api.must(200, "GET", "/api/admin/notifications", token, nil, &failed)
	if failed.Total < 60 || failed.Total > 100 {
		t.Fatalf("%d failed and unknown deliveries: not two pages", failed.Total)
	}
	const rowsShown = `document.querySelectorAll("#main tr[data-delivery]").length`
	p.do("open the notifications", chromedp.Click(chromedp.CSS(`#nav a[data-page="notifications"]`)),
		chromedp.WaitVisible(chromedp.CSS("#main button.more")))
	if n := eval[int](p, rowsShown); n != 50 {
		t.Errorf("the first page shows %d deliveries", n)
	}
	p.do("more", chromedp.Click(chromedp.CSS("#main button.more")))
	p.until("the second page", fmt.Sprintf(`%s === %d && !document.querySelector("#main button.more")`, rowsShown, failed.Total))
	if ids := eval[int](p, `new Set([...document.querySelectorAll("#main tr[data-delivery]")].map(r => r.dataset.delivery)).size`); ids != failed.Total {
		t.Errorf("%d deliveries of %d are shown, some twice", ids, failed.Total)
	}

	// The queue's and the interviews' pages fill every section from their first pages,
	// with no error.
	for _, name := range []string{"queue", "interviews"} {
		p.do("open "+name, chromedp.Click(chromedp.CSS(`#nav a[data-page="`+name+`"]`)))
		p.until(name+" loads", `(() => {
			const boxes = [...document.querySelectorAll("#main .box")];
			return boxes.length >= 3 && boxes.every(b => b.textContent !== "" && b.textContent !== admin.t("loading"));
		})()`)
		if errs := eval[string](p, `[...document.querySelectorAll("#main .error")].map(e => e.textContent).join("; ")`); errs != "" {
			t.Errorf("the %s page: %s", name, errs)
		}
	}
}

func ptr[T any](v T) *T { return &v }

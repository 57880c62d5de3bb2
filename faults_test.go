package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/supermock/engine/internal/testdb"
	"github.com/supermock/engine/projections"
)

// engine is one engine process on a port of its own.
type engine struct {
	t           *testing.T
	port        int
	metricsPort int
	env         []string
	cmd         *exec.Cmd
	logs        *bytes.Buffer
}

func startEngine(t *testing.T, port int, env []string) *engine {
	e := &engine{t: t, port: port, metricsPort: freePort(t), env: env}
	e.start()
	t.Cleanup(e.kill)
	return e
}

func (e *engine) start() {
	e.t.Helper()
	e.cmd = exec.Command(os.Args[0], "serve")
	e.cmd.Env = append(append(os.Environ(), asBinary+"=1", "PORT="+strconv.Itoa(e.port),
		"METRICS_PORT="+strconv.Itoa(e.metricsPort)), e.env...)
	e.logs = &bytes.Buffer{}
	e.cmd.Stdout, e.cmd.Stderr = e.logs, e.logs
	if err := e.cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	c := newClient(e.t, e.port)
	testdb.Eventually(e.t, 2*time.Minute, func() bool {
		status, _, err := c.do("GET", "/api/health", "", nil)
		return err == nil && status == 200
	})
}

// kill ends the process with SIGKILL and waits for it.
func (e *engine) kill() {
	if e.cmd == nil || e.cmd.Process == nil || e.cmd.ProcessState != nil {
		return
	}
	_ = e.cmd.Process.Signal(syscall.SIGKILL)
	_ = e.cmd.Wait()
}

// stop ends the process as a deploy does, with SIGTERM.
func (e *engine) stop() {
	e.t.Helper()
	_ = e.cmd.Process.Signal(syscall.SIGTERM)
	if err := e.cmd.Wait(); err != nil {
		e.t.Fatalf("the engine did not stop cleanly: %v\n%s", err, e.logs)
	}
}

// acked is what the load's acknowledged commands left to check.
type acked struct {
	mu        sync.Mutex
	positions []string // X-Event-Position of every 2xx command
	commands  int
	refused   int // answered, not 2xx: a rule said no
	lost      int // no answer: the engine was down
}

func (a *acked) record(status int, position string, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case err != nil:
		a.lost++
	case status/100 == 2:
		a.commands++
		if position != "" {
			a.positions = append(a.positions, position)
		}
	default:
		a.refused++
	}
}

// user drives one person through logins, joins, leaves and cancellations until ctx
// ends, on whichever engine is up.
func (a *acked) user(ctx context.Context, t *testing.T, engines []*engine, telegramID int64, slots []time.Time) {
	rng := rand.New(rand.NewPCG(uint64(telegramID), 7))
	for ctx.Err() == nil {
		c := newClient(t, engines[rng.IntN(len(engines))].port)
		token, _, err := c.login(telegramID)
		if err != nil {
			time.Sleep(50 * time.Millisecond) // the engine is down: a client retries
			continue
		}
		for i := 0; i < 4 && ctx.Err() == nil; i++ {
			role := []string{"candidate", "interviewer"}[rng.IntN(2)]
			status, raw, position, err := c.command("POST", "/api/queue", token, joinBody(role, slots[rng.IntN(len(slots))]))
			a.record(status, position, err)
			var entry struct {
				ID string `json:"id"`
			}
			if status == 201 && json.Unmarshal(raw, &entry) == nil && rng.IntN(3) == 0 {
				status, _, position, err = c.command("DELETE", "/api/queue/"+entry.ID, token, nil)
				a.record(status, position, err)
			}
			if rng.IntN(4) == 0 {
				a.cancelOne(c, token)
			}
		}
	}
}

// cancelOne cancels the first scheduled interview of the user, if any.
func (a *acked) cancelOne(c *client, token string) {
	status, raw, err := c.do("GET", "/api/interviews", token, nil)
	if err != nil || status != 200 {
		return
	}
	var list struct {
		Interviews []struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		} `json:"interviews"`
	}
	if json.Unmarshal(raw, &list) != nil {
		return
	}
	for _, iv := range list.Interviews {
		if iv.Status == "scheduled" {
			status, _, position, err := c.command("POST", "/api/interviews/"+iv.ID+"/cancel", token, map[string]any{"reason": "plans changed"})
			a.record(status, position, err)
			return
		}
	}
}

// Kills at random moments lose nothing (task soak runs it at length) a user was told happened: five SIGKILLs of the
// engine under a load of logins, joins, leaves and cancellations, with one engine and
// with two on one database. Afterwards every acknowledged command is in the log, nobody
// is booked twice at once, no entry is matched twice, each Telegram message went out
// at most once and every one due went out, and every read table equals a rebuild.
func TestKilledEnginesLoseNothingAcknowledged(t *testing.T) {
	for _, processes := range []int{1, 2} {
		t.Run(fmt.Sprintf("%d engine processes", processes), func(t *testing.T) {
			t.Parallel()
			runFaults(t, processes, fromEnv(t, "SOAK_KILLS", 5), fromEnv(t, "SOAK_USERS", 10), 1500*time.Millisecond)
		})
	}
}

// fromEnv reads a count the soak task sets, or gives def.
func fromEnv(t *testing.T, name string, def int) int {
	raw := os.Getenv(name)
	if raw == "" {
		return def
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n <= 0 {
		t.Fatalf("%s must be a positive whole number, got %q", name, raw)
	}
	return n
}

// runFaults runs users against processes engines and kills one of them kills times,
// at random moments at most gap apart.
func runFaults(t *testing.T, processes, kills, users int, gap time.Duration) {
	tg := newFakeTelegram(t)
	url := testdb.NewDatabase(t)
	env := []string{"DATABASE_URL=" + url, "APP_ENV=development", "TELEGRAM_TOKEN=" + fakeToken,
		"TELEGRAM_API_URL=" + tg.srv.URL, "RATE_LIMIT_MAX_REQUESTS=1000000", "RATE_LIMIT_QUERY_MAX_REQUESTS=1000000",
		// Sessions outlive a restart and work on either process, as in production.
		"JWT_SECRET=faults-test-secret-of-at-least-32-bytes"}
	began := time.Now()
	engines := make([]*engine, processes)
	for i := range engines {
		engines[i] = startEngine(t, freePort(t), env)
	}
	day := time.Now().Add(48 * time.Hour).Truncate(time.Hour)
	slots := []time.Time{day, day.Add(3 * time.Hour), day.Add(6 * time.Hour)}

	var a acked
	ctx, stopLoad := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for u := range users {
		wg.Go(func() { a.user(ctx, t, engines, int64(70001+u), slots) })
	}
	rng := rand.New(rand.NewPCG(uint64(processes), uint64(time.Now().UnixNano())))
	for range kills {
		time.Sleep(time.Duration(rng.Int64N(int64(gap))))
		e := engines[rng.IntN(len(engines))]
		e.kill()
		e.start()
	}
	stopLoad()
	wg.Wait()
	if a.commands == 0 {
		t.Fatalf("no command was acknowledged (%d refused, %d lost)", a.refused, a.lost)
	}
	t.Logf("%d commands acknowledged, %d refused, %d without answer, in %s with %d kills",
		a.commands, a.refused, a.lost, time.Since(began).Round(time.Millisecond), kills)

	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	waitSettled(t, pool)
	for _, e := range engines {
		e.stop()
	}
	t.Logf("settled and stopped after %s", time.Since(began).Round(time.Millisecond))
	checkAcknowledged(t, pool, a.positions)
	checkMatches(t, pool)
	checkTelegram(t, pool, tg)
	checkRebuild(t, pool, url)
}

// waitSettled waits until every consumer group has read the whole log and no message
// is waiting to be sent. A message a killed sender left 'sending' is settled once its
// lease has passed; the wait is cut short by ageing those claims, as time would.
func waitSettled(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	ctx := context.Background()
	testdb.Eventually(t, 2*time.Minute, func() bool {
		if _, err := pool.Exec(ctx, `UPDATE notifier_outbox SET claimed_at = claimed_at - interval '1 hour'
			WHERE status = 'sending' AND claimed_at < clock_timestamp() - interval '1 second'`); err != nil {
			t.Fatal(err)
		}
		var behind, unsent int
		if err := pool.QueryRow(ctx, `SELECT
			(SELECT count(*) FROM watermill_offsets_events o WHERE EXISTS (SELECT 1 FROM watermill_events e
				WHERE (e.transaction_id, e."offset") > (o.last_processed_transaction_id, o.offset_acked))),
			(SELECT count(*) FROM notifier_outbox WHERE status IN ('pending', 'sending'))`).Scan(&behind, &unsent); err != nil {
			t.Fatal(err)
		}
		return behind == 0 && unsent == 0
	})
}

func checkAcknowledged(t *testing.T, pool *pgxpool.Pool, positions []string) {
	t.Helper()
	for _, p := range positions {
		var tx, offset int64
		if _, err := fmt.Sscanf(p, "%d-%d", &tx, &offset); err != nil {
			t.Fatalf("position %q: %v", p, err)
		}
		var found bool
		if err := pool.QueryRow(context.Background(), `SELECT EXISTS (SELECT 1 FROM watermill_events
			WHERE transaction_id = $1::text::xid8 AND "offset" = $2)`, strconv.FormatInt(tx, 10), offset).Scan(&found); err != nil {
			t.Fatal(err)
		}
		if !found {
			t.Errorf("an acknowledged command's event at %s is not in the log", p)
		}
	}
}

// checkMatches replays the log's matches and cancellations: no entry in two live
// matches, nobody in two live interviews that overlap.
func checkMatches(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT event_type, payload::text FROM watermill_events
		WHERE event_type IN ('MatchMade', 'InterviewCancelled') ORDER BY transaction_id, "offset"`)
	if err != nil {
		t.Fatal(err)
	}
	type interview struct {
		id      string
		at, end time.Time
	}
	matchOf := map[string]string{} // entry → its live interview
	live := map[string]map[string]interview{}
	seen := map[string]bool{}
	for rows.Next() {
		var kind, payload string
		if err := rows.Scan(&kind, &payload); err != nil {
			t.Fatal(err)
		}
		var m struct {
			InterviewID        string    `json:"interview_id"`
			CandidateID        string    `json:"candidate_id"`
			InterviewerID      string    `json:"interviewer_id"`
			CandidateEntryID   string    `json:"candidate_entry_id"`
			InterviewerEntryID string    `json:"interviewer_entry_id"`
			ScheduledAt        time.Time `json:"scheduled_at"`
			DurationMinutes    int       `json:"duration_minutes"`
		}
		if err := json.Unmarshal([]byte(payload), &m); err != nil {
			t.Fatal(err)
		}
		if kind == "InterviewCancelled" {
			for _, ivs := range live {
				delete(ivs, m.InterviewID)
			}
			// The other side's entry is requeued as it was, and may be matched anew.
			for entry, iv := range matchOf {
				if iv == m.InterviewID {
					delete(matchOf, entry)
				}
			}
			continue
		}
		if seen[m.InterviewID] {
			continue // the same match on the other user's stream
		}
		seen[m.InterviewID] = true
		for _, entry := range []string{m.CandidateEntryID, m.InterviewerEntryID} {
			if other, ok := matchOf[entry]; ok {
				t.Errorf("entry %s matched twice: interviews %s and %s", entry, other, m.InterviewID)
			}
			matchOf[entry] = m.InterviewID
		}
		iv := interview{id: m.InterviewID, at: m.ScheduledAt, end: m.ScheduledAt.Add(time.Duration(m.DurationMinutes) * time.Minute)}
		for _, u := range []string{m.CandidateID, m.InterviewerID} {
			if live[u] == nil {
				live[u] = map[string]interview{}
			}
			for _, other := range live[u] {
				if other.at.Before(iv.end) && iv.at.Before(other.end) {
					t.Errorf("user %s booked twice at once: interviews %s and %s", u, other.id, iv.id)
				}
			}
			live[u][iv.id] = iv
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(seen) == 0 {
		t.Error("the load made no match: nothing was checked")
	}
}

// checkTelegram holds the outbox against what the fake received: every message was
// sent and reached Telegram once; one whose sender was killed during its call is
// 'unknown' and reached Telegram at most once.
func checkTelegram(t *testing.T, pool *pgxpool.Pool, tg *fakeTelegram) {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT status, coalesce(chat_id, 0), coalesce(text, '')
		FROM notifier_outbox WHERE status <> 'dropped'`)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		status string
		chat   int64
		text   string
	}
	all, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
		var x row
		return x, r.Scan(&x.status, &x.chat, &x.text)
	})
	if err != nil {
		t.Fatal(err)
	}
	// Two messages may read alike (two cancellations of the same hour), so the
	// messages are counted per chat and text: Telegram must have received each text as
	// often as it was sent, plus at most once per message left unknown.
	type key struct {
		chat int64
		text string
	}
	sent, unknowns := map[key]int{}, map[key]int{}
	unknown := 0
	for _, r := range all {
		switch r.status {
		case "sent":
			sent[key{r.chat, r.text}]++
		case "unknown":
			unknowns[key{r.chat, r.text}]++
			unknown++
		default:
			t.Errorf("a message to %d is %s after everything settled", r.chat, r.status)
		}
	}
	got := map[key]int{}
	for k, n := range tg.received() {
		chat, text, _ := strings.Cut(k, "\x00")
		c, _ := strconv.ParseInt(chat, 10, 64)
		got[key{c, text}] = n
	}
	for k, n := range got {
		if n < sent[k] || n > sent[k]+unknowns[k] {
			t.Errorf("Telegram received %q for chat %d %d times; %d such messages were sent and %d are unknown", k.text, k.chat, n, sent[k], unknowns[k])
		}
	}
	for k, n := range sent {
		if got[k] < n {
			t.Errorf("%d messages to %d were recorded sent, Telegram received %d: %q", n, k.chat, got[k], k.text)
		}
	}
	if len(all) == 0 {
		t.Error("no message was due: nothing was checked")
	}
	t.Logf("%d messages, %d left unknown by a kill", len(all), unknown)
}

// checkRebuild rebuilds every projection from the log and compares the tables.
func checkRebuild(t *testing.T, pool *pgxpool.Pool, url string) {
	t.Helper()
	before := dumpReadTables(t, pool)
	if err := run(context.Background(), []string{"rebuild", "--all"}, env(map[string]string{"DATABASE_URL": url}), io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	after := dumpReadTables(t, pool)
	for table, rows := range before {
		if fmt.Sprint(rows) != fmt.Sprint(after[table]) {
			t.Errorf("%s differs from its rebuild: %d rows live, %d rebuilt", table, len(rows), len(after[table]))
		}
	}
}

func dumpReadTables(t *testing.T, pool *pgxpool.Pool) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, p := range projections.All() {
		for _, table := range p.Tables() {
			rows, err := pool.Query(context.Background(), `SELECT x::text FROM `+pgx.Identifier{table}.Sanitize()+` x ORDER BY 1`)
			if err != nil {
				t.Fatal(err)
			}
			if out[table], err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
				t.Fatal(err)
			}
		}
	}
	return out
}

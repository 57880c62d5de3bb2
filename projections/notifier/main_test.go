package notifier

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/supermock/engine/domain"
	"github.com/supermock/engine/internal/eventlog"
	"github.com/supermock/engine/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }

const testToken = "123456:TEST-token"

// world is one test's database, domain service, clock and fake Telegram.
type world struct {
	t     *testing.T
	store *eventlog.Store
	clock *testdb.Clock // the domain's clock, moved by hand to reach reminders
	svc   *domain.Service
	tg    *fakeTelegram
	start time.Time // the clock's first reading, on the hour
}

func newWorld(t *testing.T) *world {
	t.Helper()
	store, err := eventlog.New(testdb.New(t))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().UTC().Truncate(time.Hour)
	w := &world{t: t, store: store, clock: testdb.NewClock(start), tg: newFakeTelegram(t), start: start}
	if w.svc, err = domain.NewService(store, domain.Config{Clock: w.clock}); err != nil {
		t.Fatal(err)
	}
	return w
}

func testLogger() *slog.Logger {
	var out io.Writer = io.Discard
	if testing.Verbose() {
		out = os.Stderr
	}
	return slog.New(slog.NewTextHandler(out, nil))
}

// notifier returns a notifier on the fake Telegram with test timings; adjust may
// change its configuration.
func (w *world) notifier(adjust func(*Config)) *Notifier {
	w.t.Helper()
	cfg := Config{Token: testToken, APIURL: w.tg.srv.URL, Clock: w.clock, Logger: testLogger(),
		PollInterval: 20 * time.Millisecond, PlanInterval: 20 * time.Millisecond, RequestTimeout: 30 * time.Second,
		RetryBase: 100 * time.Millisecond, RetryMax: 400 * time.Millisecond}
	if adjust != nil {
		adjust(&cfg)
	}
	n, err := New(w.store, cfg)
	if err != nil {
		w.t.Fatal(err)
	}
	return n
}

// run runs one part of a notifier until stop is called, or the test ends.
func (w *world) run(part func(context.Context) error) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- part(ctx) }()
	var once atomic.Bool
	stop = func() {
		if !once.CompareAndSwap(false, true) {
			return
		}
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			w.t.Errorf("notifier: %v", err)
		}
	}
	w.t.Cleanup(stop)
	return stop
}

// person is a registered user and their Telegram chat.
type person struct {
	id   uuid.UUID
	chat int64
}

// user registers someone through Telegram; lang goes into their form ("" leaves the
// form empty) and tz into their profile ("" keeps the default).
func (w *world) user(chat int64, lang, tz string) person {
	w.t.Helper()
	ctx := context.Background()
	reg, err := w.svc.RegisterFromTelegram(ctx, domain.Meta{Actor: domain.SystemActor},
		domain.TelegramLogin{TelegramID: chat, Username: "user" + uuid.NewString()[:6], FirstName: "Test"})
	if err != nil {
		w.t.Fatal(err)
	}
	meta := domain.Meta{Actor: reg.UserID.String()}
	if lang != "" {
		if _, err := w.svc.SubmitForm(ctx, meta, reg.UserID, domain.FormInput{Profession: "backend-developer",
			Country: "RU", Experience: "3-5", Language: lang}); err != nil {
			w.t.Fatal(err)
		}
	}
	if tz != "" {
		if _, err := w.svc.UpdateProfile(ctx, meta, reg.UserID, domain.ProfileInput{Timezone: &tz}); err != nil {
			w.t.Fatal(err)
		}
	}
	return person{id: reg.UserID, chat: chat}
}

// schedule pairs a candidate and an interviewer for an interview at at (on the hour).
func (w *world) schedule(candidate, interviewer person, at time.Time) uuid.UUID {
	w.t.Helper()
	ctx := context.Background()
	join := func(p person, role string) domain.EntryRef {
		id, _, err := w.svc.JoinQueue(ctx, domain.Meta{Actor: p.id.String()}, p.id, domain.QueueInput{Role: role,
			Profession: "backend-developer", Language: "en", WindowStart: at, WindowEnd: at.Add(2 * time.Hour)})
		if err != nil {
			w.t.Fatal(err)
		}
		return domain.EntryRef{UserID: p.id, EntryID: id}
	}
	id, _, err := w.svc.MakeMatch(ctx, domain.Meta{Actor: domain.SystemActor}, join(candidate, "candidate"), join(interviewer, "interviewer"))
	if err != nil {
		w.t.Fatal(err)
	}
	return id
}

// eventually waits for cond, at most two minutes (a bound for a stuck test); when it
// gives up it shows the outbox and what Telegram received, which is where the reason usually is.
func (w *world) eventually(what string, cond func() bool) {
	w.t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			w.dump()
			w.t.Fatalf("gave up waiting: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (w *world) dump() {
	rows, err := w.store.Pool().Query(context.Background(), `SELECT kind, user_id, status, attempts,
		coalesce(chat_id, 0), coalesce(last_error, '') FROM notifier_outbox ORDER BY created_at`)
	if err != nil {
		w.t.Logf("outbox: %v", err)
		return
	}
	for rows.Next() {
		vals, _ := rows.Values()
		w.t.Logf("outbox: %v", vals)
	}
	rows.Close()
	for _, r := range w.tg.received() {
		w.t.Logf("telegram: chat %d answered %d: %.60q", r.ChatID, r.Status, r.Text)
	}
}

// outboxRow is a row of notifier_outbox as a test looks at it.
type outboxRow struct {
	status    string
	attempts  int
	messageID int64
	lastError string
}

func (w *world) outbox(interview uuid.UUID, kind domain.NotificationKind, user person) (outboxRow, bool) {
	w.t.Helper()
	var r outboxRow
	err := w.store.Pool().QueryRow(context.Background(), `SELECT status, attempts, coalesce(telegram_message_id, 0),
		coalesce(last_error, '') FROM notifier_outbox WHERE notification_id = $1`,
		domain.NotificationID(interview, kind, user.id)).Scan(&r.status, &r.attempts, &r.messageID, &r.lastError)
	if err != nil {
		return r, false
	}
	return r, true
}

// waitStatus waits until the message is in the outbox with status.
func (w *world) waitStatus(interview uuid.UUID, kind domain.NotificationKind, user person, status string) outboxRow {
	w.t.Helper()
	var r outboxRow
	w.eventually(string(kind)+" to "+user.id.String()+" "+status, func() bool {
		var ok bool
		r, ok = w.outbox(interview, kind, user)
		return ok && r.status == status
	})
	return r
}

// recorded is the NotificationSent of a message, if the log has one.
func (w *world) recorded(interview uuid.UUID, kind domain.NotificationKind, user person) (domain.NotificationSent, bool) {
	w.t.Helper()
	events, _, err := w.store.Load(context.Background(), domain.InterviewStream(interview))
	if err != nil {
		w.t.Fatal(err)
	}
	id := domain.NotificationID(interview, kind, user.id)
	for _, e := range events {
		if sent, ok := e.(domain.NotificationSent); ok && sent.NotificationID == id {
			return sent, true
		}
	}
	return domain.NotificationSent{}, false
}

// countRecorded counts the NotificationSent events of the whole log.
func (w *world) countRecorded() int {
	w.t.Helper()
	n, err := w.store.Log().CountEvents(context.Background(), "NotificationSent")
	if err != nil {
		w.t.Fatal(err)
	}
	return int(n)
}

// timesReceived counts what the fake received per chat and text: a message sent
// twice shows as a count of 2.
func timesReceived(got []received) map[[2]any]int {
	out := map[[2]any]int{}
	for _, r := range got {
		out[[2]any{r.ChatID, r.Text}]++
	}
	return out
}

package notifier

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/supermock/engine/domain"
)

// assertEachOnce fails the test when the fake received any message more than once.
func assertEachOnce(t *testing.T, w *world, want int) {
	t.Helper()
	got := timesReceived(w.tg.received())
	for k, times := range got {
		if times != 1 {
			t.Errorf("chat %v received %q %d times", k[0], k[1], times)
		}
	}
	if len(got) != want {
		t.Errorf("Telegram received %d distinct messages, want %d", len(got), want)
	}
}

func TestRestartInTheMiddleOfDeliverySendsNothingTwice(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	type pair struct {
		interview uuid.UUID
		who       [2]person
	}
	var pairs []pair
	for i := range 3 {
		a, b := w.user(int64(6001+2*i), "en", ""), w.user(int64(6002+2*i), "en", "")
		pairs = append(pairs, pair{w.schedule(a, b, w.start.Add(3*time.Hour)), [2]person{a, b}})
	}
	release := make(chan struct{})
	held := make(chan received, 1)
	var once sync.Once
	w.tg.setScript(func(r received, _ int) reply {
		rep := reply{}
		once.Do(func() { // the first request hangs until the test releases it
			held <- r
			rep.hold = release
		})
		return rep
	})
	// The held call must outlast the other five messages however slow the machine:
	// a timeout long enough that it never ends the call, nor a claim's lease.
	one := func(c *Config) { c.Workers, c.RequestTimeout = 1, 2*time.Minute }
	w.run(w.notifier(one).RunConsumer)
	stopFirst := w.run(w.notifier(one).RunSender)
	first := <-held

	// Stop the first sender while its call is in flight, and start another at once.
	stopped := make(chan struct{})
	go func() { defer close(stopped); stopFirst() }()
	stopSecond := w.run(w.notifier(one).RunSender)
	w.eventually("the other five messages", func() bool { return len(w.tg.received()) == 6 })
	var inFlight int
	if err := w.store.Pool().QueryRow(context.Background(),
		`SELECT count(*) FROM notifier_outbox WHERE status = 'sending' AND chat_id = $1`, first.ChatID).Scan(&inFlight); err != nil {
		t.Fatal(err)
	}
	if inFlight != 1 {
		t.Fatalf("the held message is in %d 'sending' rows, want 1: the second sender must leave it alone", inFlight)
	}
	close(release)
	<-stopped // the first sender finished its call and recorded it before stopping
	stopSecond()

	// And once more from scratch: everything is settled, nothing goes out again.
	w.run(w.notifier(one).RunSender)
	time.Sleep(300 * time.Millisecond)
	assertEachOnce(t, w, 6)
	for _, pr := range pairs {
		for _, p := range pr.who {
			row, ok := w.outbox(pr.interview, domain.NotifyInterviewScheduled, p)
			sent, recorded := w.recorded(pr.interview, domain.NotifyInterviewScheduled, p)
			if !ok || row.status != "sent" || !recorded || sent.TelegramMessageID == 0 || sent.TelegramMessageID != row.messageID {
				t.Errorf("chat %d: row %+v, NotificationSent %+v; want sent with Telegram's id in both", p.chat, row, sent)
			}
		}
	}
	if n := w.countRecorded(); n != 6 {
		t.Errorf("%d NotificationSent in the log, want 6", n)
	}
}

func TestACrashDuringTheCallIsRecordedUnknownAndNotResent(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	a, b := w.user(7001, "en", ""), w.user(7002, "en", "")
	id := w.schedule(a, b, w.start.Add(3*time.Hour))
	n := w.notifier(func(c *Config) { c.Workers = 1 })
	stopConsumer := w.run(n.RunConsumer)
	w.eventually("both messages planned", func() bool {
		_, okA := w.outbox(id, domain.NotifyInterviewScheduled, a)
		_, okB := w.outbox(id, domain.NotifyInterviewScheduled, b)
		return okA && okB
	})
	stopConsumer()
	// A sender claims a message, commits 'sending' and dies before its call answers.
	j, _, err := n.claim(context.Background())
	if err != nil || j == nil {
		t.Fatalf("claim: %v, %v", j, err)
	}
	crashed := a
	if j.userID == b.id {
		crashed = b
	}
	// While its claim may still be live, other senders leave it alone.
	stop := w.run(w.notifier(nil).RunSender)
	w.eventually("the other message", func() bool { return len(w.tg.delivered(0)) == 1 })
	stop()
	if row, _ := w.outbox(id, domain.NotifyInterviewScheduled, crashed); row.status != "sending" {
		t.Fatalf("a live claim was taken over: %+v", row)
	}
	// Once the claim is older than any call can last, a restarted sender settles it.
	if _, err := w.store.Pool().Exec(context.Background(),
		`UPDATE notifier_outbox SET claimed_at = claimed_at - interval '1 hour' WHERE status = 'sending'`); err != nil {
		t.Fatal(err)
	}
	w.run(w.notifier(nil).RunSender)
	row := w.waitStatus(id, domain.NotifyInterviewScheduled, crashed, "unknown")
	time.Sleep(200 * time.Millisecond)
	if got := w.tg.received(); len(got) != 1 || got[0].ChatID == crashed.chat {
		t.Fatalf("Telegram received %+v; the crashed message must not be resent", got)
	}
	sent, ok := w.recorded(id, domain.NotifyInterviewScheduled, crashed)
	if !ok || sent.Text != j.msg.Text || sent.TelegramError == "" || !strings.Contains(row.lastError, "stopped") {
		t.Fatalf("the crashed message: row %+v, NotificationSent %+v (%v); want it unknown and in the inbox", row, sent, ok)
	}
}

func TestACallWithoutAnswerIsNotResentAndHoldsSendingUntilTelegramAnswers(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	lost, b := w.user(8001, "en", ""), w.user(8002, "en", "")
	c, d := w.user(8003, "en", ""), w.user(8004, "en", "")
	first := w.schedule(lost, b, w.start.Add(3*time.Hour))
	w.schedule(c, d, w.start.Add(3*time.Hour))
	w.tg.setScript(func(r received, n int) reply {
		return reply{hangUp: r.ChatID == lost.chat && n == 1}
	})
	stop := w.run(w.notifier(nil).Run)
	row := w.waitStatus(first, domain.NotifyInterviewScheduled, lost, "unknown")
	w.eventually("the other three messages", func() bool { return len(w.tg.delivered(0)) == 3 })
	stop()
	w.run(w.notifier(nil).Run) // a restart changes nothing
	time.Sleep(300 * time.Millisecond)

	assertEachOnce(t, w, 4)
	if w.tg.probeCount() == 0 {
		t.Error("no getMe probe after a call without answer")
	}
	sent, ok := w.recorded(first, domain.NotifyInterviewScheduled, lost)
	if !ok || sent.TelegramMessageID != 0 || !strings.Contains(row.lastError, "no answer") {
		t.Fatalf("row %+v, NotificationSent %+v (%v); want unknown, in the inbox", row, sent, ok)
	}
}

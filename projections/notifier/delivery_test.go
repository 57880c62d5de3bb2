package notifier

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/supermock/engine/domain"
	"github.com/supermock/engine/projections"
)

func TestConfirmationReachesBothInTheirLanguageAndTimezone(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ivan := w.user(1001, "ru", "Asia/Novosibirsk")
	emma := w.user(1002, "en", "America/New_York")
	at := w.start.Add(3 * time.Hour)
	id := w.schedule(ivan, emma, at)
	w.run(w.notifier(nil).Run)
	w.waitStatus(id, domain.NotifyInterviewScheduled, ivan, "sent")
	w.waitStatus(id, domain.NotifyInterviewScheduled, emma, "sent")

	link := domain.MeetingLink(id)
	novosibirsk, _ := time.LoadLocation("Asia/Novosibirsk")
	newYork, _ := time.LoadLocation("America/New_York")
	ru := []string{"Пробное собеседование назначено", "Backend Developer", "кандидат", "Asia/Novosibirsk",
		at.In(novosibirsk).Format("15:04"), russian.months[at.In(novosibirsk).Month()-1], link}
	en := []string{"Your mock interview is confirmed", "Backend Developer", "interviewer", "America/New_York",
		at.In(newYork).Format("15:04"), english.months[at.In(newYork).Month()-1], link}
	for _, c := range []struct {
		who   person
		title string
		want  []string
	}{{ivan, "Собеседование назначено", ru}, {emma, "Interview confirmed", en}} {
		got := w.tg.delivered(c.who.chat)
		if len(got) != 1 {
			t.Fatalf("chat %d received %d messages, want 1: %+v", c.who.chat, len(got), got)
		}
		for _, part := range c.want {
			if !strings.Contains(got[0].Text, part) {
				t.Errorf("chat %d: %q lacks %q", c.who.chat, got[0].Text, part)
			}
		}
		if !got[0].NoPreview {
			t.Errorf("chat %d: sent without disable_web_page_preview", c.who.chat)
		}
		sent, ok := w.recorded(id, domain.NotifyInterviewScheduled, c.who)
		if !ok {
			t.Fatalf("no NotificationSent for chat %d", c.who.chat)
		}
		if sent.TelegramMessageID != got[0].MessageID || sent.Text != got[0].Text || sent.Title != c.title || sent.UserID != c.who.id {
			t.Errorf("NotificationSent %+v does not match what Telegram got (%+v) or title %q", sent, got[0], c.title)
		}
	}
	if all := w.tg.received(); len(all) != 2 {
		t.Fatalf("Telegram received %d messages, want 2", len(all))
	}

	// The inbox: the notifications read table shows the message as sent, then as read.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runner, err := projections.NewRunner(ctx, w.store.Pool(), w.store.Log(), []projections.Projection{projections.Notifications()}, projections.RunnerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = runner.Run(ctx) }()
	defer func() { cancel(); <-done }()
	sent, _ := w.recorded(id, domain.NotifyInterviewScheduled, ivan)
	inbox := func() (title, text string, sentAt time.Time, read bool, ok bool) {
		err := w.store.Pool().QueryRow(ctx, `SELECT title, text, sent_at, read_at IS NOT NULL FROM notifications
			WHERE notification_id = $1 AND user_id = $2`, sent.NotificationID, ivan.id).Scan(&title, &text, &sentAt, &read)
		return title, text, sentAt, read, err == nil
	}
	w.eventually("the message in Ivan's inbox", func() bool { _, _, _, _, ok := inbox(); return ok })
	title, text, sentAt, read, _ := inbox()
	if sent.Title == "" || title != sent.Title || text != sent.Text || !sentAt.Equal(sent.SentAt) || read {
		t.Fatalf("inbox row: title %q, text %q, sent %v, read %v; want %q, the sent text at %v, unread", title, text, sentAt, read, sent.Title, sent.SentAt)
	}
	if _, err := w.svc.MarkNotificationRead(ctx, domain.Meta{Actor: ivan.id.String()}, id, sent.NotificationID, ivan.id); err != nil {
		t.Fatal(err)
	}
	w.eventually("the message read in Ivan's inbox", func() bool { _, _, _, read, _ := inbox(); return read })
}

func TestTooManyRequestsWaitsRetryAfter(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	a, b := w.user(2001, "en", ""), w.user(2002, "en", "")
	id := w.schedule(a, b, w.start.Add(3*time.Hour))
	var calls atomic.Int32
	w.tg.setScript(func(received, int) reply {
		if calls.Add(1) == 1 {
			return tooManyRequests(1)
		}
		return reply{}
	})
	// One worker: a wait for one message must hold back the next one too.
	w.run(w.notifier(func(c *Config) { c.Workers = 1 }).Run)
	w.waitStatus(id, domain.NotifyInterviewScheduled, a, "sent")
	w.waitStatus(id, domain.NotifyInterviewScheduled, b, "sent")

	got := w.tg.received()
	if len(got) != 3 || got[0].Status != 429 {
		t.Fatalf("Telegram received %+v; want a 429 then the two messages", got)
	}
	for _, r := range got[1:] {
		if wait := r.At.Sub(got[0].At); wait < time.Second {
			t.Errorf("a message came %v after the 429, before its retry_after of 1s", wait)
		}
	}
	for k, times := range timesReceived(w.tg.delivered(0)) {
		if times != 1 {
			t.Errorf("%v delivered %d times", k, times)
		}
	}
}

func TestBurstOf5xxBacksOffWithoutHoldingOthersBack(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	flaky, b := w.user(3001, "en", ""), w.user(3002, "en", "")
	c, d := w.user(3003, "en", ""), w.user(3004, "en", "")
	first := w.schedule(flaky, b, w.start.Add(3*time.Hour))
	second := w.schedule(c, d, w.start.Add(3*time.Hour))
	w.tg.setScript(func(r received, n int) reply {
		if r.ChatID == flaky.chat && n <= 3 {
			return badGateway()
		}
		return reply{}
	})
	const base = 200 * time.Millisecond
	w.run(w.notifier(func(c *Config) { c.Workers, c.RetryBase, c.RetryMax = 1, base, 4*base }).Run)
	row := w.waitStatus(first, domain.NotifyInterviewScheduled, flaky, "sent")
	for _, p := range []person{b, c, d} {
		iv := first
		if p != b {
			iv = second
		}
		w.waitStatus(iv, domain.NotifyInterviewScheduled, p, "sent")
	}

	var tries []received
	for _, r := range w.tg.received() {
		if r.ChatID == flaky.chat {
			tries = append(tries, r)
		}
	}
	if len(tries) != 4 || row.attempts != 4 || tries[3].MessageID == 0 {
		t.Fatalf("the flaky chat got %d requests (%d attempts recorded), want 3 failures then a success", len(tries), row.attempts)
	}
	for i := 1; i < len(tries); i++ {
		// Backoff i is drawn from [base·2^(i-1)/2, base·2^(i-1)].
		if gap, least := tries[i].At.Sub(tries[i-1].At), base<<(i-1)/2; gap < least {
			t.Errorf("retry %d came %v after the failure before it, want at least %v", i, gap, least)
		}
	}
	for _, p := range []person{b, c, d} {
		got := w.tg.delivered(p.chat)
		if len(got) != 1 || !got[0].At.Before(tries[3].At) {
			t.Errorf("chat %d: %d messages; want one, delivered while the flaky chat was backing off", p.chat, len(got))
		}
	}
}

func TestBlockedUserIsRecordedFailedOnceAndKeepsTheInbox(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	blocker, b := w.user(4001, "en", ""), w.user(4002, "en", "")
	id := w.schedule(blocker, b, w.start.Add(3*time.Hour))
	w.tg.setScript(func(r received, _ int) reply {
		if r.ChatID == blocker.chat {
			return blockedByUser()
		}
		return reply{}
	})
	w.run(w.notifier(nil).Run)
	row := w.waitStatus(id, domain.NotifyInterviewScheduled, blocker, "failed")
	w.waitStatus(id, domain.NotifyInterviewScheduled, b, "sent")
	time.Sleep(300 * time.Millisecond) // many poll intervals: room for a wrong retry

	if got := len(timesReceived(w.tg.received())); got != 2 {
		t.Fatalf("Telegram saw %d distinct messages, want 2", got)
	}
	var toBlocker int
	for _, r := range w.tg.received() {
		if r.ChatID == blocker.chat {
			toBlocker++
		}
	}
	if toBlocker != 1 || !strings.Contains(row.lastError, "blocked") {
		t.Fatalf("the blocked chat was called %d times (want 1); the row says %q", toBlocker, row.lastError)
	}
	sent, ok := w.recorded(id, domain.NotifyInterviewScheduled, blocker)
	if !ok || sent.TelegramMessageID != 0 || !strings.Contains(sent.TelegramError, "blocked") || sent.Text == "" {
		t.Fatalf("NotificationSent for the blocked user: %+v (recorded %v); want the inbox copy with the reason", sent, ok)
	}
}

func TestWithoutTokenMessagesReachOnlyTheInbox(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	a, b := w.user(5001, "ru", ""), w.user(5002, "en", "")
	id := w.schedule(a, b, w.start.Add(3*time.Hour))
	w.run(w.notifier(func(c *Config) { c.Token = "" }).Run)
	for _, p := range []person{a, b} {
		w.waitStatus(id, domain.NotifyInterviewScheduled, p, "inbox")
		sent, ok := w.recorded(id, domain.NotifyInterviewScheduled, p)
		if !ok || sent.TelegramMessageID != 0 || sent.Text == "" || sent.Title == "" {
			t.Fatalf("NotificationSent for %d: %+v (recorded %v); want text and title, no Telegram id", p.chat, sent, ok)
		}
	}
	if got := w.tg.received(); len(got) != 0 {
		t.Fatalf("Telegram was called %d times with delivery off", len(got))
	}
}

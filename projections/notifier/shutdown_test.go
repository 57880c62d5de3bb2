package notifier

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"
)

// A deploy stops the sender at any moment: in a claim, in a call, in the write after
// it. Over hundreds of such stops no message may be lost or sent twice, and one may be
// 'unknown' only if its call really reached Telegram.
func TestStoppingTheSenderAtRandomMomentsLosesNoMessage(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	const pairs, slots = 10, 15 // 150 interviews, two confirmations each
	for p := range pairs {
		a, b := w.user(int64(20001+2*p), "en", ""), w.user(int64(20002+2*p), "en", "")
		for s := range slots {
			w.schedule(a, b, w.start.Add(time.Duration(3+3*s)*time.Hour))
		}
	}
	const want = 2 * pairs * slots
	w.run(w.notifier(nil).RunConsumer)
	w.eventually("every confirmation planned", func() bool { return w.countOutbox("") == want })

	n := w.notifier(func(c *Config) { c.Workers = 4 })
	w.eventually("every message settled while the sender keeps being stopped", func() bool {
		if w.countOutbox("pending")+w.countOutbox("sending") == 0 {
			return true
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- n.RunSender(ctx) }()
		time.Sleep(rand.N(60 * time.Millisecond))
		cancel()
		<-done
		return false
	})

	times := timesReceived(w.tg.received())
	rows, err := w.store.Pool().Query(context.Background(),
		`SELECT status, coalesce(chat_id, 0), coalesce(text, '') FROM notifier_outbox`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var status, text string
		var chat int64
		if err := rows.Scan(&status, &chat, &text); err != nil {
			t.Fatal(err)
		}
		got := times[[2]any{chat, text}]
		switch {
		case status == "sent" && got == 1:
		case status == "unknown" && got == 1:
		default:
			t.Errorf("a message to chat %d is %s and reached Telegram %d times: want sent once, or unknown after one call", chat, status, got)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(times) != want {
		t.Errorf("Telegram received %d distinct messages, want %d", len(times), want)
	}
	if n := w.countRecorded(); n != want {
		t.Errorf("%d NotificationSent in the log, want %d", n, want)
	}
}

// countOutbox counts the outbox rows with status, or all of them for "".
func (w *world) countOutbox(status string) int {
	w.t.Helper()
	var n int
	if err := w.store.Pool().QueryRow(context.Background(),
		`SELECT count(*) FROM notifier_outbox WHERE $1 = '' OR status = $1`, status).Scan(&n); err != nil {
		w.t.Fatal(err)
	}
	return n
}

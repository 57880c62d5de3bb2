package notifier

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/supermock/engine/domain"
)

// texts lists the messages chat received, in order.
func (w *world) texts(chat int64) []string {
	var out []string
	for _, r := range w.tg.delivered(chat) {
		out = append(out, r.Text)
	}
	return out
}

func (w *world) planDue(n *Notifier) {
	w.t.Helper()
	if _, err := n.PlanDue(context.Background()); err != nil {
		w.t.Fatal(err)
	}
}

func TestRemindersComeThirtyMinutesBeforeButNotForACancelledInterview(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	a, b := w.user(9001, "en", ""), w.user(9002, "ru", "")
	c, d := w.user(9003, "en", ""), w.user(9004, "en", "")
	e, f := w.user(9005, "en", ""), w.user(9006, "en", "")
	at := w.start.Add(2 * time.Hour)
	kept, seen, unseen := w.schedule(a, b, at), w.schedule(c, d, at), w.schedule(e, f, at)
	n := w.notifier(nil)
	stop := w.run(n.Run)
	for iv, pair := range map[uuid.UUID][2]person{kept: {a, b}, seen: {c, d}, unseen: {e, f}} {
		for _, p := range pair {
			w.waitStatus(iv, domain.NotifyInterviewScheduled, p, "sent")
		}
	}
	stop()

	// One minute early, nothing is due; at 30 minutes before, reminders are planned.
	w.clock.Set(at.Add(-domain.ReminderLead - time.Minute))
	w.planDue(n)
	if _, ok := w.outbox(kept, domain.NotifyInterviewReminder, a); ok {
		t.Fatal("a reminder was planned 31 minutes before the interview")
	}
	w.clock.Set(at.Add(-domain.ReminderLead))
	w.planDue(n)
	for _, p := range []person{a, d, f} {
		if row, ok := w.outbox(map[person]uuid.UUID{a: kept, d: seen, f: unseen}[p], domain.NotifyInterviewReminder, p); !ok || row.status != "pending" {
			t.Fatalf("the reminder to %d is not pending at 30 minutes before: %+v", p.chat, row)
		}
	}
	cancel := func(iv uuid.UUID, by person) {
		t.Helper()
		if _, err := w.svc.CancelInterview(context.Background(), domain.Meta{Actor: by.id.String()}, iv, by.id, "ill"); err != nil {
			t.Fatal(err)
		}
	}
	// The consumer drops the reminders of a cancellation it sees, with no sender running.
	cancel(seen, c)
	stop = w.run(n.RunConsumer)
	for _, p := range []person{c, d} {
		w.waitStatus(seen, domain.NotifyInterviewReminder, p, "dropped")
	}
	stop()
	// A sender that claims the reminder of a cancellation the consumer has not seen yet
	// asks the domain first, and drops it.
	cancel(unseen, e)
	stop = w.run(n.RunSender)
	for _, p := range []person{e, f} {
		w.waitStatus(unseen, domain.NotifyInterviewReminder, p, "dropped")
	}
	stop()
	w.run(w.notifier(nil).Run)
	w.waitStatus(kept, domain.NotifyInterviewReminder, a, "sent")
	w.waitStatus(kept, domain.NotifyInterviewReminder, b, "sent")
	w.waitStatus(seen, domain.NotifyInterviewCancelled, d, "sent")
	w.waitStatus(unseen, domain.NotifyInterviewCancelled, f, "sent")
	time.Sleep(200 * time.Millisecond)

	for _, p := range []person{c, e} {
		if got := w.texts(p.chat); len(got) != 1 {
			t.Errorf("chat %d, who cancelled, got %q; want only the confirmation", p.chat, got)
		}
	}
	for _, p := range []person{d, f} {
		if got := w.texts(p.chat); len(got) != 2 || !strings.Contains(got[1], "was cancelled by the other side") {
			t.Errorf("chat %d got %q; want the confirmation and the cancellation, no reminder", p.chat, got)
		}
	}
	want := map[person]string{a: "starts in 30 minutes", b: "начнётся через 30 минут"}
	for p, phrase := range want {
		got := w.texts(p.chat)
		if len(got) != 2 || !strings.Contains(got[1], phrase) || !strings.Contains(got[1], domain.MeetingLink(kept)) {
			t.Errorf("chat %d got %q; want the confirmation, then a reminder with the link", p.chat, got)
		}
	}
}

func TestAtMostOneFeedbackReminder(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	answers, silent := w.user(9101, "en", ""), w.user(9102, "en", "")
	at := w.start.Add(2 * time.Hour)
	id := w.schedule(answers, silent, at)
	n := w.notifier(nil)
	stop := w.run(n.Run)
	for _, p := range []person{answers, silent} {
		w.waitStatus(id, domain.NotifyInterviewScheduled, p, "sent")
	}
	ctx := context.Background()
	w.clock.Set(at)
	if _, err := w.svc.StartInterview(ctx, domain.Meta{}, id, answers.id); err != nil {
		t.Fatal(err)
	}
	completed := at.Add(55 * time.Minute)
	w.clock.Set(completed)
	if _, err := w.svc.CompleteInterview(ctx, domain.Meta{}, id, answers.id); err != nil {
		t.Fatal(err)
	}
	for _, p := range []person{answers, silent} {
		w.waitStatus(id, domain.NotifyFeedbackRequest, p, "sent")
	}
	w.clock.Set(completed.Add(time.Minute))
	if _, err := w.svc.SubmitFeedback(ctx, domain.Meta{}, id, answers.id, domain.FeedbackInput{Rating: 5}); err != nil {
		t.Fatal(err)
	}
	stop()

	w.clock.Set(completed.Add(domain.FeedbackReminderDelay - time.Minute))
	w.planDue(n)
	if _, ok := w.outbox(id, domain.NotifyFeedbackReminder, silent); ok {
		t.Fatal("a feedback reminder was planned before it was due")
	}
	// The day after, and much later, with restarts in between.
	for _, later := range []time.Duration{0, time.Hour, 48 * time.Hour, 10 * 24 * time.Hour} {
		w.clock.Set(completed.Add(domain.FeedbackReminderDelay + later))
		stop := w.run(w.notifier(nil).Run)
		w.waitStatus(id, domain.NotifyFeedbackReminder, silent, "sent")
		time.Sleep(100 * time.Millisecond)
		stop()
	}

	if got := w.texts(answers.chat); len(got) != 2 || strings.Contains(got[1], "not rated") {
		t.Errorf("the one who answered got %q; want the confirmation and the feedback request only", got)
	}
	got := w.texts(silent.chat)
	var reminders int
	for _, text := range got {
		if strings.Contains(text, "You have not rated") {
			reminders++
		}
	}
	if len(got) != 3 || reminders != 1 || !strings.Contains(got[1], "Please rate the other side") {
		t.Errorf("the silent one got %q; want the confirmation, the feedback request and one reminder", got)
	}
	if next := w.nextDue(id); !next.IsZero() {
		t.Errorf("the interview still expects a message at %v; nothing more is coming", next)
	}
}

// nextDue is when the notifier will look at the interview again; zero for never.
func (w *world) nextDue(id uuid.UUID) time.Time {
	w.t.Helper()
	var next time.Time
	_ = w.store.Pool().QueryRow(context.Background(), `SELECT next_due_at FROM notifier_interviews WHERE interview_id = $1`, id).Scan(&next)
	return next
}

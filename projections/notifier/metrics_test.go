package notifier

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/supermock/engine/domain"
	"github.com/supermock/engine/internal/testdb"
)

// Each kind of answer Telegram gives is counted in its class, and each settled
// message under its status. Other tests of the package count too, so the counts are
// compared as at least what this test caused.
func TestTelegramAnswersAndOutcomesAreCounted(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	flood, gateway := w.user(3101, "en", ""), w.user(3102, "en", "")
	blocker, lost := w.user(3103, "en", ""), w.user(3104, "en", "")
	first, second := w.schedule(flood, gateway, w.start.Add(3*time.Hour)), w.schedule(blocker, lost, w.start.Add(3*time.Hour))
	w.tg.setScript(func(r received, n int) reply {
		switch {
		case r.ChatID == flood.chat && n == 1:
			return tooManyRequests(1)
		case r.ChatID == gateway.chat && n == 1:
			return badGateway()
		case r.ChatID == blocker.chat:
			return blockedByUser()
		case r.ChatID == lost.chat:
			return reply{hangUp: true}
		}
		return reply{}
	})
	classes := []string{"ok", "429", "5xx", "403", "lost"}
	statuses := []string{"sent", "failed", "unknown"}
	before := map[string]float64{}
	for _, c := range classes {
		before["class "+c] = testutil.ToFloat64(answers.WithLabelValues(c))
	}
	for _, s := range statuses {
		before["status "+s] = testutil.ToFloat64(settled.WithLabelValues(s))
	}

	w.run(w.notifier(nil).Run)
	w.waitStatus(first, domain.NotifyInterviewScheduled, flood, "sent")
	w.waitStatus(first, domain.NotifyInterviewScheduled, gateway, "sent")
	w.waitStatus(second, domain.NotifyInterviewScheduled, blocker, "failed")
	w.waitStatus(second, domain.NotifyInterviewScheduled, lost, "unknown")

	want := map[string]float64{"class ok": 2, "class 429": 1, "class 5xx": 1, "class 403": 1, "class lost": 1,
		"status sent": 2, "status failed": 1, "status unknown": 1}
	// A message is counted once its row's commit has returned, just after the row reads
	// settled.
	testdb.Eventually(t, 30*time.Second, func() bool {
		for _, s := range statuses {
			if testutil.ToFloat64(settled.WithLabelValues(s))-before["status "+s] < want["status "+s] {
				return false
			}
		}
		return true
	})
	for _, c := range classes {
		if got := testutil.ToFloat64(answers.WithLabelValues(c)) - before["class "+c]; got < want["class "+c] {
			t.Errorf("Telegram answers of class %s counted %v times, want at least %v", c, got, want["class "+c])
		}
	}
	for _, s := range statuses {
		if got := testutil.ToFloat64(settled.WithLabelValues(s)) - before["status "+s]; got < want["status "+s] {
			t.Errorf("messages settled %s counted %v times, want at least %v", s, got, want["status "+s])
		}
	}
}

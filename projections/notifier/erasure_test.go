package notifier

import (
	"context"
	"testing"
	"time"

	"github.com/supermock/engine/domain"
)

// Nothing more is sent to a user whose personal data was erased: their messages are
// dropped, their partner's go out.
func TestAnErasedUserIsSentNothing(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	erased, partner := w.user(4101, "en", ""), w.user(4102, "en", "")
	id := w.schedule(erased, partner, w.start.Add(3*time.Hour))
	svc, err := domain.NewService(w.store, domain.Config{Clock: w.clock, Keys: w.store})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ErasePersonalData(context.Background(), domain.Meta{Actor: erased.id.String()}, erased.id, erased.id); err != nil {
		t.Fatal(err)
	}
	w.run(w.notifier(nil).Run)
	w.waitStatus(id, domain.NotifyInterviewScheduled, partner, "sent")
	w.waitStatus(id, domain.NotifyInterviewScheduled, erased, "dropped")
	if got := w.tg.delivered(erased.chat); len(got) != 0 {
		t.Fatalf("the erased user was sent %+v", got)
	}
}

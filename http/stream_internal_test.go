package http

import (
	"context"
	"log/slog"
	"testing"

	"github.com/google/uuid"

	"github.com/supermock/engine/eventstore"
)

// A connection that falls a buffer behind is dropped, and gets nothing after the frame
// it missed: its client resumes from the last frame it wrote. The user's other
// connections go on.
func TestHubDropsAConnectionThatFallsBehind(t *testing.T) {
	h := newHub(nil, renderer{}, streamConfig{buffer: 2}, slog.New(slog.DiscardHandler))
	h.active = true // a tail is running: subscribing does not read the head
	user := uuid.New()
	slow, _, err := h.subscribe(context.Background(), user)
	if err != nil {
		t.Fatal(err)
	}
	fast, _, err := h.subscribe(context.Background(), user)
	if err != nil {
		t.Fatal(err)
	}
	frames := make([]*frame, 4)
	for i := range frames {
		frames[i] = &frame{at: eventstore.Position{TxID: 10, Offset: int64(i + 1)}}
	}
	for i, f := range frames {
		if i == 3 {
			<-slow.frames // the slow one writes one: room again, but it already missed one
		}
		h.send(slow, f)
		h.send(fast, f)
		if got := <-fast.frames; got != f {
			t.Fatalf("the fast connection got %v, want %v", got, f)
		}
	}
	select {
	case <-slow.gone:
	default:
		t.Fatal("the slow connection was not dropped")
	}
	if len(slow.frames) != 1 || <-slow.frames != frames[1] {
		t.Fatal("the slow connection holds frames other than the two before the one it missed")
	}
	if subs := h.subs[user]; len(subs) != 1 || subs[0] != fast || h.open != 1 {
		t.Fatalf("subscribed after the drop: %v (%d open)", subs, h.open)
	}
}

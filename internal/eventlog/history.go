package eventlog

import (
	"container/list"
	"sync"

	"github.com/supermock/engine/domain"
)

// historyStreams bounds how many streams the history keeps (the least recently loaded
// go first): enough for every active user and interview of a site of this size.
const historyStreams = 20_000

// history keeps the decoded events of recently loaded streams, so that a load reads and
// decodes only what was appended since: a command's reads stay bounded however long its
// stream grows. It holds only committed events (read outside any transaction) and
// never stands in for the log: the rest of the stream is always read, and the append
// is still checked against the stream's version in the log.
type history struct {
	mu      sync.Mutex
	streams map[string]*list.Element
	order   *list.List // of *historyEntry, most recently loaded first
}

type historyEntry struct {
	stream string
	events []domain.Event
}

func newHistory() *history {
	return &history{streams: map[string]*list.Element{}, order: list.New()}
}

// known returns the events of stream kept so far, which the caller must not modify.
func (h *history) known(stream string) []domain.Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	el, ok := h.streams[stream]
	if !ok {
		return nil
	}
	h.order.MoveToFront(el)
	events := el.Value.(*historyEntry).events
	return events[:len(events):len(events)] // appends to it copy
}

// keep records the committed events of stream, unless more of them are kept already.
func (h *history) keep(stream string, events []domain.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if el, ok := h.streams[stream]; ok {
		entry := el.Value.(*historyEntry)
		if len(events) > len(entry.events) {
			entry.events = events
		}
		h.order.MoveToFront(el)
		return
	}
	h.streams[stream] = h.order.PushFront(&historyEntry{stream: stream, events: events})
	if h.order.Len() > historyStreams {
		oldest := h.order.Back()
		h.order.Remove(oldest)
		delete(h.streams, oldest.Value.(*historyEntry).stream)
	}
}

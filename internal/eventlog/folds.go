package eventlog

import (
	"container/list"
	"reflect"
	"sync"

	"github.com/supermock/engine/domain"
)

// foldStreams bounds how many streams the folds keep (the least recently loaded go
// first): enough for every active user and interview of a site of this size.
const foldStreams = 20_000

// folds keeps the aggregates of recently loaded streams folded to a version, in memory
// only, so that a load reads, decodes and folds only what was appended since: a
// command's cost stays flat however long its stream grows. It holds only committed
// events (folded outside any transaction) and never stands in for the log: the rest of
// the stream is always read, and the append is still checked against the stream's
// version in the log.
//
// An erasure empties it: an aggregate folded before may hold the erased user's
// personal data in clear (an interview's feedback comment), which the log no longer
// gives. A fold that started before the erasure carries the older generation, so it
// cannot put such an aggregate back.
type folds struct {
	mu         sync.Mutex
	generation uint64
	streams    map[string]*list.Element
	order      *list.List // of *foldEntry, most recently loaded first
}

type foldEntry struct {
	stream string
	snap   domain.Snapshot
}

func newFolds() *folds {
	return &folds{streams: map[string]*list.Element{}, order: list.New()}
}

// known returns the kept aggregate of stream if it is of empty's kind, or of any kind
// if empty is nil (else empty), which the caller must not change, the generation to
// keep its successor under, and whether one was kept.
func (f *folds) known(stream string, empty domain.Snapshot) (domain.Snapshot, uint64, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	el, ok := f.streams[stream]
	if !ok {
		return empty, f.generation, false
	}
	f.order.MoveToFront(el)
	snap := el.Value.(*foldEntry).snap
	if empty != nil && reflect.TypeOf(snap) != reflect.TypeOf(empty) {
		return empty, f.generation, false
	}
	return snap, f.generation, true
}

// keep records the committed aggregate of stream, unless one of a later version is
// kept already or the folds were emptied since generation.
func (f *folds) keep(stream string, snap domain.Snapshot, generation uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if generation != f.generation {
		return
	}
	f.put(stream, snap)
}

// erase empties the folds, keeping only snap, if given: the aggregate of an erased
// user, which holds nothing of theirs in clear, so it is not folded anew each time.
func (f *folds) erase(stream string, snap domain.Snapshot) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.generation++
	clear(f.streams)
	f.order.Init()
	if snap != nil {
		f.put(stream, snap)
	}
}

func (f *folds) put(stream string, snap domain.Snapshot) {
	if el, ok := f.streams[stream]; ok {
		entry := el.Value.(*foldEntry)
		if snap.Version() > entry.snap.Version() || reflect.TypeOf(snap) != reflect.TypeOf(entry.snap) {
			entry.snap = snap
		}
		f.order.MoveToFront(el)
		return
	}
	f.streams[stream] = f.order.PushFront(&foldEntry{stream: stream, snap: snap})
	if f.order.Len() > foldStreams {
		oldest := f.order.Back()
		f.order.Remove(oldest)
		delete(f.streams, oldest.Value.(*foldEntry).stream)
	}
}

// erases reports whether events record an erasure of personal data.
func erases(events []domain.Event) bool {
	erased := domain.PersonalDataErased{}.EventType()
	for _, e := range events {
		if e.EventType() == erased {
			return true
		}
	}
	return false
}

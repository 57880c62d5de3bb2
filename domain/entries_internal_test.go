package domain

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/uuid"
)

// The entries in the queue are always those of the list whose status is waiting, in
// join order, over chunks and through copies that change the same entries differently.
func TestEntriesInTheQueueFollowTheirStatuses(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 14))
	statuses := []EntryStatus{EntryWaiting, EntryMatched, EntryCancelled, EntryExpired}
	check := func(step int, l *entryList) {
		t.Helper()
		var want, got []uuid.UUID
		for e := range l.all() {
			if e.Status == EntryWaiting {
				want = append(want, e.ID)
			}
		}
		for e := range l.inQueue() {
			got = append(got, e.ID)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("step %d: in the queue %v, want %v", step, got, want)
		}
	}
	var ids []uuid.UUID
	lists := []*entryList{{}}
	for step := range 3000 {
		l := lists[rng.IntN(len(lists))]
		switch op := rng.IntN(10); {
		case op < 3 && len(ids) < 300:
			id := uuid.New()
			ids = append(ids, id)
			for _, l := range lists {
				l.add(UserEntry{Status: EntryWaiting, QueueEntry: QueueEntry{ID: id}})
			}
		case op < 9 && len(ids) > 0:
			l.setStatus(ids[rng.IntN(len(ids))], statuses[rng.IntN(len(statuses))], uuid.Nil)
		case len(lists) < 4:
			c := l.clone()
			lists = append(lists, &c)
		}
		for _, l := range lists {
			check(step, l)
		}
	}
}

package domain

import (
	"iter"
	"slices"

	"github.com/google/uuid"
)

// entryChunk is how many entries one chunk of an entryList holds.
const entryChunk = 64

// entryList is a user's queue entries in join order, in chunks: a copy of the user
// (Advance) shares every chunk with the user it was copied from and copies a chunk
// only to change it, so a load costs the same whatever the user has done before.
type entryList struct {
	chunks [][]UserEntry
	owned  []bool // whether this copy may change the chunk in place
	// waiting are the places (join order) of the entries in the queue: what a new
	// window is checked against, however many entries the user had before.
	waiting []int
}

// clone is the list for a copy of the user, sharing every chunk.
func (l entryList) clone() entryList {
	return entryList{chunks: slices.Clone(l.chunks), owned: make([]bool, len(l.chunks)), waiting: slices.Clone(l.waiting)}
}

// own makes chunk c this copy's own to change.
func (l *entryList) own(c int) {
	if !l.owned[c] {
		l.chunks[c] = append(make([]UserEntry, 0, entryChunk), l.chunks[c]...)
		l.owned[c] = true
	}
}

func (l *entryList) add(e UserEntry) {
	last := len(l.chunks) - 1
	if last < 0 || len(l.chunks[last]) == entryChunk {
		l.chunks = append(l.chunks, make([]UserEntry, 0, entryChunk))
		l.owned = append(l.owned, true)
		last++
	}
	l.own(last)
	if e.Status == EntryWaiting {
		l.waiting = append(l.waiting, last*entryChunk+len(l.chunks[last]))
	}
	l.chunks[last] = append(l.chunks[last], e)
}

// find looks from the newest entry back, where commands mostly look.
func (l *entryList) find(id uuid.UUID) (c, i int, ok bool) {
	for c = len(l.chunks) - 1; c >= 0; c-- {
		for i = len(l.chunks[c]) - 1; i >= 0; i-- {
			if l.chunks[c][i].ID == id {
				return c, i, true
			}
		}
	}
	return 0, 0, false
}

func (l *entryList) get(id uuid.UUID) (UserEntry, bool) {
	c, i, ok := l.find(id)
	if !ok {
		return UserEntry{}, false
	}
	return l.chunks[c][i], true
}

func (l *entryList) setStatus(id uuid.UUID, s EntryStatus, interviewID uuid.UUID) {
	c, i, ok := l.find(id)
	if !ok {
		return
	}
	l.own(c)
	l.chunks[c][i].Status, l.chunks[c][i].InterviewID = s, interviewID
	place := c*entryChunk + i
	at, listed := slices.BinarySearch(l.waiting, place)
	switch {
	case s == EntryWaiting && !listed:
		l.waiting = slices.Insert(l.waiting, at, place)
	case s != EntryWaiting && listed:
		l.waiting = slices.Delete(l.waiting, at, at+1)
	}
}

func (l *entryList) len() int {
	n := 0
	for _, c := range l.chunks {
		n += len(c)
	}
	return n
}

// inQueue are the entries waiting in the queue, in join order.
func (l *entryList) inQueue() iter.Seq[UserEntry] {
	return func(yield func(UserEntry) bool) {
		for _, place := range l.waiting {
			if !yield(l.chunks[place/entryChunk][place%entryChunk]) {
				return
			}
		}
	}
}

// all are the entries in join order.
func (l *entryList) all() iter.Seq[UserEntry] {
	return func(yield func(UserEntry) bool) {
		for _, c := range l.chunks {
			for _, e := range c {
				if !yield(e) {
					return
				}
			}
		}
	}
}

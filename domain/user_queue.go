package domain

import (
	"time"

	"github.com/google/uuid"
)

// MaxWaitingEntries is how many entries a user may have waiting at once (rule 2).
const MaxWaitingEntries = 3

// QueueInput is a join request as a client sends it (rule 1). "As soon as possible"
// is a window starting now (or any time in the past).
type QueueInput struct {
	Role        string
	Profession  string
	Language    string
	WindowStart time.Time
	WindowEnd   time.Time
}

// JoinQueue adds a waiting entry (rules 1 and 2). Reusing an entry id records nothing,
// so a retried command cannot join twice.
func (u *User) JoinQueue(entryID uuid.UUID, in QueueInput, now time.Time, duration time.Duration) error {
	var c checks
	role, err := ParseInterviewRole(in.Role)
	c.check("role", err)
	profession, err := ParseProfession(in.Profession)
	c.check("profession", err)
	language, err := ParseLanguage(in.Language)
	c.check("language", err)
	now = utc(now)
	w, err := NewWindow(utc(in.WindowStart), utc(in.WindowEnd), now, duration)
	if err != nil {
		c.check(windowField(err), err)
	}
	if err := c.err(); err != nil {
		return err
	}
	if _, ok := u.Entry(entryID); ok {
		return nil
	}
	if err := u.checkFree(w, uuid.Nil, uuid.Nil, now, duration); err != nil {
		return err
	}
	u.record(QueueJoined{
		UserID: u.id, EntryID: entryID, Role: role, Profession: profession, Language: language,
		WindowStart: w.Start, WindowEnd: w.End, JoinedAt: now,
	})
	return nil
}

// checkFree applies the state rules of rule 2 to a window: fewer than 3 waiting
// entries, no overlap with them nor with a scheduled interview. Entries whose window
// can no longer fit an interview are expired in all but name and do not count, so a
// slow expiry scheduler never blocks a user. skipEntry and skipInterview are left out.
func (u *User) checkFree(w Window, skipEntry, skipInterview uuid.UUID, now time.Time, duration time.Duration) error {
	waiting := 0
	overlaps := false
	for e := range u.entries.inQueue() {
		if e.ID == skipEntry || e.Window.Expired(now, duration) {
			continue
		}
		waiting++
		overlaps = overlaps || e.Window.Overlaps(w)
	}
	if waiting >= MaxWaitingEntries {
		return ErrQueueTooManyEntries
	}
	if overlaps {
		return ErrQueueWindowOverlaps
	}
	for id, s := range u.interviews {
		if id != skipInterview && Window(s).Overlaps(w) {
			return ErrQueueWindowOverlapsMeeting
		}
	}
	return nil
}

// LeaveQueue withdraws a waiting entry. An entry already out of the queue (left or
// expired) records nothing; a matched one is left by cancelling its interview.
func (u *User) LeaveQueue(entryID uuid.UUID, now time.Time) error {
	e, ok := u.Entry(entryID)
	if !ok {
		return ErrQueueEntryNotFound
	}
	switch e.Status {
	case EntryCancelled, EntryExpired:
		return nil
	case EntryMatched:
		return ErrQueueEntryNotWaiting
	}
	u.record(QueueLeft{
		UserID: u.id, EntryID: e.ID, Role: e.Role, Profession: e.Profession, Language: e.Language,
		WindowStart: e.Window.Start, WindowEnd: e.Window.End, LeftAt: utc(now),
	})
	return nil
}

// leaveWaiting withdraws every waiting entry, in join order.
func (u *User) leaveWaiting(now time.Time) error {
	for _, e := range u.WaitingEntries() {
		if err := u.LeaveQueue(e.ID, now); err != nil {
			return err
		}
	}
	return nil
}

// ExpireEntry ends a waiting entry whose window can no longer fit an interview
// (rule 6). It is driven by time only: an entry that still fits is refused however
// old it is. An entry no longer waiting records nothing, since a match may win the race.
func (u *User) ExpireEntry(entryID uuid.UUID, now time.Time, duration time.Duration) error {
	e, ok := u.Entry(entryID)
	if !ok {
		return ErrQueueEntryNotFound
	}
	if e.Status != EntryWaiting {
		return nil
	}
	now = utc(now)
	if !e.Window.Expired(now, duration) {
		return ErrQueueEntryNotExpired
	}
	u.record(QueueEntryExpired{
		UserID: u.id, EntryID: e.ID, Role: e.Role, Profession: e.Profession, Language: e.Language,
		WindowStart: e.Window.Start, WindowEnd: e.Window.End, ExpiredAt: now,
	})
	return nil
}

// WaitingEntries are the entries in the queue, in join order, whether or not their
// window still fits: the expiry scheduler needs those too.
func (u *User) WaitingEntries() []QueueEntry {
	var out []QueueEntry
	for e := range u.entries.inQueue() {
		out = append(out, e.QueueEntry)
	}
	return out
}

// waitingEntry is an entry the matchmaker may still pair.
func (u *User) waitingEntry(entryID uuid.UUID) (QueueEntry, error) {
	e, ok := u.Entry(entryID)
	if !ok {
		return QueueEntry{}, ErrQueueEntryNotFound
	}
	if e.Status != EntryWaiting {
		return QueueEntry{}, ErrQueueEntryNotWaiting
	}
	return e.QueueEntry, nil
}

// requeueable decides rule 7 for the side that did not cancel: its matched entry goes
// back when its window still fits an interview and rule 2 still holds for it.
func (u *User) requeueable(interviewID uuid.UUID, now time.Time, duration time.Duration) (QueueEntry, bool) {
	for e := range u.entries.all() {
		if e.Status != EntryMatched || e.InterviewID != interviewID {
			continue
		}
		if e.Window.Expired(now, duration) || u.checkFree(e.Window, e.ID, interviewID, now, duration) != nil {
			return QueueEntry{}, false
		}
		return e.QueueEntry, true
	}
	return QueueEntry{}, false
}

package domain

import (
	"fmt"
	"time"

	"github.com/google/uuid"
)

// QueueEntry is a waiting entry as the matchmaker sees it: plain data, built from
// QueueJoined or QueueEntryRequeued, whose rules were checked when it was recorded.
type QueueEntry struct {
	ID         uuid.UUID
	UserID     uuid.UUID
	Role       InterviewRole
	Profession Profession
	Language   Language
	Window     Window
}

// EntryFromJoined and EntryFromRequeued let the matchmaker build its waiting list
// from the log alone.
func EntryFromJoined(e QueueJoined) QueueEntry {
	return QueueEntry{ID: e.EntryID, UserID: e.UserID, Role: e.Role, Profession: e.Profession,
		Language: e.Language, Window: Window{Start: e.WindowStart, End: e.WindowEnd}}
}

func EntryFromRequeued(e QueueEntryRequeued) QueueEntry {
	return QueueEntry{ID: e.EntryID, UserID: e.UserID, Role: e.Role, Profession: e.Profession,
		Language: e.Language, Window: Window{Start: e.WindowStart, End: e.WindowEnd}}
}

// Compatible applies rule 3: opposite roles, same profession and language, different
// users, and a slot both windows hold counting from now.
func Compatible(a, b QueueEntry, now time.Time, duration time.Duration) (Slot, error) {
	if a.UserID == b.UserID {
		return Slot{}, ErrMatchSameUser
	}
	if b.Role == "" || a.Role.Opposite() != b.Role || a.Profession != b.Profession || a.Language != b.Language {
		return Slot{}, ErrMatchIncompatible
	}
	slot, ok := SlotFor(a.Window, b.Window, now, duration)
	if !ok {
		return Slot{}, ErrMatchNoSlot
	}
	return slot, nil
}

// FindMatch applies rule 4: waiting must be in log order (oldest first) and the first
// compatible entry wins, even when a later one would give an earlier slot.
func FindMatch(entry QueueEntry, waiting []QueueEntry, now time.Time, duration time.Duration) (QueueEntry, Slot, bool) {
	for _, other := range waiting {
		if other.ID == entry.ID {
			continue
		}
		if slot, err := Compatible(entry, other, now, duration); err == nil {
			return other, slot, true
		}
	}
	return QueueEntry{}, Slot{}, false
}

// Match decides a pairing on fresh state: both entries must still be waiting and
// compatible, and the slot must be free in both calendars. It records MatchMade on
// both users and returns the new interview with InterviewScheduled recorded, so
// ChangesOf(a, b, interview) is the append, checked against both users' versions.
func Match(a, b *User, entryA, entryB, interviewID uuid.UUID, now time.Time, duration time.Duration) (*Interview, error) {
	now = utc(now)
	ea, err := a.waitingEntry(entryA)
	if err != nil {
		return nil, fmt.Errorf("entry %s: %w", entryA, err)
	}
	eb, err := b.waitingEntry(entryB)
	if err != nil {
		return nil, fmt.Errorf("entry %s: %w", entryB, err)
	}
	slot, err := Compatible(ea, eb, now, duration)
	if err != nil {
		return nil, err
	}
	for _, u := range []*User{a, b} {
		for _, s := range u.interviews {
			if Window(s).Overlaps(Window(slot)) {
				return nil, fmt.Errorf("%w: user %s has an interview then", ErrMatchNoSlot, u.id)
			}
		}
	}
	cand, intv := ea, eb
	if ea.Role == Interviewer {
		cand, intv = eb, ea
	}
	made := MatchMade{
		InterviewID: interviewID, CandidateID: cand.UserID, InterviewerID: intv.UserID,
		CandidateEntryID: cand.ID, InterviewerEntryID: intv.ID, Profession: ea.Profession,
		Language: ea.Language, ScheduledAt: slot.Start, DurationMinutes: int(duration / time.Minute),
		MeetingLink: MeetingLink(interviewID), MatchedAt: now,
	}
	a.record(made)
	b.record(made)
	iv := newInterview()
	iv.record(InterviewScheduled(made))
	return iv, nil
}

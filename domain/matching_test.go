package domain_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/supermock/engine/domain"
)

func TestSlotFor(t *testing.T) {
	t.Parallel()
	w := func(start, end string) domain.Window { return domain.Window{Start: clock(start), End: clock(end)} }
	tests := []struct {
		name  string
		a, b  domain.Window
		now   string
		start string // "" when no slot
	}{
		{"first :30 after the later start", w("10:00", "13:00"), w("10:10", "13:00"), "09:00", "10:30"},
		{"a later start on :30 is kept", w("10:00", "13:00"), w("10:30", "13:00"), "09:00", "10:30"},
		{"a later start on :00 is kept", w("09:30", "13:00"), w("10:00", "13:00"), "09:00", "10:00"},
		{"first :00 after the later start", w("10:00", "13:00"), w("10:31", "13:00"), "09:00", "11:00"},
		{"both open: next full 5 minutes", w("08:00", "12:00"), w("09:01", "12:00"), "09:02:30", "09:05"},
		{"both open on the 5-minute grid: now", w("08:00", "12:00"), w("08:30", "12:00"), "09:05", "09:05"},
		{"one open, one ahead: :00/:30 after the later start", w("08:00", "12:00"), w("09:10", "12:00"), "09:02:30", "09:30"},
		{"rounding pushes past the earlier end", w("10:00", "12:00"), w("10:10", "11:20"), "09:00", ""},
		{"ends exactly at the earlier end", w("10:00", "12:00"), w("10:10", "11:30"), "09:00", "10:30"},
		{"overlap shorter than an interview", w("10:00", "11:00"), w("10:30", "12:00"), "09:00", ""},
		{"overlap counted from now is too short", w("08:00", "10:00"), w("08:00", "10:00"), "09:02:30", ""},
		{"disjoint", w("10:00", "11:00"), w("11:00", "12:00"), "09:00", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, pair := range [][2]domain.Window{{tt.a, tt.b}, {tt.b, tt.a}} { // the rule is symmetric
				slot, ok := domain.SlotFor(pair[0], pair[1], clock(tt.now), hr)
				if tt.start == "" {
					if ok {
						t.Fatalf("slot %s, want none", slot.Start.Format("15:04:05"))
					}
					continue
				}
				if !ok || !slot.Start.Equal(clock(tt.start)) || !slot.End.Equal(clock(tt.start).Add(hr)) {
					t.Fatalf("slot = %v %s–%s, want %s for an hour", ok, slot.Start.Format("15:04:05"), slot.End.Format("15:04:05"), tt.start)
				}
			}
		})
	}
}

func TestCompatible(t *testing.T) {
	t.Parallel()
	cand := entry(alice, entA, domain.Candidate, clock("10:00"), clock("14:00"))
	intv := entry(bob, entB, domain.Interviewer, clock("10:00"), clock("14:00"))
	change := func(e domain.QueueEntry, f func(*domain.QueueEntry)) domain.QueueEntry { f(&e); return e }
	tests := []struct {
		name string
		b    domain.QueueEntry
		err  error
	}{
		{"opposite roles, same profession and language", intv, nil},
		{"same role", change(intv, func(e *domain.QueueEntry) { e.Role = domain.Candidate }), domain.ErrMatchIncompatible},
		{"other profession", change(intv, func(e *domain.QueueEntry) { e.Profession = "qa-engineer" }), domain.ErrMatchIncompatible},
		{"other language", change(intv, func(e *domain.QueueEntry) { e.Language = "ru" }), domain.ErrMatchIncompatible},
		{"same user", change(intv, func(e *domain.QueueEntry) { e.UserID = alice }), domain.ErrMatchSameUser},
		{"no common slot", change(intv, func(e *domain.QueueEntry) { e.Window = domain.Window{Start: clock("13:30"), End: clock("15:00")} }), domain.ErrMatchNoSlot},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			slot, err := domain.Compatible(cand, tt.b, now, hr)
			if !errors.Is(err, tt.err) {
				t.Fatalf("error = %v, want %v", err, tt.err)
			}
			if err == nil && !slot.Start.Equal(clock("10:00")) {
				t.Fatalf("slot starts %s, want 10:00", slot.Start)
			}
		})
	}
}

func TestFindMatchPicksTheEarliestJoinedCompatibleEntry(t *testing.T) {
	t.Parallel()
	me := entry(alice, entA, domain.Candidate, clock("10:00"), clock("14:00"))
	otherLanguage := entry(carol, uuid.New(), domain.Interviewer, clock("10:00"), clock("14:00"))
	otherLanguage.Language = "de"
	first := entry(bob, entB, domain.Interviewer, clock("12:00"), clock("14:00"))
	better := entry(carol, uuid.New(), domain.Interviewer, clock("10:00"), clock("14:00"))
	waiting := []domain.QueueEntry{me, otherLanguage, first, better} // log order

	got, slot, ok := domain.FindMatch(me, waiting, now, hr)
	if !ok || got.ID != entB || !slot.Start.Equal(clock("12:00")) {
		t.Fatalf("match = %v %v at %s, want bob's entry (joined first) at 12:00 even though carol's gives 10:00", ok, got.ID, slot.Start)
	}
	if _, _, ok := domain.FindMatch(me, []domain.QueueEntry{me, otherLanguage}, now, hr); ok {
		t.Fatal("found a match among incompatible entries")
	}
}

func TestMatch(t *testing.T) {
	t.Parallel()
	aliceWaiting := []domain.Event{registered(alice, 1), joined(alice, entA, domain.Candidate, clock("10:00"), clock("14:00"))}
	bobWaiting := []domain.Event{registered(bob, 2), joined(bob, entB, domain.Interviewer, clock("12:00"), clock("16:00"))}

	t.Run("records the match on both users and schedules the interview", func(t *testing.T) {
		t.Parallel()
		a, b := givenUser(t, aliceWaiting...), givenUser(t, bobWaiting...)
		iv, err := domain.Match(b, a, entB, entA, ivID, now, hr) // argument order does not pick the roles
		then(t, err, nil, a.Changes(), []domain.Event{matched()})
		then(t, err, nil, b.Changes(), []domain.Event{matched()})
		then(t, err, nil, iv.Changes(), []domain.Event{scheduled()})
		if iv.MeetingLink() != "https://meet.jit.si/supermock-"+ivID.String() || iv.Status() != domain.StatusScheduled {
			t.Fatalf("interview link %q status %s", iv.MeetingLink(), iv.Status())
		}
		changes := domain.ChangesOf(a, b, iv)
		want := []struct {
			stream   string
			expected int64
		}{{"user-" + alice.String(), 2}, {"user-" + bob.String(), 2}, {"interview-" + ivID.String(), 0}}
		if len(changes) != len(want) {
			t.Fatalf("%d changes, want %d", len(changes), len(want))
		}
		for i, w := range want {
			if changes[i].Stream != w.stream || changes[i].Expected != w.expected {
				t.Errorf("change %d = %s@%d, want %s@%d", i, changes[i].Stream, changes[i].Expected, w.stream, w.expected)
			}
		}
		if e, _ := a.Entry(entA); e.Status != domain.EntryMatched || len(a.ScheduledInterviews()) != 1 {
			t.Fatalf("alice's entry %s with %d interviews", e.Status, len(a.ScheduledInterviews()))
		}
	})

	refusals := []struct {
		name          string
		alice, bob    []domain.Event
		entryA        uuid.UUID
		err           error
		sameUserTwice bool
	}{
		{"an entry left meanwhile", aliceWaiting, with(bobWaiting, domain.QueueLeft{UserID: bob, EntryID: entB}), entA, domain.ErrQueueEntryNotWaiting, false},
		{"an entry matched meanwhile", aliceMatched(), bobWaiting, entA, domain.ErrQueueEntryNotWaiting, false},
		{"an unknown entry", aliceWaiting, bobWaiting, entA2, domain.ErrQueueEntryNotFound, false},
		{"the same user on both sides", with(aliceWaiting, joined(alice, entA2, domain.Interviewer, clock("14:00"), clock("16:00"))),
			nil, entA, domain.ErrMatchSameUser, true},
		{"incompatible", with(aliceWaiting[:1], domain.QueueJoined{UserID: alice, EntryID: entA, Role: domain.Candidate,
			Profession: "qa-engineer", Language: "en", WindowStart: clock("10:00"), WindowEnd: clock("14:00")}), bobWaiting, entA, domain.ErrMatchIncompatible, false},
		{"no common slot", with(aliceWaiting[:1], joined(alice, entA, domain.Candidate, clock("10:00"), clock("12:30"))),
			bobWaiting, entA, domain.ErrMatchNoSlot, false},
		{"the slot is taken in a calendar (a history older rules allowed)", with(aliceWaiting,
			joined(alice, entA2, domain.Candidate, clock("11:30"), clock("12:30")),
			domain.MatchMade{InterviewID: uuid.New(), CandidateID: alice, InterviewerID: carol, CandidateEntryID: entA2,
				ScheduledAt: clock("11:30"), DurationMinutes: 60}), bobWaiting, entA, domain.ErrMatchNoSlot, false},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := givenUser(t, tt.alice...)
			b, entryB := a, entA2
			if !tt.sameUserTwice {
				b, entryB = givenUser(t, tt.bob...), entB
			}
			iv, err := domain.Match(a, b, tt.entryA, entryB, ivID, now, hr)
			if !errors.Is(err, tt.err) || iv != nil {
				t.Fatalf("error = %v, want %v", err, tt.err)
			}
			then(t, err, tt.err, append(a.Changes(), b.Changes()...), nil)
		})
	}
}

func TestEntryFromEvents(t *testing.T) {
	t.Parallel()
	e := joined(bob, entB, domain.Interviewer, clock("12:00"), clock("16:00"))
	want := entry(bob, entB, domain.Interviewer, clock("12:00"), clock("16:00"))
	if got := domain.EntryFromJoined(e); got != want {
		t.Fatalf("from QueueJoined = %+v", got)
	}
	r := domain.QueueEntryRequeued{UserID: bob, EntryID: entB, Role: domain.Interviewer, Profession: "backend-developer",
		Language: "en", WindowStart: clock("12:00"), WindowEnd: clock("16:00"), InterviewID: ivID, RequeuedAt: time.Time{}}
	if got := domain.EntryFromRequeued(r); got != want {
		t.Fatalf("from QueueEntryRequeued = %+v", got)
	}
}

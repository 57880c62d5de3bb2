package domain

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"time"

	"github.com/google/uuid"
)

// User is the user-<uuid> aggregate: identity, profile, questionnaire, queue entries
// and the interviews scheduled for the user.
type User struct {
	id       uuid.UUID
	version  int64
	recorded []Event

	telegramID    int64
	username      string
	firstName     string
	lastName      string
	photoURL      string
	role          Role
	preferredRole InterviewRole
	timezone      Timezone
	professions   []Profession
	form          FormData
	hasForm       bool
	entries       entryList
	interviews    map[uuid.UUID]Slot
	noShows       int
	registeredAt  time.Time
	erased        bool
}

// EntryStatus is where a queue entry is in its life.
type EntryStatus string

const (
	EntryWaiting   EntryStatus = "waiting"
	EntryMatched   EntryStatus = "matched"
	EntryCancelled EntryStatus = "cancelled"
	EntryExpired   EntryStatus = "expired"
)

// UserEntry is a queue entry as the user holds it.
type UserEntry struct {
	QueueEntry
	Status      EntryStatus
	InterviewID uuid.UUID // set while matched
	JoinedAt    time.Time
}

// ScheduledInterview is an interview that reserves time in the user's calendar.
type ScheduledInterview struct {
	InterviewID uuid.UUID
	Slot        Slot
}

// LoadUser replays a user stream; version is the stream's version as loaded.
func LoadUser(history []Event, version int64) (*User, error) {
	return newUser().Advance(history, version).(*User).found()
}

// FoldUser loads a user from store, through its snapshots if it keeps them.
func FoldUser(ctx context.Context, store Store, id uuid.UUID) (*User, error) {
	u, err := fold(ctx, store, UserStream(id), newUser())
	if err != nil {
		return nil, err
	}
	return u.found()
}

func (u *User) found() (*User, error) {
	if u.id == uuid.Nil {
		return nil, ErrUserNotFound
	}
	return u, nil
}

// Advance folds events into a copy of the user that shares nothing it could change.
func (u *User) Advance(events []Event, version int64) Snapshot {
	c := *u
	c.recorded = nil
	c.professions = slices.Clone(u.professions)
	c.form.Tools = slices.Clone(u.form.Tools)
	c.entries = u.entries.clone()
	c.interviews = maps.Clone(u.interviews)
	for _, e := range events {
		c.apply(value(e))
	}
	c.version = version
	return &c
}

func newUser() *User {
	return &User{interviews: make(map[uuid.UUID]Slot)}
}

func (u *User) ID() uuid.UUID                { return u.id }
func (u *User) Stream() string               { return UserStream(u.id) }
func (u *User) Version() int64               { return u.version }
func (u *User) Changes() []Event             { return append([]Event(nil), u.recorded...) }
func (u *User) TelegramID() int64            { return u.telegramID }
func (u *User) Username() string             { return u.username }
func (u *User) FirstName() string            { return u.firstName }
func (u *User) LastName() string             { return u.lastName }
func (u *User) PhotoURL() string             { return u.photoURL }
func (u *User) Role() Role                   { return u.role }
func (u *User) IsAdmin() bool                { return u.role == RoleAdmin }
func (u *User) PreferredRole() InterviewRole { return u.preferredRole }
func (u *User) Timezone() Timezone           { return u.timezone }
func (u *User) NoShowCount() int             { return u.noShows }
func (u *User) RegisteredAt() time.Time      { return u.registeredAt }

func (u *User) Professions() []Profession { return append([]Profession(nil), u.professions...) }

// Form is the last submitted questionnaire; false before the first.
func (u *User) Form() (FormData, bool) {
	f := u.form
	f.Tools = append([]string(nil), f.Tools...)
	return f, u.hasForm
}

// Entry is one of the user's queue entries.
func (u *User) Entry(id uuid.UUID) (UserEntry, bool) { return u.entries.get(id) }

// Entries are all the user's queue entries in join order.
func (u *User) Entries() []UserEntry {
	return slices.AppendSeq(make([]UserEntry, 0, u.entries.len()), u.entries.all())
}

// ScheduledInterviews are the interviews holding the user's time, earliest first.
func (u *User) ScheduledInterviews() []ScheduledInterview {
	out := make([]ScheduledInterview, 0, len(u.interviews))
	for id, s := range u.interviews {
		out = append(out, ScheduledInterview{InterviewID: id, Slot: s})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Slot.Start.Before(out[j].Slot.Start) })
	return out
}

func (u *User) record(e Event) {
	u.apply(e)
	u.recorded = append(u.recorded, e)
}

// apply changes state only; it never validates, so every stored history replays.
func (u *User) apply(e Event) {
	switch e := e.(type) {
	case UserRegistered:
		u.id, u.telegramID, u.registeredAt = e.UserID, e.TelegramID, e.RegisteredAt
		u.username, u.firstName, u.lastName, u.photoURL = e.Username, e.FirstName, e.LastName, e.PhotoURL
		u.role, u.preferredRole, u.timezone = e.Role, e.PreferredRole, e.Timezone
	case RoleChanged:
		u.role = e.To
	case ProfileUpdated:
		u.firstName, u.lastName, u.timezone = e.FirstName, e.LastName, e.Timezone
	case ProfessionsSelected:
		u.professions = append([]Profession(nil), e.Professions...)
	case FormSubmitted:
		u.hasForm = true
		u.form = FormData{Profession: e.Profession, Country: e.Country, Experience: e.Experience,
			Language: e.Language, Email: e.Email, Phone: e.Phone, Tools: append([]string(nil), e.Tools...)}
	case QueueJoined:
		u.entries.add(UserEntry{Status: EntryWaiting, JoinedAt: e.JoinedAt, QueueEntry: QueueEntry{
			ID: e.EntryID, UserID: e.UserID, Role: e.Role, Profession: e.Profession, Language: e.Language,
			Window: Window{Start: e.WindowStart, End: e.WindowEnd}}})
	case QueueLeft:
		u.setStatus(e.EntryID, EntryCancelled, uuid.Nil)
	case QueueEntryExpired:
		u.setStatus(e.EntryID, EntryExpired, uuid.Nil)
	case QueueEntryRequeued:
		u.setStatus(e.EntryID, EntryWaiting, uuid.Nil)
	case MatchMade:
		if entryID, ok := u.side(e.CandidateID, e.InterviewerID, e.CandidateEntryID, e.InterviewerEntryID); ok {
			u.setStatus(entryID, EntryMatched, e.InterviewID)
			start := e.ScheduledAt
			u.interviews[e.InterviewID] = Slot{Start: start, End: start.Add(time.Duration(e.DurationMinutes) * time.Minute)}
		}
	case MatchCancelled:
		if entryID, ok := u.side(e.CandidateID, e.InterviewerID, e.CandidateEntryID, e.InterviewerEntryID); ok {
			u.setStatus(entryID, EntryCancelled, uuid.Nil)
		}
		delete(u.interviews, e.InterviewID)
	case AbsenceRecorded:
		u.noShows++
	case PreferredRoleSwitched:
		u.preferredRole = e.To
	case PersonalDataErased:
		u.erased = true
		u.username, u.firstName, u.lastName, u.photoURL = "", ErasedName, "", ""
		u.form.Email, u.form.Phone, u.form.Tools = "", "", nil
	}
}

// side picks this user's entry out of an event that names both participants.
func (u *User) side(candidate, interviewer, candidateEntry, interviewerEntry uuid.UUID) (uuid.UUID, bool) {
	switch u.id {
	case candidate:
		return candidateEntry, true
	case interviewer:
		return interviewerEntry, true
	}
	return uuid.Nil, false
}

func (u *User) setStatus(entryID uuid.UUID, s EntryStatus, interviewID uuid.UUID) {
	u.entries.setStatus(entryID, s, interviewID)
}

func (u *User) mustBe(id uuid.UUID) error {
	if u == nil || u.id != id {
		return fmt.Errorf("domain: user %s was expected, got another aggregate", id)
	}
	return nil
}

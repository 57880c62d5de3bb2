package domain

import (
	"strconv"

	"github.com/google/uuid"
)

// Event is a fact recorded on one stream; EventType is its stored name.
type Event interface {
	EventType() string
}

// EventType describes one event for the generic event store codec, which knows no
// domain type: main registers each entry. New returns a pointer to a zero value to
// decode the JSON payload into; aggregates accept the pointer or the value.
type EventType struct {
	Name          string
	SchemaVersion int
	New           func() Event
	deref         func(Event) Event
}

// EventTypes lists every event the domain records. All are at schema version 1; a
// changed payload gets a new version here and an upcaster in the codec.
func EventTypes() []EventType {
	return []EventType{
		eventType[TelegramIDClaimed](1),
		eventType[UserRegistered](1),
		eventType[RoleChanged](1),
		eventType[ProfileUpdated](1),
		eventType[ProfessionsSelected](1),
		eventType[FormSubmitted](1),
		eventType[QueueJoined](1),
		eventType[QueueLeft](1),
		eventType[QueueEntryExpired](1),
		eventType[QueueEntryRequeued](1),
		eventType[MatchMade](1),
		eventType[MatchCancelled](1),
		eventType[AbsenceRecorded](1),
		eventType[PreferredRoleSwitched](1),
		eventType[InterviewScheduled](1),
		eventType[InterviewStarted](1),
		eventType[InterviewCompleted](1),
		eventType[InterviewCancelled](1),
		eventType[NoShowReported](1),
		eventType[FeedbackSubmitted](1),
		eventType[NotificationSent](1),
		eventType[NotificationRead](1),
		eventType[PersonalDataErased](1),
	}
}

func eventType[E Event, P interface {
	*E
	Event
}](version int) EventType {
	return EventType{
		Name:          P(new(E)).EventType(),
		SchemaVersion: version,
		New:           func() Event { return P(new(E)) },
		deref: func(e Event) Event {
			if p, ok := e.(P); ok && p != nil {
				return Event(*p)
			}
			return e
		},
	}
}

var eventTypesByName = func() map[string]EventType {
	m := make(map[string]EventType)
	for _, t := range EventTypes() {
		m[t.Name] = t
	}
	return m
}()

// value turns a decoded *E into E, so appliers switch on values only.
func value(e Event) Event {
	if e == nil {
		return nil
	}
	if t, ok := eventTypesByName[e.EventType()]; ok {
		return t.deref(e)
	}
	return e
}

// Stream names. The prefixes are part of the stored data and never change.
func UserStream(id uuid.UUID) string      { return "user-" + id.String() }
func InterviewStream(id uuid.UUID) string { return "interview-" + id.String() }
func TelegramStream(telegramID int64) string {
	return "telegram-" + strconv.FormatInt(telegramID, 10)
}

// MeetingLink is the Jitsi room of an interview.
func MeetingLink(interviewID uuid.UUID) string {
	return "https://meet.jit.si/supermock-" + interviewID.String()
}

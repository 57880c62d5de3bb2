package domain

import (
	"sort"
	"time"

	"github.com/google/uuid"
)

// NotificationKind is one message the notifier sends about an interview.
type NotificationKind string

const (
	NotifyInterviewScheduled NotificationKind = "interview-scheduled" // both, on scheduling
	NotifyInterviewReminder  NotificationKind = "interview-reminder"  // both, 30 min before
	NotifyInterviewCancelled NotificationKind = "interview-cancelled" // the other side
	NotifyFeedbackRequest    NotificationKind = "feedback-request"    // both, on completion
	NotifyFeedbackReminder   NotificationKind = "feedback-reminder"   // once, to who has not answered
)

const (
	// ReminderLead is how long before the interview the reminder is due.
	ReminderLead = 30 * time.Minute
	// FeedbackReminderDelay is how long after completion the one feedback reminder is due.
	FeedbackReminderDelay = 24 * time.Hour
)

// Notification is a message that is, or will be, due for one participant.
type Notification struct {
	ID          uuid.UUID
	Kind        NotificationKind
	InterviewID uuid.UUID
	UserID      uuid.UUID
	DueAt       time.Time
}

// NotificationID is derived from what the message is about, so every replica and
// every restart names the same message the same way and it is recorded once.
func NotificationID(interviewID uuid.UUID, kind NotificationKind, userID uuid.UUID) uuid.UUID {
	return uuid.NewSHA1(interviewID, []byte(string(kind)+":"+userID.String()))
}

type pendingNotification struct {
	Notification
	until time.Time // zero: no deadline; otherwise stale from then on
}

// pending lists what the interview's current status calls for, sent or not. A
// cancelled interview calls only for the cancellation notice, so its reminders are gone.
func (iv *Interview) pending() []pendingNotification {
	var out []pendingNotification
	add := func(kind NotificationKind, user uuid.UUID, due, until time.Time) {
		out = append(out, pendingNotification{Notification{
			ID: NotificationID(iv.id, kind, user), Kind: kind, InterviewID: iv.id, UserID: user, DueAt: due,
		}, until})
	}
	both := []uuid.UUID{iv.candidate, iv.interviewer}
	switch iv.status {
	case StatusScheduled, StatusInProgress:
		for _, u := range both {
			add(NotifyInterviewScheduled, u, iv.matchedAt, iv.slot.End)
		}
		// An interview booked less than 30 minutes ahead was just confirmed; a reminder
		// right after the confirmation would only repeat it.
		if iv.status == StatusScheduled && iv.slot.Start.Sub(iv.matchedAt) > ReminderLead {
			for _, u := range both {
				add(NotifyInterviewReminder, u, iv.slot.Start.Add(-ReminderLead), iv.slot.Start)
			}
		}
	case StatusCancelled:
		add(NotifyInterviewCancelled, iv.Other(iv.cancelledBy), iv.cancelledAt, time.Time{})
	case StatusCompleted:
		for _, u := range both {
			if _, given := iv.feedback[u]; !given {
				add(NotifyFeedbackRequest, u, iv.completedAt, time.Time{})
				add(NotifyFeedbackReminder, u, iv.completedAt.Add(FeedbackReminderDelay), time.Time{})
			}
		}
	}
	return out
}

// DueNotifications are the messages to send at time at, earliest first: due, not
// recorded as sent, and not stale (a reminder after the interview began is useless).
func (iv *Interview) DueNotifications(at time.Time) []Notification {
	var out []Notification
	for _, p := range iv.pending() {
		if _, sent := iv.sent[p.ID]; sent || p.DueAt.After(at) || (!p.until.IsZero() && !at.Before(p.until)) {
			continue
		}
		out = append(out, p.Notification)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].DueAt.Before(out[j].DueAt) })
	return out
}

// NextNotificationAt is when the next message not yet due becomes due, so a
// scheduler knows when to look again; false when nothing else is coming.
func (iv *Interview) NextNotificationAt(after time.Time) (time.Time, bool) {
	var next time.Time
	for _, p := range iv.pending() {
		if _, sent := iv.sent[p.ID]; sent || !p.DueAt.After(after) {
			continue
		}
		if next.IsZero() || p.DueAt.Before(next) {
			next = p.DueAt
		}
	}
	return next, !next.IsZero()
}

// RecordNotificationSent records a delivered message. Recording it again records
// nothing; a message the current status does not call for (a reminder of an interview
// cancelled meanwhile) is refused. A deadline passed while sending does not refuse it:
// the message went out and the inbox should show it.
func (iv *Interview) RecordNotificationSent(id uuid.UUID, text string, now time.Time) error {
	if _, sent := iv.sent[id]; sent {
		return nil
	}
	now = utc(now)
	for _, p := range iv.pending() {
		if p.ID == id && !p.DueAt.After(now) {
			iv.record(NotificationSent{NotificationID: id, InterviewID: iv.id, UserID: p.UserID,
				Kind: p.Kind, Text: text, SentAt: now})
			return nil
		}
	}
	return ErrNotificationNotDue
}

// MarkNotificationRead marks a message read by its recipient; someone else's message
// is not found, and reading it twice records nothing.
func (iv *Interview) MarkNotificationRead(id, user uuid.UUID, now time.Time) error {
	n, ok := iv.sent[id]
	if !ok || n.user != user {
		return ErrNotificationNotFound
	}
	if n.read {
		return nil
	}
	iv.record(NotificationRead{NotificationID: id, InterviewID: iv.id, UserID: user, Kind: n.kind, ReadAt: utc(now)})
	return nil
}

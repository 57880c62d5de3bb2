package domain_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/supermock/engine/domain"
)

// due lists the due notifications as "kind→user" for compact assertions.
func due(iv *domain.Interview, at time.Time) []string {
	var out []string
	for _, n := range iv.DueNotifications(at) {
		who := map[uuid.UUID]string{alice: "alice", bob: "bob"}[n.UserID]
		out = append(out, string(n.Kind)+"→"+who)
	}
	return out
}

func sent(kind domain.NotificationKind, user uuid.UUID, at time.Time) domain.NotificationSent {
	return domain.NotificationSent{NotificationID: domain.NotificationID(ivID, kind, user), InterviewID: ivID,
		UserID: user, Kind: kind, Text: "…", SentAt: at}
}

func TestDueNotifications(t *testing.T) {
	t.Parallel()
	confirmed := []domain.Event{scheduled(), sent(domain.NotifyInterviewScheduled, alice, now), sent(domain.NotifyInterviewScheduled, bob, now)}
	completedAt13 := with(confirmed, started, completed)
	tests := []struct {
		name    string
		history []domain.Event
		at      time.Time
		want    []string
	}{
		{"confirmation to both on scheduling", []domain.Event{scheduled()}, now,
			[]string{"interview-scheduled→alice", "interview-scheduled→bob"}},
		{"no reminder 31 minutes before", confirmed, clock("11:29"), nil},
		{"reminder to both 30 minutes before", confirmed, clock("11:30"), []string{"interview-reminder→alice", "interview-reminder→bob"}},
		{"a reminder not sent by the start is dropped", confirmed, clock("12:00"), nil},
		{"no reminder once the session has started", with(confirmed, started), clock("11:56"), nil},
		{"a reminder already sent is not due again", with(confirmed, sent(domain.NotifyInterviewReminder, alice, clock("11:30"))), clock("11:40"),
			[]string{"interview-reminder→bob"}},
		{"cancellation to the other side only", with(confirmed, cancelled), clock("10:00"), []string{"interview-cancelled→bob"}},
		{"feedback request to both on completion", completedAt13, clock("13:00"), []string{"feedback-request→alice", "feedback-request→bob"}},
		{"no feedback request to who already answered", with(completedAt13, domain.FeedbackSubmitted{FromUserID: alice}), clock("13:00"),
			[]string{"feedback-request→bob"}},
		{"feedback reminder a day later to who has not answered",
			with(completedAt13, sent(domain.NotifyFeedbackRequest, alice, clock("13:00")), sent(domain.NotifyFeedbackRequest, bob, clock("13:00")),
				domain.FeedbackSubmitted{FromUserID: bob}), clock("+1d 13:00"), []string{"feedback-reminder→alice"}},
		{"at most one feedback reminder",
			with(completedAt13, sent(domain.NotifyFeedbackRequest, alice, clock("13:00")), sent(domain.NotifyFeedbackRequest, bob, clock("13:00")),
				sent(domain.NotifyFeedbackReminder, alice, clock("+1d 13:00")), sent(domain.NotifyFeedbackReminder, bob, clock("+1d 13:00"))),
			clock("+9d 13:00"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			iv := givenInterview(t, tt.history...)
			got := due(iv, tt.at)
			if len(got) != len(tt.want) {
				t.Fatalf("due = %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("due = %v, want %v", got, tt.want)
				}
			}
		})
	}
}

func TestNoReminderIsEverDueForACancelledInterview(t *testing.T) {
	t.Parallel()
	iv := givenInterview(t, scheduled(), cancelled)
	for at := now; at.Before(clock("+2d 00:00")); at = at.Add(time.Minute) {
		for _, n := range iv.DueNotifications(at) {
			if n.Kind != domain.NotifyInterviewCancelled {
				t.Fatalf("%s due at %s for a cancelled interview", n.Kind, at.Format(time.Kitchen))
			}
		}
	}
	if next, ok := iv.NextNotificationAt(clock("10:00")); ok { // after the cancellation notice
		t.Fatalf("something is coming at %s", next)
	}
	err := iv.RecordNotificationSent(domain.NotificationID(ivID, domain.NotifyInterviewReminder, alice), "reminder", clock("11:30"))
	then(t, err, domain.ErrNotificationNotDue, iv.Changes(), nil)
}

func TestNoReminderForAnInterviewBookedWithinHalfAnHour(t *testing.T) {
	t.Parallel()
	asap := scheduled()
	asap.MatchedAt = clock("11:45")
	iv := givenInterview(t, asap)
	for at := clock("11:45"); at.Before(clock("12:00")); at = at.Add(time.Minute) {
		for _, n := range iv.DueNotifications(at) {
			if n.Kind == domain.NotifyInterviewReminder {
				t.Fatalf("reminder due at %s right after the confirmation", at.Format(time.Kitchen))
			}
		}
	}
}

func TestNextNotificationAt(t *testing.T) {
	t.Parallel()
	iv := givenInterview(t, scheduled(), sent(domain.NotifyInterviewScheduled, alice, now), sent(domain.NotifyInterviewScheduled, bob, now))
	if next, ok := iv.NextNotificationAt(now); !ok || !next.Equal(clock("11:30")) {
		t.Fatalf("next = %s %v, want 11:30", next, ok)
	}
}

func TestRecordNotificationSent(t *testing.T) {
	t.Parallel()
	id := domain.NotificationID(ivID, domain.NotifyInterviewReminder, bob)
	if id != domain.NotificationID(ivID, domain.NotifyInterviewReminder, bob) || id == domain.NotificationID(ivID, domain.NotifyInterviewReminder, alice) {
		t.Fatal("notification ids are not derived from interview, kind and user")
	}
	tests := []struct {
		name  string
		given []domain.Event
		at    time.Time
		want  []domain.Event
		err   error
	}{
		{"a due reminder", nil, clock("11:31"), []domain.Event{domain.NotificationSent{NotificationID: id, InterviewID: ivID,
			UserID: bob, Kind: domain.NotifyInterviewReminder, Text: "soon", SentAt: clock("11:31")}}, nil},
		{"recorded once", []domain.Event{sent(domain.NotifyInterviewReminder, bob, clock("11:30"))}, clock("11:31"), nil, nil},
		{"not yet due", nil, clock("11:29"), nil, domain.ErrNotificationNotDue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			iv := givenInterview(t, with([]domain.Event{scheduled()}, tt.given...)...)
			then(t, iv.RecordNotificationSent(id, "soon", tt.at), tt.err, iv.Changes(), tt.want)
		})
	}
}

func TestMarkNotificationRead(t *testing.T) {
	t.Parallel()
	id := domain.NotificationID(ivID, domain.NotifyInterviewScheduled, bob)
	read := domain.NotificationRead{NotificationID: id, InterviewID: ivID, UserID: bob, Kind: domain.NotifyInterviewScheduled, ReadAt: clock("10:00")}
	tests := []struct {
		name  string
		given []domain.Event
		user  uuid.UUID
		want  []domain.Event
		err   error
	}{
		{"by its recipient", nil, bob, []domain.Event{read}, nil},
		{"twice records nothing", []domain.Event{read}, bob, nil, nil},
		{"someone else's is not found", nil, alice, nil, domain.ErrNotificationNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			iv := givenInterview(t, with([]domain.Event{scheduled(), sent(domain.NotifyInterviewScheduled, bob, now)}, tt.given...)...)
			then(t, iv.MarkNotificationRead(id, tt.user, clock("10:00")), tt.err, iv.Changes(), tt.want)
		})
	}
	iv := givenInterview(t, scheduled())
	if err := iv.MarkNotificationRead(uuid.New(), bob, now); !errors.Is(err, domain.ErrNotificationNotFound) {
		t.Fatalf("unknown notification: %v", err)
	}
}

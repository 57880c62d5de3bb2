package projections

import (
	"github.com/supermock/engine/domain"
	"github.com/supermock/engine/eventstore"
)

// notificationTitles head the inbox entries of notifications recorded without a title
// of their own (the notifier records one in the recipient's language); the text is the
// message as it was sent.
var notificationTitles = map[domain.NotificationKind]string{
	domain.NotifyInterviewScheduled: "Interview confirmed",
	domain.NotifyInterviewReminder:  "Interview in 30 minutes",
	domain.NotifyInterviewCancelled: "Interview cancelled",
	domain.NotifyFeedbackRequest:    "How did it go?",
	domain.NotifyFeedbackReminder:   "Feedback reminder",
}

// Notifications is every user's inbox: the messages the notifier sent.
func Notifications() Projection {
	const t = "notifications"
	return define("notifications", []string{t},
		on(func(_ eventstore.Envelope, e domain.NotificationSent, c *Changes) {
			title := e.Title
			if title == "" {
				title = notificationTitles[e.Kind]
			}
			if title == "" {
				title = string(e.Kind)
			}
			c.Insert(t, Row{{"notification_id", e.NotificationID}, {"user_id", e.UserID},
				{"interview_id", e.InterviewID}, {"kind", string(e.Kind)}, {"title", title}, {"text", e.Text},
				{"sent_at", e.SentAt}, {"read_at", nil}})
		}),
		on(func(_ eventstore.Envelope, e domain.NotificationRead, c *Changes) {
			c.Update(t, Col{"notification_id", e.NotificationID}, Row{{"read_at", e.ReadAt}})
		}),
	)
}

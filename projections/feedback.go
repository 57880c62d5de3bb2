package projections

import (
	"github.com/supermock/engine/domain"
	"github.com/supermock/engine/eventstore"
)

// Feedback is one row per (interview, author).
func Feedback() Projection {
	const t = "feedback"
	return define("feedback", []string{t},
		on(func(_ eventstore.Envelope, e domain.FeedbackSubmitted, c *Changes) {
			c.Insert(t, Row{{"interview_id", e.InterviewID}, {"from_user_id", e.FromUserID}, {"to_user_id", e.ToUserID},
				{"from_role", string(e.FromRole)}, {"rating", e.Rating}, {"skills", storableScores(e.Skills)},
				{"comment", e.Comment}, {"submitted_at", e.SubmittedAt}})
		}),
		// The comments the user wrote; those about them are their authors' data.
		on(func(_ eventstore.Envelope, e domain.PersonalDataErased, c *Changes) {
			c.UpdateAll(t, Col{"from_user_id", e.UserID}, Row{{"comment", ""}})
		}),
	)
}

package projections

import (
	"github.com/supermock/engine/domain"
	"github.com/supermock/engine/eventstore"
)

// InterviewSessions is what happened in the meeting: who started and completed it and
// when, or who was reported absent. A row appears with the first such fact.
func InterviewSessions() Projection {
	const t = "interview_sessions"
	return define("interview_sessions", []string{t},
		on(func(_ eventstore.Envelope, e domain.InterviewStarted, c *Changes) {
			c.Upsert(t, Row{{"interview_id", e.InterviewID}, {"scheduled_at", e.ScheduledAt},
				{"started_by", e.StartedBy}, {"started_at", e.StartedAt}, {"updated_at", e.StartedAt}})
		}),
		on(func(_ eventstore.Envelope, e domain.InterviewCompleted, c *Changes) {
			c.Update(t, Col{"interview_id", e.InterviewID}, Row{{"completed_by", e.CompletedBy},
				{"completed_at", e.CompletedAt}, {"duration_seconds", int(e.CompletedAt.Sub(e.StartedAt).Seconds())},
				{"updated_at", e.CompletedAt}})
		}),
		// An absence may be reported for a session that never started.
		on(func(_ eventstore.Envelope, e domain.NoShowReported, c *Changes) {
			c.Upsert(t, Row{{"interview_id", e.InterviewID}, {"scheduled_at", e.ScheduledAt},
				{"no_show_reported_by", e.ReportedBy}, {"absent_user_id", e.AbsentUserID},
				{"no_show_reported_at", e.ReportedAt}, {"updated_at", e.ReportedAt}})
		}),
	)
}

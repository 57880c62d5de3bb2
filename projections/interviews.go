package projections

import (
	"github.com/supermock/engine/domain"
	"github.com/supermock/engine/eventstore"
)

// Interviews is one row per interview with its current status.
func Interviews() Projection {
	const t = "interviews"
	return define("interviews", []string{t},
		on(func(_ eventstore.Envelope, e domain.InterviewScheduled, c *Changes) {
			c.Insert(t, Row{{"interview_id", e.InterviewID}, {"candidate_id", e.CandidateID},
				{"interviewer_id", e.InterviewerID}, {"candidate_entry_id", e.CandidateEntryID},
				{"interviewer_entry_id", e.InterviewerEntryID}, {"profession", string(e.Profession)},
				{"language", string(e.Language)}, {"scheduled_at", e.ScheduledAt}, {"duration_minutes", e.DurationMinutes},
				{"meeting_link", e.MeetingLink}, {"status", string(domain.StatusScheduled)}, {"matched_at", e.MatchedAt},
				{"updated_at", e.MatchedAt}})
		}),
		on(func(_ eventstore.Envelope, e domain.InterviewStarted, c *Changes) {
			c.Update(t, Col{"interview_id", e.InterviewID}, Row{{"status", string(domain.StatusInProgress)},
				{"started_at", e.StartedAt}, {"updated_at", e.StartedAt}})
		}),
		on(func(_ eventstore.Envelope, e domain.InterviewCompleted, c *Changes) {
			c.Update(t, Col{"interview_id", e.InterviewID}, Row{{"status", string(domain.StatusCompleted)},
				{"completed_at", e.CompletedAt}, {"updated_at", e.CompletedAt}})
		}),
		on(func(_ eventstore.Envelope, e domain.InterviewCancelled, c *Changes) {
			c.Update(t, Col{"interview_id", e.InterviewID}, Row{{"status", string(domain.StatusCancelled)},
				{"cancelled_at", e.CancelledAt}, {"cancelled_by", e.CancelledBy}, {"cancel_reason", e.Reason},
				{"updated_at", e.CancelledAt}})
		}),
		on(func(_ eventstore.Envelope, e domain.NoShowReported, c *Changes) {
			c.Update(t, Col{"interview_id", e.InterviewID}, Row{{"status", string(domain.StatusNoShow)},
				{"absent_user_id", e.AbsentUserID}, {"updated_at", e.ReportedAt}})
		}),
		// The reasons the user gave when cancelling, as a rebuild reads them: empty.
		on(func(_ eventstore.Envelope, e domain.PersonalDataErased, c *Changes) {
			c.UpdateAll(t, Col{"cancelled_by", e.UserID}, Row{{"cancel_reason", ""}})
		}),
	)
}

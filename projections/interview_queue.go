package projections

import (
	"time"

	"github.com/google/uuid"

	"github.com/supermock/engine/domain"
	"github.com/supermock/engine/eventstore"
)

// InterviewQueue is one row per queue entry, in every status.
func InterviewQueue() Projection {
	const t = "interview_queue"
	status := func(c *Changes, entry uuid.UUID, s domain.EntryStatus, interview uuid.UUID, at time.Time) {
		c.Update(t, Col{"entry_id", entry}, Row{{"status", string(s)}, {"interview_id", nullUUID(interview)}, {"updated_at", at}})
	}
	return define("interview_queue", []string{t},
		on(func(env eventstore.Envelope, e domain.QueueJoined, c *Changes) {
			c.Insert(t, Row{{"entry_id", e.EntryID}, {"user_id", e.UserID}, {"role", string(e.Role)},
				{"profession", string(e.Profession)}, {"language", string(e.Language)},
				{"window_start", e.WindowStart}, {"window_end", e.WindowEnd}, {"status", string(domain.EntryWaiting)},
				{"interview_id", nil}, {"joined_at", e.JoinedAt}, {"position_tx", int64(env.Position.TxID)},
				{"position_offset", env.Position.Offset}, {"updated_at", e.JoinedAt}})
		}),
		on(func(_ eventstore.Envelope, e domain.QueueLeft, c *Changes) {
			status(c, e.EntryID, domain.EntryCancelled, uuid.Nil, e.LeftAt)
		}),
		on(func(_ eventstore.Envelope, e domain.QueueEntryExpired, c *Changes) {
			status(c, e.EntryID, domain.EntryExpired, uuid.Nil, e.ExpiredAt)
		}),
		on(func(_ eventstore.Envelope, e domain.QueueEntryRequeued, c *Changes) {
			status(c, e.EntryID, domain.EntryWaiting, uuid.Nil, e.RequeuedAt)
		}),
		// MatchMade and MatchCancelled are appended to both users' streams: each copy
		// changes the entry of the stream's user, so each entry changes once.
		on(func(env eventstore.Envelope, e domain.MatchMade, c *Changes) {
			if entry, ok := entryOfStream(env, e.CandidateID, e.InterviewerID, e.CandidateEntryID, e.InterviewerEntryID); ok {
				status(c, entry, domain.EntryMatched, e.InterviewID, e.MatchedAt)
			}
		}),
		on(func(env eventstore.Envelope, e domain.MatchCancelled, c *Changes) {
			if entry, ok := entryOfStream(env, e.CandidateID, e.InterviewerID, e.CandidateEntryID, e.InterviewerEntryID); ok {
				status(c, entry, domain.EntryCancelled, uuid.Nil, e.CancelledAt)
			}
		}),
	)
}

// entryOfStream picks the entry of the user whose stream the event is on.
func entryOfStream(env eventstore.Envelope, candidate, interviewer, candidateEntry, interviewerEntry uuid.UUID) (uuid.UUID, bool) {
	switch env.StreamID {
	case domain.UserStream(candidate):
		return candidateEntry, true
	case domain.UserStream(interviewer):
		return interviewerEntry, true
	}
	return uuid.Nil, false
}

package http

import (
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/supermock/engine/domain"
	"github.com/supermock/engine/projections"
)

type legacyJoinRequest struct {
	Profession        string    `json:"profession" required:"true"`
	PreferredDateTime time.Time `json:"preferredDateTime" required:"true"`
	QueueType         string    `json:"queueType" required:"true"`
}

type legacyJoinData struct {
	QueueEntry *projections.LegacyEntry   `json:"queueEntry"`
	Session    *projections.LegacySession `json:"session,omitempty"`
}

// legacySlots offers every hour start of the next 14 days, in UTC; an hour is not
// available while an interview the caller holds overlaps it.
func (s *server) legacySlots(c *fiber.Ctx) error {
	if _, err := domain.ParseProfession(c.Params("profession")); err != nil {
		return err
	}
	now := s.Now().UTC()
	slots, err := read(s, c, projections.LegacySlots, projections.LegacySlotsQuery{UserID: sessionOf(c).UserID,
		From: now.Truncate(time.Hour).Add(time.Hour), To: now.Add(domain.MaxBookingAhead),
		Duration: s.Service.InterviewDuration()})
	if err != nil {
		return err
	}
	return legacyAnswer(c, slots)
}

// legacyJoin asks for one interview at preferredDateTime: the window [T, T + the
// interview's length], in place of the caller's waiting entry. It answers once the
// matchmaker has taken the entry up, with the session when it was matched at once.
func (s *server) legacyJoin(c *fiber.Ctx) error {
	req, u, err := legacyInput[legacyJoinRequest](s, c)
	if err != nil {
		return err
	}
	form, ok := u.Form()
	if !ok {
		return errLegacyNoForm
	}
	start := req.PreferredDateTime.UTC()
	id, pos, err := s.Service.ReplaceQueueEntries(c.UserContext(), s.meta(c), u.ID(), domain.QueueInput{
		Role: strings.ToLower(req.QueueType), Profession: req.Profession, Language: string(form.Language),
		WindowStart: start, WindowEnd: start.Add(s.Service.InterviewDuration()),
	})
	if err != nil {
		return err
	}
	if err := s.awaitMatch(c, pos); err != nil {
		return err
	}
	entry, err := s.legacyEntry(c, projections.LegacyEntryQuery{EntryID: id})
	if err != nil {
		return err
	}
	data := legacyJoinData{QueueEntry: entry}
	msg := "Added to queue, waiting for match..."
	if entry != nil && entry.MatchedSession != nil {
		data.Session, msg = entry.MatchedSession, "Match found and interview scheduled!"
	}
	return c.JSON(legacyOK{Success: true, Data: data, Message: msg})
}

// legacyQueueStatus is the caller's newest entry that still counts: waiting and able
// to fit an interview, or matched to an interview not yet over; null without one.
func (s *server) legacyQueueStatus(c *fiber.Ctx) error {
	entry, err := s.legacyEntry(c, projections.LegacyEntryQuery{})
	if err != nil {
		return err
	}
	return legacyAnswer(c, entry)
}

// legacyLeave withdraws the caller's waiting entries and cancels the interview the
// queue status shows: the frontend's "cancel the meeting" button calls this route.
func (s *server) legacyLeave(c *fiber.Ctx) error {
	me := sessionOf(c).UserID
	entry, err := s.legacyEntry(c, projections.LegacyEntryQuery{MatchedOnly: true})
	if err != nil {
		return err
	}
	if entry != nil && entry.InterviewID != nil {
		if _, err := s.Service.CancelInterview(c.UserContext(), s.meta(c), *entry.InterviewID, me, ""); err != nil {
			return err
		}
	}
	if _, err := s.Service.LeaveWaiting(c.UserContext(), s.meta(c), me); err != nil {
		return err
	}
	return c.JSON(legacyOK{Success: true, Message: "Successfully left the queue"})
}

// legacyEntry reads the caller's entry that q picks, as of now.
func (s *server) legacyEntry(c *fiber.Ctx, q projections.LegacyEntryQuery) (*projections.LegacyEntry, error) {
	q.UserID, q.Now, q.Duration = sessionOf(c).UserID, s.Now(), s.Service.InterviewDuration()
	return read(s, c, projections.LegacyEntryOf, q)
}

// legacySessions lists the caller's completed interviews, the newest first: the page
// offers feedback on them.
func (s *server) legacySessions(c *fiber.Ctx) error {
	list, err := read(s, c, projections.LegacySessions,
		projections.LegacySessionsQuery{UserID: sessionOf(c).UserID, Status: domain.StatusCompleted})
	if err != nil {
		return err
	}
	return legacyAnswer(c, list)
}

func (s *server) legacyOneSession(c *fiber.Ctx) error {
	iv, err := s.legacyInterview(c)
	if err != nil {
		return err
	}
	return legacyAnswer(c, iv)
}

// legacyInterview is the caller's interview named by the path; anybody else's is not
// found.
func (s *server) legacyInterview(c *fiber.Ctx) (projections.LegacySession, error) {
	id, err := pathID(c, "id")
	if err != nil {
		return projections.LegacySession{}, err
	}
	return read(s, c, projections.LegacySessionOf, projections.InterviewQuery{UserID: sessionOf(c).UserID, InterviewID: id})
}

// legacyComplete runs start then complete in one command: the frontend knows no start.
func (s *server) legacyComplete(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if _, err := s.Service.FinishInterview(c.UserContext(), s.meta(c), id, sessionOf(c).UserID); err != nil {
		return err
	}
	return c.JSON(legacyOK{Success: true, Message: "Session completed successfully"})
}

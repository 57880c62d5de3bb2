package http

import (
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/supermock/engine/domain"
)

type legacySlot struct {
	Datetime  time.Time `json:"datetime"`
	Available bool      `json:"available"`
}

type legacyJoinRequest struct {
	Profession        string    `json:"profession" required:"true"`
	PreferredDateTime time.Time `json:"preferredDateTime" required:"true"`
	QueueType         string    `json:"queueType" required:"true"`
}

type legacyPerson struct {
	ID        int64  `json:"id"`
	FirstName string `json:"firstName"`
	LastName  string `json:"lastName"`
}

// legacyInterview is an interview as the old backend called it: a session.
type legacyInterview struct {
	ID                string       `json:"id"`
	Profession        string       `json:"profession"`
	Language          string       `json:"language"`
	ScheduledDateTime time.Time    `json:"scheduledDateTime"`
	MeetingLink       string       `json:"meetingLink"`
	Status            string       `json:"status"`
	Candidate         legacyPerson `json:"candidate"`
	Interviewer       legacyPerson `json:"interviewer"`
}

// legacyEntry is the caller's place in the queue.
type legacyEntry struct {
	ID                           string           `json:"id"`
	Status                       string           `json:"status"`
	Profession                   string           `json:"profession"`
	Language                     string           `json:"language"`
	PreferredDateTime            time.Time        `json:"preferredDateTime"`
	UsersInQueueWithSameLanguage int              `json:"usersInQueueWithSameLanguage"`
	MatchedSession               *legacyInterview `json:"matchedSession,omitempty"`
	interviewID                  *uuid.UUID
}

type legacyJoinData struct {
	QueueEntry *legacyEntry     `json:"queueEntry"`
	Session    *legacyInterview `json:"session,omitempty"`
}

// legacySlots offers every hour start of the next 14 days, in UTC; an hour is not
// available while an interview the caller holds overlaps it.
func (s *server) legacySlots(c *fiber.Ctx) error {
	if _, err := domain.ParseProfession(c.Params("profession")); err != nil {
		return err
	}
	now := s.Now().UTC()
	duration := s.Service.InterviewDuration()
	rows, err := s.Pool.Query(c.UserContext(), `SELECT h, NOT EXISTS (SELECT 1 FROM interviews i
			WHERE (i.candidate_id = $1 OR i.interviewer_id = $1) AND i.status IN ('scheduled', 'in_progress')
				AND i.scheduled_at < h + $4::interval AND i.scheduled_at + make_interval(mins => i.duration_minutes) > h)
		FROM generate_series($2::timestamptz, $3::timestamptz, interval '1 hour') AS h ORDER BY h`,
		sessionOf(c).UserID, now.Truncate(time.Hour).Add(time.Hour), now.Add(domain.MaxBookingAhead), duration)
	if err != nil {
		return err
	}
	slots, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (legacySlot, error) {
		var sl legacySlot
		err := r.Scan(&sl.Datetime, &sl.Available)
		sl.Datetime = sl.Datetime.UTC()
		return sl, err
	})
	if err != nil {
		return err
	}
	return legacyAnswer(c, nonNil(slots))
}

// legacyJoin asks for one interview at preferredDateTime: the window [T, T + the
// interview's length], in place of the caller's waiting entry. It answers once the
// matchmaker has taken the entry up, with the session when it was matched at once.
func (s *server) legacyJoin(c *fiber.Ctx) error {
	var req legacyJoinRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	me := sessionOf(c).UserID
	u, err := s.Service.LoadUser(c.UserContext(), me)
	if err != nil {
		return err
	}
	form, ok := u.Form()
	if !ok {
		return errLegacyNoForm
	}
	start := req.PreferredDateTime.UTC()
	id, pos, err := s.Service.ReplaceQueueEntries(c.UserContext(), s.meta(c), me, domain.QueueInput{
		Role: strings.ToLower(req.QueueType), Profession: req.Profession, Language: string(form.Language),
		WindowStart: start, WindowEnd: start.Add(s.Service.InterviewDuration()),
	})
	if err != nil {
		return err
	}
	if err := s.settleMatch(c, pos); err != nil {
		return err
	}
	entry, err := s.legacyEntry(c, `q.entry_id = $4`, id)
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
	entry, err := s.legacyEntry(c, `(q.status = 'waiting' AND q.window_end - greatest(q.window_start, $2) >= $3
		OR q.status = 'matched' AND i.status IN ('scheduled', 'in_progress'))`)
	if err != nil {
		return err
	}
	return legacyAnswer(c, entry)
}

// legacyLeave withdraws the caller's waiting entries and cancels the interview the
// queue status shows: the frontend's "cancel the meeting" button calls this route.
func (s *server) legacyLeave(c *fiber.Ctx) error {
	me := sessionOf(c).UserID
	entry, err := s.legacyEntry(c, `q.status = 'matched' AND i.status IN ('scheduled', 'in_progress')`)
	if err != nil {
		return err
	}
	if entry != nil && entry.interviewID != nil {
		pos, err := s.Service.CancelInterview(c.UserContext(), s.meta(c), *entry.interviewID, me, "")
		if err != nil {
			return err
		}
		if err := s.settle(c, pos); err != nil {
			return err
		}
	}
	pos, err := s.Service.LeaveWaiting(c.UserContext(), s.meta(c), me)
	if err != nil {
		return err
	}
	if err := s.settle(c, pos); err != nil {
		return err
	}
	return c.JSON(legacyOK{Success: true, Message: "Successfully left the queue"})
}

// legacyEntry is the caller's newest entry meeting cond, with its session when
// matched. cond may use $2 (now), $3 (the interview's length) and args from $4 on.
func (s *server) legacyEntry(c *fiber.Ctx, cond string, args ...any) (*legacyEntry, error) {
	var e legacyEntry
	err := s.Pool.QueryRow(c.UserContext(), `SELECT q.entry_id::text, upper(q.status), q.profession, q.language,
			q.window_start, q.interview_id, (SELECT count(*)::int FROM interview_queue o
				WHERE o.status = 'waiting' AND o.profession = q.profession
					AND o.language = q.language AND o.window_end - greatest(o.window_start, $2) >= $3)
		FROM interview_queue q LEFT JOIN interviews i ON i.interview_id = q.interview_id
		WHERE q.user_id = $1 AND `+cond+`
		ORDER BY q.joined_at DESC, q.position_tx DESC, q.position_offset DESC LIMIT 1`,
		append([]any{sessionOf(c).UserID, s.Now().UTC(), s.Service.InterviewDuration()}, args...)...).
		Scan(&e.ID, &e.Status, &e.Profession, &e.Language, &e.PreferredDateTime, &e.interviewID, &e.UsersInQueueWithSameLanguage)
	if errNoRows(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	e.PreferredDateTime = e.PreferredDateTime.UTC()
	if e.interviewID != nil {
		list, err := s.legacyInterviews(c, ` AND i.interview_id = $2`, *e.interviewID)
		if err != nil {
			return nil, err
		}
		if len(list) == 1 {
			e.MatchedSession = &list[0]
		}
	}
	return &e, nil
}

// legacyInterviews are the caller's interviews meeting cond, which may use args from
// $2 on.
func (s *server) legacyInterviews(c *fiber.Ctx, cond string, args ...any) ([]legacyInterview, error) {
	rows, err := s.Pool.Query(c.UserContext(), `SELECT i.interview_id::text, i.profession, i.language, i.scheduled_at,
			i.meeting_link, i.status, COALESCE(ca.telegram_id, 0), COALESCE(ca.first_name, ''), COALESCE(ca.last_name, ''),
			COALESCE(iv.telegram_id, 0), COALESCE(iv.first_name, ''), COALESCE(iv.last_name, '')
		FROM interviews i
		LEFT JOIN users ca ON ca.user_id = i.candidate_id
		LEFT JOIN users iv ON iv.user_id = i.interviewer_id
		WHERE (i.candidate_id = $1 OR i.interviewer_id = $1)`+cond+`
		ORDER BY i.scheduled_at DESC, i.interview_id`, append([]any{sessionOf(c).UserID}, args...)...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (legacyInterview, error) {
		var iv legacyInterview
		err := r.Scan(&iv.ID, &iv.Profession, &iv.Language, &iv.ScheduledDateTime, &iv.MeetingLink, &iv.Status,
			&iv.Candidate.ID, &iv.Candidate.FirstName, &iv.Candidate.LastName,
			&iv.Interviewer.ID, &iv.Interviewer.FirstName, &iv.Interviewer.LastName)
		iv.ScheduledDateTime = iv.ScheduledDateTime.UTC()
		iv.Status = strings.ToUpper(iv.Status)
		return iv, err
	})
}

// legacySessions lists the caller's completed interviews, the newest first: the page
// offers feedback on them.
func (s *server) legacySessions(c *fiber.Ctx) error {
	list, err := s.legacyInterviews(c, ` AND i.status = $2`, "completed")
	if err != nil {
		return err
	}
	return legacyAnswer(c, nonNil(list))
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
func (s *server) legacyInterview(c *fiber.Ctx) (legacyInterview, error) {
	id, err := pathID(c, "id")
	if err != nil {
		return legacyInterview{}, err
	}
	list, err := s.legacyInterviews(c, ` AND i.interview_id = $2`, id)
	if err != nil {
		return legacyInterview{}, err
	}
	if len(list) == 0 {
		return legacyInterview{}, domain.ErrInterviewNotFound
	}
	return list[0], nil
}

// legacyComplete runs start then complete in one command: the frontend knows no start.
func (s *server) legacyComplete(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	pos, err := s.Service.FinishInterview(c.UserContext(), s.meta(c), id, sessionOf(c).UserID)
	if err != nil {
		return err
	}
	if err := s.settle(c, pos); err != nil {
		return err
	}
	return c.JSON(legacyOK{Success: true, Message: "Session completed successfully"})
}

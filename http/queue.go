package http

import (
	"errors"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/supermock/engine/domain"
)

type joinRequest struct {
	Role        string    `json:"role" required:"true"`
	Profession  string    `json:"profession" required:"true"`
	Language    string    `json:"language" required:"true"`
	WindowStart time.Time `json:"window_start" required:"true"`
	WindowEnd   time.Time `json:"window_end" required:"true"`
}

type joinResponse struct {
	ID string `json:"id"`
	commandResponse
}

type entryResponse struct {
	ID          string     `json:"id"`
	Role        string     `json:"role"`
	Profession  string     `json:"profession"`
	Language    string     `json:"language"`
	WindowStart time.Time  `json:"window_start"`
	WindowEnd   time.Time  `json:"window_end"`
	Status      string     `json:"status"`
	InterviewID *uuid.UUID `json:"interview_id"`
	JoinedAt    time.Time  `json:"joined_at"`
}

type entriesResponse struct {
	Entries []entryResponse `json:"entries"`
}

type queueStat struct {
	Profession string `json:"profession"`
	Language   string `json:"language"`
	Role       string `json:"role"`
	Waiting    int    `json:"waiting"`
}

type statsResponse struct {
	Stats []queueStat `json:"stats"`
}

func (s *server) joinQueue(c *fiber.Ctx) error {
	var req joinRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	id, pos, err := s.service(c).JoinQueue(c.UserContext(), s.meta(c), sessionOf(c).UserID, domain.QueueInput{
		Role: req.Role, Profession: req.Profession, Language: req.Language,
		WindowStart: req.WindowStart, WindowEnd: req.WindowEnd,
	})
	if err != nil {
		return err
	}
	return answer(c, fiber.StatusCreated, pos, joinResponse{ID: id.String(),
		commandResponse: commandResponse{Changed: pos != "", Position: pos}})
}

// leaveQueue acts on the caller's own stream only: somebody else's entry is not there,
// so it is 404 queue-entry-not-found, the same as an entry that does not exist.
func (s *server) leaveQueue(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	return reply(c)(s.service(c).LeaveQueue(c.UserContext(), s.meta(c), sessionOf(c).UserID, id))
}

func (s *server) myEntries(c *fiber.Ctx) error {
	status := c.Query("status")
	switch domain.EntryStatus(status) {
	case "", domain.EntryWaiting, domain.EntryMatched, domain.EntryCancelled, domain.EntryExpired:
	default:
		return invalidField("status", "must be waiting, matched, cancelled or expired")
	}
	rows, err := s.Pool.Query(c.UserContext(), `SELECT entry_id::text, role, profession, language, window_start,
			window_end, status, interview_id, joined_at
		FROM interview_queue WHERE user_id = $1 AND ($2 = '' OR status = $2)
		ORDER BY joined_at, position_tx, position_offset`, sessionOf(c).UserID, status)
	if err != nil {
		return err
	}
	entries, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (entryResponse, error) {
		var e entryResponse
		err := r.Scan(&e.ID, &e.Role, &e.Profession, &e.Language, &e.WindowStart, &e.WindowEnd, &e.Status,
			&e.InterviewID, &e.JoinedAt)
		e.WindowStart, e.WindowEnd, e.JoinedAt = e.WindowStart.UTC(), e.WindowEnd.UTC(), e.JoinedAt.UTC()
		return e, err
	})
	if err != nil {
		return err
	}
	return c.JSON(entriesResponse{Entries: nonNil(entries)})
}

// queueStats counts the waiting entries that can still hold an interview, by
// profession, language and role; profession and language filter.
func (s *server) queueStats(c *fiber.Ctx) error {
	var profession domain.Profession
	var language domain.Language
	var err error
	if v := c.Query("profession"); v != "" {
		if profession, err = domain.ParseProfession(v); err != nil {
			return err
		}
	}
	if v := c.Query("language"); v != "" {
		if language, err = domain.ParseLanguage(v); err != nil {
			return err
		}
	}
	rows, err := s.Pool.Query(c.UserContext(), `SELECT profession, language, role, count(*)::int
		FROM interview_queue
		WHERE status = 'waiting' AND window_end - greatest(window_start, $1) >= $2
			AND ($3 = '' OR profession = $3) AND ($4 = '' OR language = $4)
		GROUP BY profession, language, role ORDER BY profession, language, role`,
		s.Now().UTC(), s.Service.InterviewDuration(), string(profession), string(language))
	if err != nil {
		return err
	}
	stats, err := pgx.CollectRows(rows, pgx.RowToStructByPos[queueStat])
	if err != nil {
		return err
	}
	return c.JSON(statsResponse{Stats: nonNil(stats)})
}

func pathID(c *fiber.Ctx, name string) (uuid.UUID, error) {
	id, err := uuid.Parse(c.Params(name))
	if err != nil {
		return uuid.Nil, invalidField(name, "must be a UUID")
	}
	return id, nil
}

// nonNil makes an empty list [] rather than null in JSON.
func nonNil[T any](list []T) []T {
	if list == nil {
		return []T{}
	}
	return list
}

// errNoRows tells a missing row from a failed query.
func errNoRows(err error) bool { return errors.Is(err, pgx.ErrNoRows) }

package http

import (
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/supermock/engine/domain"
	"github.com/supermock/engine/internal/jsontime"
	"github.com/supermock/engine/projections"
)

type joinRequest struct {
	Role        string        `json:"role" required:"true" enum:"interview-role"`
	Profession  string        `json:"profession" required:"true" enum:"profession"`
	Language    string        `json:"language" required:"true" enum:"language"`
	WindowStart jsontime.Time `json:"window_start" required:"true" doc:"a start in the past counts from now; at most 14 days ahead"`
	WindowEnd   jsontime.Time `json:"window_end" required:"true" doc:"at least one interview and at most 24 h after the start"`
}

type entriesResponse struct {
	Entries []projections.Entry `json:"entries"`
}

type statsResponse struct {
	Stats []projections.QueueStat `json:"stats"`
}

func (s *server) joinQueue(c *fiber.Ctx) error {
	var req joinRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	return answerEntry(c, fiber.StatusCreated)(s.service(c).JoinQueueEntry(c.UserContext(), s.meta(c), sessionOf(c).UserID, domain.QueueInput{
		Role: req.Role, Profession: req.Profession, Language: req.Language,
		WindowStart: req.WindowStart.Time, WindowEnd: req.WindowEnd.Time,
	}))
}

// leaveQueue acts on the caller's own stream only: somebody else's entry is not there,
// so it is 404 queue-entry-not-found, the same as an entry that does not exist.
func (s *server) leaveQueue(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	return answerEntry(c, fiber.StatusOK)(s.service(c).LeaveQueueEntry(c.UserContext(), s.meta(c), sessionOf(c).UserID, id))
}

// answerEntry answers a queue command with the entry as the command left it, from the
// user's aggregate: the command waits for no read table, and the caller's next read
// waits for its own write as every read does.
func answerEntry(c *fiber.Ctx, status int) func(domain.UserEntry, string, error) error {
	return func(entry domain.UserEntry, position string, err error) error {
		if err != nil {
			return err
		}
		return answer(c, status, position, projections.EntryOfUser(entry))
	}
}

func (s *server) myEntries(c *fiber.Ctx) error {
	status := domain.EntryStatus(c.Query("status"))
	if status != "" && !slices.Contains(domain.EntryStatuses(), string(status)) {
		return invalidField("status", "must be one of "+strings.Join(domain.EntryStatuses(), ", "))
	}
	list, err := read(s, c, projections.Entries, projections.EntriesQuery{UserID: sessionOf(c).UserID, Status: status})
	if err != nil {
		return err
	}
	return c.JSON(entriesResponse{Entries: list})
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
	list, err := read(s, c, projections.Stats, projections.StatsQuery{Now: s.Now(), Duration: s.Service.InterviewDuration(),
		Profession: string(profession), Language: string(language)})
	if err != nil {
		return err
	}
	return c.JSON(statsResponse{Stats: list})
}

func pathID(c *fiber.Ctx, name string) (uuid.UUID, error) {
	id, err := uuid.Parse(c.Params(name))
	if err != nil {
		return uuid.Nil, invalidField(name, "must be a UUID")
	}
	return id, nil
}

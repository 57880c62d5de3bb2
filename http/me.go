package http

import (
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/supermock/engine/domain"
	"github.com/supermock/engine/projections"
)

type profileRequest struct {
	FirstName *string `json:"first_name"`
	LastName  *string `json:"last_name"`
	Timezone  *string `json:"timezone" doc:"an IANA name such as Europe/Berlin"`
}

type professionsRequest struct {
	Professions []string `json:"professions" required:"true" enum:"profession"`
}

type formRequest struct {
	Profession string   `json:"profession" required:"true" enum:"profession"`
	Country    string   `json:"country" required:"true" enum:"country"`
	Experience string   `json:"experience" required:"true" enum:"experience"`
	Language   string   `json:"language" required:"true" enum:"language"`
	Email      string   `json:"email"`
	Phone      string   `json:"phone"`
	Tools      []string `json:"tools"`
}

type professionsResponse struct {
	Professions []domain.ProfessionInfo `json:"professions"`
}

// acceptedResponse names the resource a command changed when its shape cannot be read yet.
type acceptedResponse struct {
	ID string `json:"id"`
}

func (s *server) meta(c *fiber.Ctx) domain.Meta {
	return domain.Meta{Actor: sessionOf(c).UserID.String(), CorrelationID: requestIDOf(c)}
}

// reply answers a command with what it changed, in the shape of the matching GET, read
// once the read tables show the command: reply(s, c, status, read, arg)(s.service(c).X(…)).
// A command that changed nothing answers the resource as it is, without X-Event-Position;
// one whose resource cannot be read after the wait (the tables lag, the request's time
// ran out) answers 202 with its id: the command is done all the same. A command sent
// with an Idempotency-Key, whose events commit only with its answer, answers its id.
func reply[A, R any](s *server, c *fiber.Ctx, status int, id uuid.UUID, r projections.Read[A, R], arg A) func(position string, err error) error {
	return func(position string, err error) error {
		if err != nil {
			return err
		}
		if _, keyed := c.Locals(localTx).(pgx.Tx); keyed {
			// The events commit with the Idempotency-Key's claim after this answer, so
			// no read table can show them yet: the answer names the resource only.
			return answer(c, status, position, acceptedResponse{ID: id.String()})
		}
		s.sawWrite(c, position)
		v, err := read(s, c, r, arg)
		if err != nil {
			// The command is done whatever the read says: never an error for it.
			c.Set(headerProjectionLag, "true")
			return answer(c, fiber.StatusAccepted, position, acceptedResponse{ID: id.String()})
		}
		return answer(c, status, position, v)
	}
}

func (s *server) professions(c *fiber.Ctx) error {
	return c.JSON(professionsResponse{Professions: domain.Professions()})
}

func (s *server) me(c *fiber.Ctx) error {
	m, err := read(s, c, projections.ProfileOf, sessionOf(c).UserID)
	if err != nil {
		return err
	}
	return c.JSON(m)
}

func (s *server) updateProfile(c *fiber.Ctx) error {
	var req profileRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	return reply(s, c, fiber.StatusOK, sessionOf(c).UserID, projections.ProfileOf, sessionOf(c).UserID)(s.service(c).UpdateProfile(c.UserContext(), s.meta(c), sessionOf(c).UserID,
		domain.ProfileInput{FirstName: req.FirstName, LastName: req.LastName, Timezone: req.Timezone}))
}

func (s *server) selectProfessions(c *fiber.Ctx) error {
	var req professionsRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	return reply(s, c, fiber.StatusOK, sessionOf(c).UserID, projections.ProfileOf, sessionOf(c).UserID)(s.service(c).SelectProfessions(c.UserContext(), s.meta(c), sessionOf(c).UserID, req.Professions))
}

func (s *server) submitForm(c *fiber.Ctx) error {
	var req formRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	return reply(s, c, fiber.StatusOK, sessionOf(c).UserID, projections.ProfileOf, sessionOf(c).UserID)(s.service(c).SubmitForm(c.UserContext(), s.meta(c), sessionOf(c).UserID, domain.FormInput{
		Profession: req.Profession, Country: req.Country, Experience: req.Experience, Language: req.Language,
		Email: req.Email, Phone: req.Phone, Tools: req.Tools,
	}))
}

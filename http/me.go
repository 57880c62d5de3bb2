package http

import (
	"errors"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"github.com/supermock/engine/domain"
)

type profileRequest struct {
	FirstName *string `json:"first_name"`
	LastName  *string `json:"last_name"`
	Timezone  *string `json:"timezone"`
}

type professionsRequest struct {
	Professions []string `json:"professions" required:"true"`
}

type formRequest struct {
	Profession string   `json:"profession" required:"true"`
	Country    string   `json:"country" required:"true"`
	Experience string   `json:"experience" required:"true"`
	Language   string   `json:"language" required:"true"`
	Email      string   `json:"email"`
	Phone      string   `json:"phone"`
	Tools      []string `json:"tools"`
}

type meResponse struct {
	sessionUser
	NoShowCount  int           `json:"no_show_count"`
	RegisteredAt time.Time     `json:"registered_at"`
	Professions  []string      `json:"professions"`
	Form         *formResponse `json:"form"` // null until the first submission
}

type formResponse struct {
	Profession  string    `json:"profession"`
	Country     string    `json:"country"`
	Experience  string    `json:"experience"`
	Language    string    `json:"language"`
	Email       string    `json:"email,omitempty"`
	Phone       string    `json:"phone,omitempty"`
	Tools       []string  `json:"tools"`
	SubmittedAt time.Time `json:"submitted_at"`
}

type professionsResponse struct {
	Professions []domain.ProfessionInfo `json:"professions"`
}

// commandResponse answers a command; changed is false when it recorded nothing.
type commandResponse struct {
	Changed  bool   `json:"changed"`
	Position string `json:"position,omitempty"`
}

func (s *server) meta(c *fiber.Ctx) domain.Meta {
	return domain.Meta{Actor: sessionOf(c).UserID.String(), CorrelationID: requestIDOf(c)}
}

// reply answers a command with the position of the events it appended:
// reply(c)(s.service(c).X(...)).
func reply(c *fiber.Ctx) func(position string, err error) error {
	return func(position string, err error) error {
		if err != nil {
			return err
		}
		return answer(c, fiber.StatusOK, position, commandResponse{Changed: position != "", Position: position})
	}
}

func (s *server) professions(c *fiber.Ctx) error {
	return c.JSON(professionsResponse{Professions: domain.Professions()})
}

func (s *server) me(c *fiber.Ctx) error {
	var m meResponse
	var f struct {
		profession, country, experience, language *string
		email, phone                              *string
		tools                                     []string
		submittedAt                               *time.Time
	}
	err := s.Pool.QueryRow(c.UserContext(), `SELECT u.user_id::text, u.telegram_id, u.username, u.first_name,
			u.last_name, u.photo_url, u.role, u.preferred_role, u.timezone, u.no_show_count, u.registered_at,
			COALESCE((SELECT json_agg(p.profession ORDER BY p.rank) FROM selected_professions p
				WHERE p.user_id = u.user_id), '[]'::json),
			f.profession, f.country, f.experience, f.language, f.email, f.phone, f.tools, f.submitted_at
		FROM users u LEFT JOIN user_form_data f ON f.user_id = u.user_id
		WHERE u.user_id = $1`, sessionOf(c).UserID).Scan(
		&m.ID, &m.TelegramID, &m.Username, &m.FirstName, &m.LastName, &m.PhotoURL, &m.Role, &m.PreferredRole,
		&m.Timezone, &m.NoShowCount, &m.RegisteredAt, &m.Professions,
		&f.profession, &f.country, &f.experience, &f.language, &f.email, &f.phone, &f.tools, &f.submittedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return domain.ErrUserNotFound
	}
	if err != nil {
		return err
	}
	m.RegisteredAt = m.RegisteredAt.UTC()
	if f.profession != nil {
		m.Form = &formResponse{Profession: *f.profession, Country: *f.country, Experience: *f.experience,
			Language: *f.language, Email: deref(f.email), Phone: deref(f.phone), Tools: f.tools, SubmittedAt: f.submittedAt.UTC()}
	}
	return c.JSON(m)
}

func (s *server) updateProfile(c *fiber.Ctx) error {
	var req profileRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	return reply(c)(s.service(c).UpdateProfile(c.UserContext(), s.meta(c), sessionOf(c).UserID,
		domain.ProfileInput{FirstName: req.FirstName, LastName: req.LastName, Timezone: req.Timezone}))
}

func (s *server) selectProfessions(c *fiber.Ctx) error {
	var req professionsRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	return reply(c)(s.service(c).SelectProfessions(c.UserContext(), s.meta(c), sessionOf(c).UserID, req.Professions))
}

func (s *server) submitForm(c *fiber.Ctx) error {
	var req formRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	return reply(c)(s.service(c).SubmitForm(c.UserContext(), s.meta(c), sessionOf(c).UserID, domain.FormInput{
		Profession: req.Profession, Country: req.Country, Experience: req.Experience, Language: req.Language,
		Email: req.Email, Phone: req.Phone, Tools: req.Tools,
	}))
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

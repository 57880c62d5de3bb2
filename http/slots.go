package http

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/supermock/engine/domain"
	"github.com/supermock/engine/projections"
)

type slotsResponse struct {
	Role            string             `json:"role" enum:"interview-role"`
	CounterpartRole string             `json:"counterpart_role" enum:"interview-role"`
	Profession      string             `json:"profession" enum:"profession"`
	Language        string             `json:"language" enum:"language"`
	DurationMinutes int                `json:"duration_minutes"`
	Slots           []projections.Slot `json:"slots"`
}

// slots lists the hours of the next 14 days (UTC hour starts) at which an interview
// of the configured length fits in the window of at least one waiting entry of the
// opposite role, with how many there are: joining with a window from such an hour
// would be matched at once. role defaults to the caller's preferred role, profession
// and language to those of the caller's form.
func (s *server) slots(c *fiber.Ctx) error {
	me := sessionOf(c).UserID
	defaults, err := read(s, c, projections.MatchDefaultsOf, me)
	if err != nil {
		return err
	}
	pick := func(name string, fallback *string) (string, error) {
		if v := c.Query(name); v != "" {
			return v, nil
		}
		if fallback == nil {
			return "", invalidField(name, "is required until the form is submitted")
		}
		return *fallback, nil
	}
	var raw [3]string
	for i, p := range []struct {
		name     string
		fallback *string
	}{{"role", defaults.PreferredRole}, {"profession", defaults.Profession}, {"language", defaults.Language}} {
		if raw[i], err = pick(p.name, p.fallback); err != nil {
			return err
		}
	}
	role, err := domain.ParseInterviewRole(raw[0])
	if err != nil {
		return err
	}
	profession, err := domain.ParseProfession(raw[1])
	if err != nil {
		return err
	}
	language, err := domain.ParseLanguage(raw[2])
	if err != nil {
		return err
	}
	now := s.Now().UTC()
	first := now.Truncate(time.Hour)
	if first.Before(now) {
		first = first.Add(time.Hour)
	}
	duration := s.Service.InterviewDuration()
	list, err := read(s, c, projections.Slots, projections.SlotsQuery{From: first, To: now.Add(domain.MaxBookingAhead),
		Duration: duration, Role: role.Opposite(), Profession: profession, Language: language, Except: me})
	if err != nil {
		return err
	}
	return c.JSON(slotsResponse{Role: string(role), CounterpartRole: string(role.Opposite()), Profession: string(profession),
		Language: string(language), DurationMinutes: int(duration / time.Minute), Slots: list})
}

package http

import (
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"github.com/supermock/engine/domain"
)

type slot struct {
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
	Waiting int       `json:"waiting"`
}

type slotsResponse struct {
	Role            string `json:"role"`
	CounterpartRole string `json:"counterpart_role"`
	Profession      string `json:"profession"`
	Language        string `json:"language"`
	DurationMinutes int    `json:"duration_minutes"`
	Slots           []slot `json:"slots"`
}

// slots lists the hours of the next 14 days (UTC hour starts) at which an interview
// of the configured length fits in the window of at least one waiting entry of the
// opposite role, with how many there are: joining with a window from such an hour
// would be matched at once. role defaults to the caller's preferred role, profession
// and language to those of the caller's form.
func (s *server) slots(c *fiber.Ctx) error {
	me := sessionOf(c).UserID
	var preferred, formProfession, formLanguage *string
	err := s.Pool.QueryRow(c.UserContext(), `SELECT u.preferred_role, f.profession, f.language
		FROM users u LEFT JOIN user_form_data f ON f.user_id = u.user_id WHERE u.user_id = $1`, me).
		Scan(&preferred, &formProfession, &formLanguage)
	if err != nil && !errNoRows(err) {
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
	}{{"role", preferred}, {"profession", formProfession}, {"language", formLanguage}} {
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
	rows, err := s.Pool.Query(c.UserContext(), `SELECT h, count(*)::int
		FROM generate_series($1::timestamptz, $2::timestamptz, interval '1 hour') AS h
		JOIN interview_queue q ON q.window_start <= h AND q.window_end >= h + $3::interval
		WHERE q.status = 'waiting' AND q.role = $4 AND q.profession = $5 AND q.language = $6 AND q.user_id <> $7
		GROUP BY h ORDER BY h`,
		first, now.Add(domain.MaxBookingAhead), duration, string(role.Opposite()), string(profession), string(language), me)
	if err != nil {
		return err
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (slot, error) {
		var sl slot
		err := r.Scan(&sl.Start, &sl.Waiting)
		sl.Start = sl.Start.UTC()
		sl.End = sl.Start.Add(duration)
		return sl, err
	})
	if err != nil {
		return err
	}
	return c.JSON(slotsResponse{Role: string(role), CounterpartRole: string(role.Opposite()), Profession: string(profession),
		Language: string(language), DurationMinutes: int(duration / time.Minute), Slots: nonNil(list)})
}

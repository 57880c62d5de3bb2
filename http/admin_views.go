package http

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/supermock/engine/domain"
	"github.com/supermock/engine/internal/keyset"
	"github.com/supermock/engine/projections"
	"github.com/supermock/engine/projections/notifier"
)

const (
	// expiringWithin is how soon an entry must expire to be listed as about to.
	expiringWithin = 2 * time.Hour
	// noShowsFor is how far before the period the no-shows go back.
	noShowsFor = 30 * 24 * time.Hour
)

type adminQueueResponse struct {
	projections.Waiting
	ExpiringWithin float64                 `json:"expiring_within_seconds"`
	MatchesPerHour []projections.HourCount `json:"matches_per_hour"`
}

// adminQueue is the queue as an operator sees it: waiting entries by profession,
// language and role with the oldest wait, the entries about to expire, and the matches
// made in each hour of the last days (days, 1–31, default 7). The expiring entries
// are the list that limit and after page.
func (s *server) adminQueue(c *fiber.Ctx) error {
	days, err := queryInt(c, "days", 7, 1, 31)
	if err != nil {
		return err
	}
	page, err := pageOf(c)
	if err != nil {
		return err
	}
	now := s.Now()
	ctx := c.UserContext()
	w, err := projections.WaitingOf.Run(ctx, s.Pool, projections.WaitingQuery{Now: now,
		Duration: s.Config.InterviewDuration, Within: expiringWithin, Page: page})
	if err != nil {
		return err
	}
	hours, err := projections.MatchesPerHour.Run(ctx, s.Pool, projections.HoursQuery{From: now.Add(-time.Duration(days) * 24 * time.Hour), Until: now})
	if err != nil {
		return err
	}
	return c.JSON(adminQueueResponse{Waiting: w, ExpiringWithin: expiringWithin.Seconds(), MatchesPerHour: hours})
}

// adminInterviews is the interviews scheduled from from until until (RFC 3339; today's
// UTC midnight and a week after it by default) by status, and the no-shows of the 30
// days before from. The two lists are paged apart, by after and by no_shows_after, with
// one limit, so the next page of one needs no state of the other.
func (s *server) adminInterviews(c *fiber.Ctx) error {
	midnight := s.Now().UTC().Truncate(24 * time.Hour)
	from, err := queryTime(c, "from", midnight)
	if err != nil {
		return err
	}
	until, err := queryTime(c, "until", from.Add(7*24*time.Hour))
	if err != nil {
		return err
	}
	if !until.After(from) {
		return invalidField("until", "must be after from")
	}
	page, err := pageOf(c)
	if err != nil {
		return err
	}
	noShows := keyset.Page{Limit: page.Limit, After: c.Query("no_shows_after")}
	out, err := projections.ScheduleOf.Run(c.UserContext(), s.Pool, projections.ScheduleQuery{From: from, Until: until,
		NoShowsSince: from.Add(-noShowsFor), Interviews: page, NoShows: noShows})
	if err != nil {
		return err
	}
	return c.JSON(out)
}

// deliveryStatuses are the outbox statuses the console may ask for.
var deliveryStatuses = []string{"pending", "sending", "sent", "inbox", "failed", "unknown", "dropped"}

// adminNotifications lists the outbox's messages of the statuses asked (delivery,
// repeatable or comma-separated; failed and unknown by default) with Telegram's error,
// and counts them by kind.
func (s *server) adminNotifications(c *fiber.Ctx) error {
	statuses := queryList(c, "delivery")
	if len(statuses) == 0 {
		statuses = []string{"failed", "unknown"}
	}
	for _, st := range statuses {
		if !slices.Contains(deliveryStatuses, st) {
			return invalidField("delivery", "must be among "+strings.Join(deliveryStatuses, ", "))
		}
	}
	page, err := pageOf(c)
	if err != nil {
		return err
	}
	out, err := notifier.ReadDeliveries(c.UserContext(), s.Pool, notifier.DeliveriesQuery{Statuses: statuses, Page: page})
	if err != nil {
		return err
	}
	return c.JSON(out)
}

type foundUser struct {
	Profile projections.Profile `json:"profile"`
	// Streams are the log's streams about the user: theirs, their Telegram id's claim
	// and each of their interviews, latest first.
	Streams []string `json:"streams"`
}

type foundUsers struct {
	Users []foundUser `json:"users" doc:"the first registered first"`
	Next  *string     `json:"next" doc:"the after of the next page; null on the last"`
}

// adminUsers finds users by telegram_id or username (with or without @, any case).
func (s *server) adminUsers(c *fiber.Ctx) error {
	page, err := pageOf(c)
	if err != nil {
		return err
	}
	q := projections.UserSearch{Page: page}
	if raw := c.Query("telegram_id"); raw != "" {
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || id <= 0 {
			return invalidField("telegram_id", "must be a Telegram id")
		}
		q.TelegramID = id
	}
	q.Username = strings.TrimSpace(c.Query("username"))
	if domain.CleanText(q.Username, false) != q.Username {
		return invalidField("username", "must be valid UTF-8 text without control characters")
	}
	if q.TelegramID == 0 && q.Username == "" {
		return invalidField("telegram_id", "give telegram_id or username")
	}
	ctx := c.UserContext()
	found, err := projections.FindUsers.Run(ctx, s.Pool, q)
	if err != nil {
		return err
	}
	out := foundUsers{Users: []foundUser{}, Next: found.Next}
	for _, id := range found.IDs {
		p, err := projections.ProfileOf.Run(ctx, s.Pool, id)
		if err != nil {
			return err
		}
		interviews, err := projections.InterviewIDsOf.Run(ctx, s.Pool, id)
		if err != nil {
			return err
		}
		streams := []string{domain.UserStream(id), domain.TelegramStream(p.TelegramID)}
		for _, iv := range interviews {
			streams = append(streams, domain.InterviewStream(iv))
		}
		out.Users = append(out.Users, foundUser{Profile: p, Streams: streams})
	}
	return c.JSON(out)
}

// queryInt reads an optional whole number from lo to hi.
func queryInt(c *fiber.Ctx, name string, def, lo, hi int) (int, error) {
	raw := c.Query(name)
	if raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < lo || n > hi {
		return 0, invalidField(name, "must be a whole number from "+strconv.Itoa(lo)+" to "+strconv.Itoa(hi))
	}
	return n, nil
}

// queryTime reads an optional RFC 3339 time.
func queryTime(c *fiber.Ctx, name string, def time.Time) (time.Time, error) {
	raw := c.Query(name)
	if raw == "" {
		return def, nil
	}
	t, err := time.Parse(time.RFC3339Nano, raw)
	if err != nil {
		return time.Time{}, invalidField(name, "must be an RFC 3339 time")
	}
	return t, nil
}

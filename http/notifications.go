package http

import (
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/supermock/engine/domain"
)

type notificationResponse struct {
	ID          string     `json:"id"`
	InterviewID string     `json:"interview_id"`
	Kind        string     `json:"kind"`
	Title       string     `json:"title"`
	Text        string     `json:"text"`
	SentAt      time.Time  `json:"sent_at"`
	ReadAt      *time.Time `json:"read_at"`
}

type notificationsResponse struct {
	Unread        int                    `json:"unread"`
	Notifications []notificationResponse `json:"notifications"`
}

// notifications is the caller's inbox, newest first (100 at most); unread=true keeps
// the unread ones.
func (s *server) notifications(c *fiber.Ctx) error {
	unreadOnly, err := queryBool(c, "unread")
	if err != nil {
		return err
	}
	me := sessionOf(c).UserID
	rows, err := s.Pool.Query(c.UserContext(), `SELECT notification_id::text, interview_id::text, kind, title, text,
			sent_at, read_at
		FROM notifications WHERE user_id = $1 AND (NOT $2 OR read_at IS NULL)
		ORDER BY sent_at DESC, notification_id LIMIT 100`, me, unreadOnly)
	if err != nil {
		return err
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (notificationResponse, error) {
		var n notificationResponse
		err := r.Scan(&n.ID, &n.InterviewID, &n.Kind, &n.Title, &n.Text, &n.SentAt, &n.ReadAt)
		n.SentAt = n.SentAt.UTC()
		if n.ReadAt != nil {
			*n.ReadAt = n.ReadAt.UTC()
		}
		return n, err
	})
	if err != nil {
		return err
	}
	var unread int
	if err := s.Pool.QueryRow(c.UserContext(), `SELECT count(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL`,
		me).Scan(&unread); err != nil {
		return err
	}
	return c.JSON(notificationsResponse{Unread: unread, Notifications: nonNil(list)})
}

// readNotification finds the message's interview in the inbox table: somebody else's
// message, or one not projected yet, is 404 notification-not-found (send
// X-Min-Position to wait for it).
func (s *server) readNotification(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	me := sessionOf(c).UserID
	var interviewID uuid.UUID
	err = s.db(c).QueryRow(c.UserContext(), `SELECT interview_id FROM notifications
		WHERE notification_id = $1 AND user_id = $2`, id, me).Scan(&interviewID)
	if errNoRows(err) {
		return domain.ErrNotificationNotFound
	}
	if err != nil {
		return err
	}
	return reply(c)(s.service(c).MarkNotificationRead(c.UserContext(), s.meta(c), interviewID, id, me))
}

package projections

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/supermock/engine/domain"
	"github.com/supermock/engine/internal/jsontime"
	"github.com/supermock/engine/internal/keyset"
)

// Notification is one message in a user's inbox.
type Notification struct {
	ID          string         `json:"id"`
	InterviewID string         `json:"interview_id"`
	Kind        string         `json:"kind" enum:"notification-kind"`
	Title       string         `json:"title"`
	Text        string         `json:"text"`
	SentAt      jsontime.Time  `json:"sent_at"`
	ReadAt      *jsontime.Time `json:"read_at"`
}

// InboxQuery asks for a page of a user's inbox, newest first; UnreadOnly keeps the
// unread messages.
type InboxQuery struct {
	UserID     uuid.UUID
	UnreadOnly bool
	keyset.Page
}

// InboxPage is a page of the inbox, how many messages are unread in all, and the
// cursor of the next page.
type InboxPage struct {
	Unread        int            `json:"unread"`
	Notifications []Notification `json:"notifications"`
	Next          *string        `json:"next" doc:"the after of the next page; null on the last"`
}

// NotificationQuery asks for one message of a user.
type NotificationQuery struct {
	UserID, NotificationID uuid.UUID
}

// Inbox reads a page of the inbox.
var Inbox = reading(inbox, Notifications)

// NotificationOf reads one message; somebody else's or an unknown one is
// domain.ErrNotificationNotFound.
var NotificationOf = reading(notificationOf, Notifications)

const notificationColumns = `SELECT notification_id::text, interview_id::text, kind, title, text, sent_at, read_at
	FROM notifications`

func inbox(ctx context.Context, db DB, q InboxQuery) (InboxPage, error) {
	at, id, after, err := keyset.Key(q.After)
	if err != nil {
		return InboxPage{}, err
	}
	rows, err := db.Query(ctx, notificationColumns+` WHERE user_id = $1 AND (NOT $2 OR read_at IS NULL)
			AND (NOT $3 OR (sent_at, notification_id) < ($4, $5))
		ORDER BY sent_at DESC, notification_id DESC LIMIT $6`, q.UserID, q.UnreadOnly, after, at, id, q.Limit+1)
	if err != nil {
		return InboxPage{}, err
	}
	list, err := pgx.CollectRows(rows, scanNotification)
	if err != nil {
		return InboxPage{}, err
	}
	var p InboxPage
	p.Notifications, p.Next = keyset.Cut(list, q.Limit, func(n Notification) (time.Time, string) { return n.SentAt.Time, n.ID })
	err = db.QueryRow(ctx, `SELECT count(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL`, q.UserID).
		Scan(&p.Unread)
	return p, err
}

func notificationOf(ctx context.Context, db DB, q NotificationQuery) (Notification, error) {
	return one(ctx, db, domain.ErrNotificationNotFound, scanNotification,
		notificationColumns+` WHERE notification_id = $1 AND user_id = $2`, q.NotificationID, q.UserID)
}

func scanNotification(r pgx.CollectableRow) (Notification, error) {
	var n Notification
	err := r.Scan(&n.ID, &n.InterviewID, &n.Kind, &n.Title, &n.Text, &n.SentAt, &n.ReadAt)
	return n, err
}

package notifier

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/supermock/engine/internal/jsontime"
	"github.com/supermock/engine/internal/keyset"
)

// Delivery is one message of the outbox as an operator sees it.
type Delivery struct {
	ID          string        `json:"id"`
	InterviewID string        `json:"interview_id"`
	UserID      string        `json:"user_id"`
	Username    string        `json:"username"`
	Kind        string        `json:"kind"`
	Status      string        `json:"status"`
	Attempts    int           `json:"attempts"`
	LastError   string        `json:"last_error"` // Telegram's answer, or what kept the call from one
	DueAt       jsontime.Time `json:"due_at"`
	UpdatedAt   jsontime.Time `json:"updated_at"`
}

// KindCount counts the outbox's messages of one kind and status.
type KindCount struct {
	Kind   string `json:"kind"`
	Status string `json:"status"`
	Count  int    `json:"count"`
}

// DeliveriesQuery asks for a page of the messages of the given statuses, latest first.
type DeliveriesQuery struct {
	Statuses []string
	keyset.Page
}

// Deliveries is what the query found: counts by kind and a page of the latest messages.
type Deliveries struct {
	ByKind     []KindCount `json:"by_kind"`
	Deliveries []Delivery  `json:"deliveries"`
	Total      int         `json:"total" doc:"how many messages the statuses hold, on every page"`
	Next       *string     `json:"next" doc:"the after of the next page; null on the last"`
}

// ReadDeliveries reads the outbox's messages of some statuses: what failed, what never
// got an answer. The outbox is the notifier's own table, not a projection's, so there
// is nothing to wait for before reading it.
func ReadDeliveries(ctx context.Context, db *pgxpool.Pool, q DeliveriesQuery) (Deliveries, error) {
	var out Deliveries
	rows, err := db.Query(ctx, `SELECT kind, status, count(*)::int FROM notifier_outbox
		WHERE status = ANY($1) GROUP BY kind, status ORDER BY kind, status`, q.Statuses)
	if err != nil {
		return out, err
	}
	if out.ByKind, err = pgx.CollectRows(rows, pgx.RowToStructByPos[KindCount]); err != nil {
		return out, err
	}
	for _, c := range out.ByKind {
		out.Total += c.Count
	}
	at, id, after, err := keyset.Key(q.After)
	if err != nil {
		return out, err
	}
	rows, err = db.Query(ctx, `SELECT o.notification_id::text, o.interview_id::text, o.user_id::text,
			coalesce(u.username, ''), o.kind, o.status, o.attempts, coalesce(o.last_error, ''), o.due_at, o.updated_at
		FROM notifier_outbox o LEFT JOIN users u ON u.user_id = o.user_id
		WHERE o.status = ANY($1) AND (NOT $2 OR (o.updated_at, o.notification_id) < ($3, $4))
		ORDER BY o.updated_at DESC, o.notification_id DESC LIMIT $5`, q.Statuses, after, at, id, q.Limit+1)
	if err != nil {
		return out, err
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Delivery, error) {
		var d Delivery
		err := r.Scan(&d.ID, &d.InterviewID, &d.UserID, &d.Username, &d.Kind, &d.Status, &d.Attempts,
			&d.LastError, &d.DueAt, &d.UpdatedAt)
		return d, err
	})
	out.Deliveries, out.Next = keyset.Cut(list, q.Limit, func(d Delivery) (time.Time, string) { return d.UpdatedAt.Time, d.ID })
	return out, err
}

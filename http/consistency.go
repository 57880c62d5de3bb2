package http

import (
	"context"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/supermock/engine/eventstore"
)

const (
	// maxFreshWait bounds how long a query waits for its projections.
	maxFreshWait = 3 * time.Second
	freshPoll    = 10 * time.Millisecond
)

// Read tables behind the query routes, by the projection that writes them.
var (
	readsUser          = []string{"users", "selected_professions", "user_form_data"}
	readsQueue         = []string{"interview_queue"}
	readsSlots         = []string{"interview_queue", "users", "user_form_data"}
	readsInterviews    = []string{"interviews", "feedback", "users"}
	readsNotifications = []string{"notifications"}
)

// fresh makes a route read its writes: with X-Min-Position: <cursor> the request waits
// (polling, 3 s at most) until every projection behind the route has consumed past
// the cursor. After 3 s it is served anyway, marked X-Projection-Lag: true.
func (s *server) fresh(names ...string) fiber.Handler {
	groups := projectionGroups(names)
	return func(c *fiber.Ctx) error {
		raw := c.Get(headerMinPosition)
		if raw == "" {
			return c.Next()
		}
		want, err := eventstore.ParsePosition(raw)
		if err != nil {
			return errBadCursor
		}
		ctx, cancel := context.WithTimeout(c.UserContext(), maxFreshWait)
		defer cancel()
		passed, err := s.waitConsumed(ctx, groups, want)
		if err != nil {
			return err
		}
		if !passed {
			c.Set(headerProjectionLag, "true")
		}
		return c.Next()
	}
}

// waitConsumed waits, until ctx ends, for every group to consume past want, and
// reports whether they did.
func (s *server) waitConsumed(ctx context.Context, groups []string, want eventstore.Position) (bool, error) {
	for {
		passed, err := s.consumedPast(ctx, groups, want)
		if err != nil && ctx.Err() == nil {
			return false, err
		}
		if passed || ctx.Err() != nil {
			return passed, nil
		}
		select {
		case <-ctx.Done():
		case <-time.After(freshPoll):
		}
	}
}

// consumedPast reports whether every group has acknowledged the event at want.
func (s *server) consumedPast(ctx context.Context, groups []string, want eventstore.Position) (bool, error) {
	var passed int
	err := s.Pool.QueryRow(ctx, `SELECT count(*) FROM watermill_offsets_events
		WHERE consumer_group = ANY($1)
			AND (last_processed_transaction_id, offset_acked) >= ($2::text::xid8, $3)`,
		groups, strconv.FormatUint(want.TxID, 10), want.Offset).Scan(&passed)
	return passed == len(groups), err
}

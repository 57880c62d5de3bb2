package http

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/supermock/engine/eventstore"
	"github.com/supermock/engine/projections"
)

const (
	// defaultFreshWait bounds how long one request waits for the read tables.
	defaultFreshWait = 3 * time.Second
	// maxWaitsPerUser bounds one user's requests waiting at once: a page that loads a
	// handful of lists after a write waits; a flood is refused.
	maxWaitsPerUser = 16
	localFreshness  = "freshness"
)

var (
	errPositionAhead = newError(fiber.StatusBadRequest, "position-ahead-of-log", "X-Min-Position is past the newest event of the log")
	errTooManyWaits  = newError(fiber.StatusTooManyRequests, "too-many-waits", "too many of your requests are waiting for the read tables: retry in a moment")
)

// freshness is what a request must see before it reads: the caller's own newest write
// (found in the log's index by actor, so it holds on any replica, with a cookie or a
// Bearer token alike) and X-Min-Position when sent. It is found once per request.
type freshness struct {
	at       eventstore.Position
	deadline time.Time
	lagging  bool
}

// read runs a read once the projections it reads have passed the request's position,
// or, after FreshWait (3 s), anyway with X-Projection-Lag: true.
func read[A, R any](s *server, c *fiber.Ctx, r projections.Read[A, R], arg A) (R, error) {
	if err := s.awaitFresh(c, r.Groups()); err != nil {
		var zero R
		return zero, err
	}
	// Inside an Idempotency-Key's transaction the read uses its connection: a request
	// never holds one connection while it waits for a second.
	var db projections.DB = s.Pool
	if tx, ok := c.Locals(localTx).(pgx.Tx); ok {
		db = tx
	}
	return r.Run(c.UserContext(), db, arg)
}

// awaitReads waits for the tables a command reads before it runs, ahead of the
// command's idempotency transaction, which the wait would otherwise hold open.
func (s *server) awaitReads(r interface{ Groups() []string }) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if err := s.awaitFresh(c, r.Groups()); err != nil {
			return err
		}
		return c.Next()
	}
}

func (s *server) awaitFresh(c *fiber.Ctx, groups []string) error {
	f, err := s.freshness(c)
	if err != nil || f.lagging || f.at == (eventstore.Position{}) || s.watcher.Passed(groups, f.at) {
		return err
	}
	release, err := s.waits.hold(sessionOf(c).UserID)
	if err != nil {
		return err
	}
	defer release()
	ctx, cancel := context.WithDeadline(c.UserContext(), f.deadline)
	defer cancel()
	if err := s.watcher.Wait(ctx, groups, f.at); err != nil {
		if c.UserContext().Err() != nil {
			return c.UserContext().Err()
		}
		f.lagging = true
		c.Set(headerProjectionLag, "true")
	}
	return nil
}

func (s *server) freshness(c *fiber.Ctx) (*freshness, error) {
	if f, ok := c.Locals(localFreshness).(*freshness); ok {
		return f, nil
	}
	asked, err := eventstore.ParsePosition(c.Get(headerMinPosition))
	if err != nil {
		return nil, errBadCursor
	}
	f := &freshness{at: asked, deadline: time.Now().Add(s.FreshWait)}
	if sess := sessionOf(c); sess.UserID != uuid.Nil {
		own, err := s.Store.Log().ActorsPosition(c.UserContext(), sess.UserID.String(), telegramActor(sess.TelegramID))
		if err != nil {
			return nil, err
		}
		if f.at.Less(own) {
			f.at = own
		}
	}
	if f.at == asked && asked != (eventstore.Position{}) {
		// Nobody can be waited for past the log's head: such a wait would only hold a
		// request for 3 s.
		head, err := s.Store.Log().LastCommitted(c.UserContext())
		if err != nil {
			return nil, err
		}
		if head.Less(asked) {
			return nil, errPositionAhead
		}
	}
	c.Locals(localFreshness, f)
	return f, nil
}

// sawWrite makes the rest of the request wait for the command it just ran.
func (s *server) sawWrite(c *fiber.Ctx, position string) {
	at, err := eventstore.ParsePosition(position)
	if err != nil || position == "" {
		return
	}
	f := &freshness{at: at, deadline: time.Now().Add(s.FreshWait)}
	if prev, ok := c.Locals(localFreshness).(*freshness); ok && at.Less(prev.at) {
		f.at = prev.at
	}
	c.Locals(localFreshness, f)
}

// telegramActor is the actor of a login: the user id is not known before it.
func telegramActor(id int64) string { return "telegram-" + strconv.FormatInt(id, 10) }

// waitCounts counts each user's requests waiting for the read tables.
type waitCounts struct {
	mu sync.Mutex
	n  map[uuid.UUID]int
}

func (w *waitCounts) hold(user uuid.UUID) (release func(), err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.n[user] >= maxWaitsPerUser {
		return nil, errTooManyWaits
	}
	if w.n == nil {
		w.n = map[uuid.UUID]int{}
	}
	w.n[user]++
	return func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		if w.n[user]--; w.n[user] == 0 {
			delete(w.n, user)
		}
	}, nil
}

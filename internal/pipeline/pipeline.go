// Package pipeline sends the batches of concurrent callers together: one round trip,
// one implicit transaction and one commit for all of those that came while the group
// before them was in flight.
package pipeline

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// lockWait is the longest a group waits for a lock before it gives up and its batches
// go alone, outside any group: a group holds the locks of all its batches, and one
// stuck behind another transaction must hold up neither the rest of its group nor the
// groups after it.
const lockWait = 50 * time.Millisecond

// lockNotAvailable is the SQLSTATE of a wait for a lock that outlasted lock_timeout.
const lockNotAvailable = "55P03"

// errTogether is the answer to every batch of a group that must go again alone.
var errTogether = errors.New("the batches sent together failed")

// Group sends batches over pool in groups, one group in flight at a time: the batches
// that come meanwhile go together as the next one. Being one at a time, no two groups
// can lock rows in opposite orders.
type Group struct {
	pool *pgxpool.Pool

	mu      sync.Mutex
	waiting []*queued
	sending bool
}

// New returns a group sending over pool.
func New(pool *pgxpool.Pool) *Group { return &Group{pool: pool} }

type queued struct {
	ctx     context.Context
	queries []*pgx.QueuedQuery
	done    chan error
}

// Send runs the queries of the batch build returns, their callbacks among them, in the
// next group: all of them or, when the server refuses any statement of the group, none,
// and then build is called again and its batch sent alone, so that the error of a
// statement reaches only its own caller. Any other error (a connection lost, a callback
// failing on an answer it cannot read) leaves unknown whether the group committed and
// is every caller's answer, as it would be for a batch sent alone. The callbacks must
// not count on being called once.
//
// A caller whose ctx ends while its batch waits is left out of the group; once the
// group is sent, Send waits for it to end, since the callbacks write what the caller
// reads, and the group stops only when every caller in it has given up.
func (g *Group) Send(ctx context.Context, build func() *pgx.Batch) error {
	q := &queued{ctx: ctx, queries: build().QueuedQueries, done: make(chan error, 1)}
	g.mu.Lock()
	g.waiting = append(g.waiting, q)
	if !g.sending {
		g.sending = true
		go g.run()
	}
	g.mu.Unlock()
	var err error
	select {
	case err = <-q.done:
	case <-ctx.Done():
		if g.withdraw(q) {
			return ctx.Err()
		}
		err = <-q.done
	}
	if errors.Is(err, errTogether) {
		return g.pool.SendBatch(ctx, build()).Close()
	}
	return err
}

// withdraw takes q out of the batches waiting for the next group, if it is still there.
func (g *Group) withdraw(q *queued) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	i := slices.Index(g.waiting, q)
	if i < 0 {
		return false
	}
	g.waiting = slices.Delete(g.waiting, i, i+1)
	return true
}

func (g *Group) run() {
	for {
		g.mu.Lock()
		next := g.waiting
		g.waiting = nil
		if len(next) == 0 {
			g.sending = false
			g.mu.Unlock()
			return
		}
		g.mu.Unlock()
		g.send(next)
	}
}

// send runs as one the batches of the callers in group who still wait.
func (g *Group) send(group []*queued) {
	live := group[:0]
	for _, q := range group {
		if err := q.ctx.Err(); err != nil {
			q.done <- err
			continue
		}
		live = append(live, q)
	}
	if len(live) == 0 {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	left := atomic.Int32{}
	left.Store(int32(len(live)))
	for _, q := range live {
		stop := context.AfterFunc(q.ctx, func() {
			if left.Add(-1) == 0 {
				cancel()
			}
		})
		defer stop()
	}
	b := &pgx.Batch{}
	b.Queue(`SELECT set_config('lock_timeout', $1, true)`, lockWait.String())
	for _, q := range live {
		b.QueuedQueries = append(b.QueuedQueries, q.queries...)
	}
	err := g.pool.SendBatch(ctx, b).Close()
	var refused *pgconn.PgError
	// The server refused a statement, so the group rolled back, or nothing was sent:
	// each batch can go again alone. A batch alone that was refused has its answer,
	// unless it only waited too long for a lock.
	again := pgconn.SafeToRetry(err) ||
		errors.As(err, &refused) && (len(live) > 1 || refused.Code == lockNotAvailable)
	for _, q := range live {
		switch {
		case err == nil:
			q.done <- nil
		case q.ctx.Err() != nil:
			q.done <- q.ctx.Err()
		case again:
			q.done <- errTogether
		default:
			q.done <- err
		}
	}
}

// Package pipeline sends the batches of concurrent callers together: one round trip,
// one implicit transaction and one commit for all of those that came while the group
// before them was in flight.
package pipeline

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// lockWait is the longest a group of several batches waits for a lock before it gives
// up and its batches go alone: a group holds the locks of all its batches, and one
// stuck behind another transaction must not hold up the rest.
const lockWait = 50 * time.Millisecond

// errTogether is the answer to every batch of a group that failed as one.
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
// next group: all of them or, if the group fails as one, none. Then build is called
// again and its batch sent alone, so that the error Send returns is the batch's own.
// The callbacks must not count on being called once.
//
// Send waits for its group to end even if ctx ends first, since the callbacks write
// what the caller reads; a group stops only when every caller in it has given up.
func (g *Group) Send(ctx context.Context, build func() *pgx.Batch) error {
	q := &queued{ctx: ctx, queries: build().QueuedQueries, done: make(chan error, 1)}
	g.mu.Lock()
	g.waiting = append(g.waiting, q)
	if !g.sending {
		g.sending = true
		go g.run()
	}
	g.mu.Unlock()
	err := <-q.done
	if errors.Is(err, errTogether) {
		return g.pool.SendBatch(ctx, build()).Close()
	}
	return err
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
	if len(live) == 1 {
		live[0].done <- g.pool.SendBatch(ctx, &pgx.Batch{QueuedQueries: live[0].queries}).Close()
		return
	}
	b := &pgx.Batch{}
	b.Queue(`SELECT set_config('lock_timeout', $1, true)`, lockWait.String())
	for _, q := range live {
		b.QueuedQueries = append(b.QueuedQueries, q.queries...)
	}
	err := g.pool.SendBatch(ctx, b).Close()
	for _, q := range live {
		switch {
		case err == nil:
			q.done <- nil
		case q.ctx.Err() != nil:
			q.done <- q.ctx.Err()
		default:
			q.done <- errTogether
		}
	}
}

// Package consumers is the one list of everything in the process that works through
// the log or the clock: the log's consumer groups (the projections, the matchmaker,
// the notifier's consumer) and the clock-driven loops (the notifier's scheduler and
// sender, the queue expiry). Each shows where it stands, how far behind it is, its
// last error and whether it runs; the admin API, health, readiness and /metrics read it.
package consumers

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/supermock/engine/eventstore"
)

// StuckAfter is how long a consumer may be behind without moving before it counts as
// stuck: readiness fails and health reports it.
const StuckAfter = time.Minute

// lagCap bounds the count of events behind, so a reading stays cheap on a log a new
// consumer has not read yet.
const lagCap = 10_000_000

// Backlog reads how much a clock-driven loop has due and not done: how many items and
// how long the oldest has been due.
type Backlog func(ctx context.Context) (items int64, seconds float64, err error)

// ScanBacklog reads a backlog from a row of (count, seconds), seconds NULL when
// nothing is due.
func ScanBacklog(row pgx.Row) (int64, float64, error) {
	var items int64
	var seconds *float64
	if err := row.Scan(&items, &seconds); err != nil {
		return 0, 0, fmt.Errorf("backlog: %w", err)
	}
	if seconds == nil {
		return items, 0, nil
	}
	return items, *seconds, nil
}

// Status is one consumer as an operator sees it.
type Status struct {
	Name string
	// Group is the consumer group of a log consumer; "" for a clock-driven loop,
	// whose Position is zero and whose lag counts due items instead of events.
	Group       string
	Position    eventstore.Position
	LagEvents   int64
	LagSeconds  float64
	LastError   string
	LastErrorAt time.Time
	Running     bool // in this process
	// Stuck: a log consumer behind whose position has not moved for StuckAfter (in
	// any replica), or a loop whose oldest due item waits longer than that.
	Stuck bool
}

// Board lists the consumers of the process in the order they were added.
type Board struct {
	store *eventstore.Store
	now   func() time.Time

	mu    sync.Mutex
	parts []*part

	cacheMu sync.Mutex
	cached  []Status
	readAt  time.Time
}

// cacheFor is how long one reading serves Cached: a reading costs queries, and
// health, readiness and /metrics are called by whoever can reach them.
const cacheFor = 5 * time.Second

type part struct {
	name, group string
	loop        *Loop
	// moved is when the group's position was last seen to change, and at what.
	seen  eventstore.Position
	moved time.Time
}

// NewBoard returns an empty board over the store whose groups it will show; now is
// the clock stuck consumers are judged by (time.Now when nil).
func NewBoard(store *eventstore.Store, now func() time.Time) *Board {
	if now == nil {
		now = time.Now
	}
	return &Board{store: store, now: now}
}

// Group adds a consumer group of the log, named after it; whether it runs and how it
// failed is what the event store's Consume records for it.
func (b *Board) Group(group string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.parts = append(b.parts, &part{name: group, group: group})
}

// Loop adds a clock-driven loop, which runs through the Loop returned.
func (b *Board) Loop(name string, backlog Backlog) *Loop {
	l := &Loop{backlog: backlog}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.parts = append(b.parts, &part{name: name, loop: l})
	return l
}

// Read reads every consumer's status. The lag of the groups is one query; each loop's
// backlog is one more.
func (b *Board) Read(ctx context.Context) ([]Status, error) {
	b.mu.Lock()
	parts := append([]*part(nil), b.parts...)
	b.mu.Unlock()
	var groups []string
	for _, p := range parts {
		if p.group != "" {
			groups = append(groups, p.group)
		}
	}
	lags, err := b.store.GroupLags(ctx, groups, lagCap)
	if err != nil {
		return nil, err
	}
	now := b.now()
	out := make([]Status, len(parts))
	for i, p := range parts {
		s := Status{Name: p.name, Group: p.group}
		if p.group != "" {
			lag := lags[p.group]
			st := b.store.GroupState(p.group)
			s.Position, s.LagEvents, s.LagSeconds = lag.Position, lag.Events, lag.Seconds
			s.LastError, s.LastErrorAt, s.Running = st.LastError, st.LastErrorAt, st.Running
			b.mu.Lock()
			if p.moved.IsZero() || p.seen != lag.Position {
				p.seen, p.moved = lag.Position, now
			}
			s.Stuck = lag.Events > 0 && now.Sub(p.moved) > StuckAfter
			b.mu.Unlock()
		} else {
			if s.LagEvents, s.LagSeconds, err = p.loop.backlog(ctx); err != nil {
				return nil, err
			}
			s.LagSeconds = max(s.LagSeconds, 0)
			s.LastError, s.LastErrorAt, s.Running = p.loop.state()
			s.Stuck = s.LagSeconds > StuckAfter.Seconds()
		}
		out[i] = s
	}
	return out, nil
}

// Cached is Read, or a reading younger than five seconds.
func (b *Board) Cached(ctx context.Context) ([]Status, error) {
	b.cacheMu.Lock()
	defer b.cacheMu.Unlock()
	if b.cached != nil && time.Since(b.readAt) < cacheFor {
		return b.cached, nil
	}
	statuses, err := b.Read(ctx)
	if err != nil {
		return nil, err
	}
	b.cached, b.readAt = statuses, time.Now()
	return statuses, nil
}

// Loop is a clock-driven loop's record of itself. A nil *Loop records nothing, for
// loops run without a board (tests, tools).
type Loop struct {
	backlog Backlog

	mu          sync.Mutex
	running     int
	lastError   string
	lastErrorAt time.Time
}

// Run runs the loop's body, shown as running until it returns; the error it ends with,
// other than its cancellation, is its last error.
func (l *Loop) Run(ctx context.Context, body func(context.Context) error) error {
	if l == nil {
		return body(ctx)
	}
	l.mu.Lock()
	l.running++
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		l.running--
		l.mu.Unlock()
	}()
	err := body(ctx)
	if err != nil && !errors.Is(err, context.Canceled) {
		l.Failed(err)
	}
	return err
}

// Failed records a failure the loop lives on after.
func (l *Loop) Failed(err error) {
	if l == nil || err == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lastError, l.lastErrorAt = err.Error(), time.Now()
}

func (l *Loop) state() (string, time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lastError, l.lastErrorAt, l.running > 0
}

// Ready says whether every consumer runs in this process and none is stuck; the
// statuses that are not are returned.
func Ready(statuses []Status) (bool, []Status) {
	var bad []Status
	for _, s := range statuses {
		if !s.Running || s.Stuck {
			bad = append(bad, s)
		}
	}
	return len(bad) == 0, bad
}

package eventstore

import (
	"context"
	"fmt"
	"sync"
	"time"

	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
)

// WatcherConfig says when a Watcher reads the groups' offsets while somebody waits. It
// reads at once when a new waiter comes, when a subscriber of this process commits (its
// group's offset moved) and when a commit to the log is announced, here or by another
// process; the interval bounds the wait for what announces nothing, a group's offset
// moved by a subscriber in another process without appending.
type WatcherConfig struct {
	// Interval is the longest wait between two reads (default 5 ms).
	Interval time.Duration
	// MinGap is the shortest: a new waiter or a wake-up is served at once, unless the
	// last read is more recent than this (default 1 ms).
	MinGap time.Duration
}

// Watcher tells callers when consumer groups have consumed the log past a position.
// One per process serves every waiter: while anybody waits it reads the watched
// groups' offsets in one query per round, and while nobody waits it reads nothing. A
// request that waits costs a channel, never a query loop of its own.
type Watcher struct {
	store *Store
	cfg   WatcherConfig
	kick  chan struct{}

	mu      sync.Mutex
	known   map[string]Position // the offsets last read; they only move forward
	waiters map[*waiter]struct{}
}

type waiter struct {
	groups []string
	at     Position
	done   chan struct{}
}

// NewWatcher returns a watcher of the store's consumer groups; Run drives it.
func (s *Store) NewWatcher(cfg WatcherConfig) *Watcher {
	if cfg.Interval <= 0 {
		cfg.Interval = 5 * time.Millisecond
	}
	if cfg.MinGap <= 0 {
		cfg.MinGap = time.Millisecond
	}
	return &Watcher{store: s, cfg: cfg, kick: make(chan struct{}, 1),
		known: map[string]Position{}, waiters: map[*waiter]struct{}{}}
}

// Passed reports, without any I/O, whether every group was last seen past at.
func (w *Watcher) Passed(groups []string, at Position) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.passed(groups, at)
}

func (w *Watcher) passed(groups []string, at Position) bool {
	for _, g := range groups {
		if w.known[g].Less(at) {
			return false
		}
	}
	return true
}

// Wait returns nil once every group has consumed the event at position at, or ctx's
// error when ctx ends first.
func (w *Watcher) Wait(ctx context.Context, groups []string, at Position) error {
	w.mu.Lock()
	if w.passed(groups, at) {
		w.mu.Unlock()
		return nil
	}
	wt := &waiter{groups: groups, at: at, done: make(chan struct{})}
	w.waiters[wt] = struct{}{}
	w.mu.Unlock()
	select {
	case w.kick <- struct{}{}:
	default:
	}
	select {
	case <-wt.done:
		return nil
	case <-ctx.Done():
		w.mu.Lock()
		delete(w.waiters, wt)
		w.mu.Unlock()
		return ctx.Err()
	}
}

// Run reads offsets for the waiters until ctx ends. A failed read is tried again in
// the next round; the waiters' own deadlines bound what it costs them.
func (w *Watcher) Run(ctx context.Context) error {
	committed := w.store.WatchCommits(ctx)
	timer := time.NewTimer(w.cfg.Interval)
	defer timer.Stop()
	for {
		groups := w.watched()
		if len(groups) == 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-w.kick:
			}
			continue
		}
		// The wake-ups are taken before the read, so what commits during it still wakes.
		appended, consumed := committed(), w.store.commits.consumed.wait()
		read := time.Now()
		if positions, err := w.store.GroupPositions(ctx, groups); err == nil {
			w.update(positions)
		}
		timer.Reset(w.cfg.Interval)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-w.kick:
		case <-appended:
		case <-consumed:
		case <-timer.C:
			continue
		}
		// Many requests arriving at once share a read instead of each causing one.
		if gap := w.cfg.MinGap - time.Since(read); gap > 0 {
			time.Sleep(gap)
		}
	}
}

// watched is every group some waiter waits for.
func (w *Watcher) watched() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	seen := map[string]bool{}
	var out []string
	for wt := range w.waiters {
		for _, g := range wt.groups {
			if !seen[g] {
				seen[g] = true
				out = append(out, g)
			}
		}
	}
	return out
}

// update records the offsets read and releases every waiter they satisfy.
func (w *Watcher) update(positions map[string]Position) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for g, p := range positions {
		if w.known[g].Less(p) {
			w.known[g] = p
		}
	}
	for wt := range w.waiters {
		if w.passed(wt.groups, wt.at) {
			close(wt.done)
			delete(w.waiters, wt)
		}
	}
}

// GroupPositions reads the offsets of the groups in one query; a group that has not
// started is absent.
func (s *Store) GroupPositions(ctx context.Context, groups []string) (map[string]Position, error) {
	rows, err := s.pool.Query(ctx, `SELECT consumer_group, last_processed_transaction_id, coalesce(offset_acked, 0)
		FROM `+offsetsTable+` WHERE consumer_group = ANY($1)`, groups)
	if err != nil {
		return nil, fmt.Errorf("read group positions: %w", err)
	}
	defer rows.Close()
	out := make(map[string]Position, len(groups))
	for rows.Next() {
		var group string
		var txID wsql.XID8
		var offset int64
		if err := rows.Scan(&group, &txID, &offset); err != nil {
			return nil, fmt.Errorf("read group positions: %w", err)
		}
		out[group] = Position{TxID: uint64(txID), Offset: offset}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read group positions: %w", err)
	}
	return out, nil
}

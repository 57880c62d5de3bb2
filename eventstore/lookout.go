package eventstore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5/pgxpool"
)

// lookout answers the subscribers of one topic in a process whether an event lies past
// their group's offset, and whether a poll may read it yet: one query for every group
// that asks meanwhile, instead of one per group after each commit. A group joins the
// next look to begin, never one under way, so a look always begins after the asker
// took its wait channel and a commit between the two still wakes it.
type lookout struct {
	pool    *pgxpool.Pool
	query   string
	mu      sync.Mutex
	next    *look // the look to begin after the running one; nil when nobody asked
	running bool
}

// look is one query for the groups that asked before it began.
type look struct {
	groups []string
	done   chan struct{}
	// visible: no entry when nothing lies past the group's offset; false when the
	// first event past it is still hidden behind an older open transaction.
	visible map[string]bool
	err     error
}

func newLookout(pool *pgxpool.Pool, messages, offsets string) *lookout {
	return &lookout{pool: pool, query: `SELECT g.name, (
			SELECT m.transaction_id < pg_snapshot_xmin(pg_current_snapshot())
			FROM ` + messages + ` m
			WHERE (m.transaction_id, m."offset") > (coalesce(o.last_processed_transaction_id, '0'), coalesce(o.offset_acked, 0))
			ORDER BY m.transaction_id, m."offset"
			LIMIT 1)
		FROM unnest($1::text[]) AS g(name)
		LEFT JOIN ` + offsets + ` o ON o.consumer_group = g.name`}
}

// pending reports whether an event past group's offset exists (found) and whether a
// poll may read it yet (visible).
func (l *lookout) pending(ctx context.Context, group string) (visible, found bool, err error) {
	l.mu.Lock()
	if l.next == nil {
		l.next = &look{done: make(chan struct{})}
	}
	lk := l.next
	if !slices.Contains(lk.groups, group) {
		lk.groups = append(lk.groups, group)
	}
	if !l.running {
		l.running = true
		go l.run()
	}
	l.mu.Unlock()
	select {
	case <-ctx.Done():
		return false, false, ctx.Err()
	case <-lk.done:
	}
	if lk.err != nil {
		return false, false, lk.err
	}
	visible, found = lk.visible[group]
	return visible, found, nil
}

// run begins the looks asked for, one after the other, until none is.
func (l *lookout) run() {
	for {
		l.mu.Lock()
		lk := l.next
		l.next = nil
		if lk == nil {
			l.running = false
			l.mu.Unlock()
			return
		}
		l.mu.Unlock()
		lk.visible, lk.err = l.look(lk.groups)
		close(lk.done)
	}
}

func (l *lookout) look(groups []string) (map[string]bool, error) {
	// The askers' contexts end their own waits; the query serves all of them.
	rows, err := l.pool.Query(context.Background(), l.query, groups)
	if err != nil {
		return nil, fmt.Errorf("look for events past the offsets of %s: %w", strings.Join(groups, ", "), err)
	}
	defer rows.Close()
	visible := make(map[string]bool, len(groups))
	for rows.Next() {
		var group string
		var v *bool
		if err := rows.Scan(&group, &v); err != nil {
			return nil, fmt.Errorf("look for events past the offsets of %s: %w", strings.Join(groups, ", "), err)
		}
		if v != nil {
			visible[group] = *v
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("look for events past the offsets of %s: %w", strings.Join(groups, ", "), err)
	}
	return visible, nil
}

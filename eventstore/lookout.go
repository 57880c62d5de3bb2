package eventstore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// lookout answers the subscribers of one topic in a process whether an event lies past
// their group's offset, and whether a poll may read it yet: one query for every group
// that asks meanwhile, instead of one per group after each commit. A group joins the
// next look to begin, never one under way, so a look always begins after the asker
// took its wait channel and a commit between the two still wakes it.
//
// A group that reads only some types (SubscriberConfig.Types) and finds nothing of them
// among the visible events past its offset does not poll to pass them: the look moves
// the offsets of every such group together, two round trips for all of them, under
// their groups' locks, as a poll would have.
type lookout struct {
	pool    *pgxpool.Pool
	commits *commits
	topic   string
	query   string
	skip    string
	mu      sync.Mutex
	next    *look // the look to begin after the running one; nil when nobody asked
	running bool
	// passErr is the failure of the last pass, for the next look; only run touches it.
	passErr error
}

// lookWindow bounds how many events past a group's offset one look reads to find its
// first wanted one, and how far one skip moves it.
const lookWindow = 1000

// look is one query for the groups that asked before it began.
type look struct {
	groups []string
	types  []string // each group's types, comma-joined; empty for all
	done   chan struct{}
	// visible: no entry when nothing lies past the group's offset; false when the
	// first event past it is still hidden behind an older open transaction.
	visible map[string]bool
	err     error
}

func newLookout(c *commits, topic, messages, offsets string) *lookout {
	past := `(m.transaction_id, m."offset") > (coalesce(o.last_processed_transaction_id, '0'), coalesce(o.offset_acked, 0))`
	return &lookout{pool: c.pool, commits: c, topic: topic,
		// Per group: whether the first event past its offset is visible, and of a group
		// of some types whether the first of them among the window's events is (null
		// when none is).
		query: `SELECT g.name, (
				SELECT m.transaction_id < pg_snapshot_xmin(pg_current_snapshot())
				FROM ` + messages + ` m WHERE ` + past + `
				ORDER BY m.transaction_id, m."offset" LIMIT 1), w.visible
		FROM unnest($1::text[], $2::text[]) AS g(name, types)
		LEFT JOIN ` + offsets + ` o ON o.consumer_group = g.name
		LEFT JOIN LATERAL (
			SELECT m.transaction_id < pg_snapshot_xmin(pg_current_snapshot()) AS visible
			FROM (SELECT m.transaction_id, m."offset", m.event_type FROM ` + messages + ` m WHERE ` + past + `
				ORDER BY m.transaction_id, m."offset" LIMIT ` + fmt.Sprint(lookWindow) + `) m
			WHERE g.types <> '' AND m.event_type = ANY(string_to_array(g.types, ','))
			ORDER BY m.transaction_id, m."offset" LIMIT 1
		) w ON true`,
		// Moves each group's offset to the last visible event of the window before the
		// first it wants; run once the groups' locks are held.
		skip: `WITH held AS (
			SELECT g.name, coalesce(o.offset_acked, 0) AS offset_acked,
				coalesce(o.last_processed_transaction_id, '0') AS last_processed_transaction_id, string_to_array(g.types, ',') AS types
			FROM unnest($1::text[], $2::text[]) AS g(name, types)
			LEFT JOIN ` + offsets + ` o ON o.consumer_group = g.name
		), window_events AS (
			SELECT h.name, w.transaction_id, w."offset", w.event_type = ANY(h.types) AS wanted
			FROM held h CROSS JOIN LATERAL (
				SELECT m.transaction_id, m."offset", m.event_type FROM ` + messages + ` m
				WHERE (m.transaction_id, m."offset") > (h.last_processed_transaction_id, h.offset_acked)
					AND m.transaction_id < pg_snapshot_xmin(pg_current_snapshot())
				ORDER BY m.transaction_id, m."offset" LIMIT ` + fmt.Sprint(lookWindow) + `) w
		), first_wanted AS (
			SELECT DISTINCT ON (name) name, transaction_id, "offset" FROM window_events WHERE wanted
			ORDER BY name, transaction_id, "offset"
		)
		INSERT INTO ` + offsets + ` (consumer_group, offset_acked, last_processed_transaction_id)
		SELECT DISTINCT ON (e.name) e.name, e."offset", e.transaction_id
		FROM window_events e LEFT JOIN first_wanted f ON f.name = e.name
		WHERE f.name IS NULL OR (e.transaction_id, e."offset") < (f.transaction_id, f."offset")
		ORDER BY e.name, e.transaction_id DESC, e."offset" DESC
		ON CONFLICT (consumer_group) DO UPDATE
			SET offset_acked = EXCLUDED.offset_acked, last_processed_transaction_id = EXCLUDED.last_processed_transaction_id
		RETURNING consumer_group`,
	}
}

// pending reports whether an event past group's offset that it reads (of types, or any
// if none) exists (found) and whether a poll may read it yet (visible).
func (l *lookout) pending(ctx context.Context, group string, types []string) (visible, found bool, err error) {
	l.mu.Lock()
	if l.next == nil {
		l.next = &look{done: make(chan struct{})}
	}
	lk := l.next
	if !slices.Contains(lk.groups, group) {
		lk.groups = append(lk.groups, group)
		lk.types = append(lk.types, strings.Join(types, ","))
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

// run begins the looks asked for, one after the other, until none is. The groups a look
// found with only events they do not want before the first they do are passed once it
// has answered its askers, before the next look begins; a pass that failed is the next
// look's error.
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
		var passing, passingTypes []string
		lk.visible, passing, passingTypes, lk.err = l.look(lk.groups, lk.types)
		if lk.err == nil {
			lk.err, l.passErr = l.passErr, nil
		}
		close(lk.done)
		if len(passing) > 0 {
			if err := l.pass(context.Background(), passing, passingTypes); err != nil {
				l.passErr = fmt.Errorf("pass the unwanted events past the offsets of %s: %w", strings.Join(passing, ", "), err)
			}
		}
	}
}

// look reads, for each group, whether a poll has something to read; of the groups that
// read only some types, those with none of them among the visible events ahead of the
// first they want are to be passed (with their types), and look again soon.
func (l *lookout) look(groups, types []string) (visible map[string]bool, passing, passingTypes []string, err error) {
	// The askers' contexts end their own waits; the query serves all of them.
	rows, err := l.pool.Query(context.Background(), l.query, groups, types)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("look for events past the offsets of %s: %w", strings.Join(groups, ", "), err)
	}
	defer rows.Close()
	visible = make(map[string]bool, len(groups))
	for rows.Next() {
		var group string
		var first, wanted *bool
		if err := rows.Scan(&group, &first, &wanted); err != nil {
			return nil, nil, nil, fmt.Errorf("look for events past the offsets of %s: %w", strings.Join(groups, ", "), err)
		}
		typed := types[slices.Index(groups, group)]
		switch {
		case first == nil: // nothing past the offset
		case typed == "" || !*first:
			visible[group] = *first
		case wanted != nil && *wanted: // the first event it wants is visible
			visible[group] = true
		default:
			// Visible events it does not want first: passed without a poll. It looks
			// again soon, for what lies past the window or behind an open transaction
			// (or polls then, if its lock was held by a poll elsewhere).
			passing, passingTypes = append(passing, group), append(passingTypes, typed)
			visible[group] = false
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, nil, fmt.Errorf("look for events past the offsets of %s: %w", strings.Join(groups, ", "), err)
	}
	return visible, passing, passingTypes, nil
}

// pass moves the offsets of groups, each reading only types (comma-joined), past the
// visible events of the window they do not want, up to the first they do, in a
// transaction of its own: two round trips for all of them. Each group's lock is taken
// first, as a poll takes it, so the move starts from the offset its last holder left;
// a group whose lock is held elsewhere is left to that poll.
func (l *lookout) pass(ctx context.Context, groups, types []string) error {
	keys := make([]string, len(groups))
	for i, group := range groups {
		keys[i] = groupLockKey(l.topic, group)
	}
	conn, err := l.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	var locked, lockedTypes, passed []string
	b := &pgx.Batch{}
	b.Queue(`BEGIN ISOLATION LEVEL READ COMMITTED`)
	b.Queue(`SELECT set_config('synchronous_commit', 'off', true)`) // the next look moves them again
	b.Queue(`SELECT g.name, g.types FROM unnest($1::text[], $2::text[], $3::text[]) AS g(name, types, key)
		WHERE pg_try_advisory_xact_lock(hashtextextended(g.key, 0))`, groups, types, keys).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var group, typed string
			if err := rows.Scan(&group, &typed); err != nil {
				return err
			}
			locked, lockedTypes = append(locked, group), append(lockedTypes, typed)
		}
		return rows.Err()
	})
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		_, _ = conn.Exec(ctx, `ROLLBACK`)
		return err
	}
	b = &pgx.Batch{}
	b.Queue(l.skip, locked, lockedTypes).Query(func(rows pgx.Rows) error {
		var err error
		passed, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	b.Queue(`COMMIT`)
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		_, _ = conn.Exec(ctx, `ROLLBACK`)
		return err
	}
	if len(passed) > 0 {
		l.commits.consumed.fire()
	}
	return nil
}

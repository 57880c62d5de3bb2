package eventstore

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// GroupState is what this process knows of a consumer group it runs: whether Consume
// runs for it now, and the last failure Consume heard of.
type GroupState struct {
	Running     bool
	LastError   string
	LastErrorAt time.Time
}

// groupStates is the Store's record of the groups it consumes for, kept by Consume.
type groupStates struct {
	mu     sync.Mutex
	groups map[string]*groupState
}

type groupState struct {
	running int // Consume calls under way for the group in this process
	GroupState
}

func (g *groupStates) get(group string) *groupState {
	if g.groups == nil {
		g.groups = map[string]*groupState{}
	}
	st, ok := g.groups[group]
	if !ok {
		st = &groupState{}
		g.groups[group] = st
	}
	return st
}

func (g *groupStates) started(group string, delta int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.get(group).running += delta
}

func (g *groupStates) failed(group string, err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	st := g.get(group)
	st.LastError, st.LastErrorAt = err.Error(), time.Now()
}

// GroupState says whether this process consumes for group now and how it last failed.
func (s *Store) GroupState(group string) GroupState {
	s.states.mu.Lock()
	defer s.states.mu.Unlock()
	st := s.states.get(group)
	out := st.GroupState
	out.Running = st.running > 0
	return out
}

// GroupLag is where a consumer group stands in the log, as every replica sees it.
type GroupLag struct {
	Position Position
	// Events counts the visible events after Position, up to the cap asked for;
	// Seconds is how long the oldest of them has waited since it was recorded (0 when
	// caught up).
	Events  int64
	Seconds float64
}

// GroupLags reads the lag of each group, counting at most limit events behind each:
// a group that has not started on a long log costs no more than that.
func (s *Store) GroupLags(ctx context.Context, groups []string, limit int64) (map[string]GroupLag, error) {
	rows, err := s.pool.Query(ctx, `
		WITH g AS (
			SELECT n.name, coalesce(o.last_processed_transaction_id, '0'::xid8) AS tx, coalesce(o.offset_acked, 0) AS off
			FROM unnest($1::text[]) AS n(name)
			LEFT JOIN `+offsetsTable+` o ON o.consumer_group = n.name
		)
		SELECT g.name, g.tx::text, g.off,
			(SELECT count(*) FROM (SELECT 1 FROM `+eventsTable+` e
				WHERE (e.transaction_id, e."offset") > (g.tx, g.off)
					AND e.transaction_id < pg_snapshot_xmin(pg_current_snapshot()) LIMIT $2) behind),
			coalesce(EXTRACT(EPOCH FROM clock_timestamp() - (SELECT e.created_at
				FROM `+eventsTable+` e
				WHERE (e.transaction_id, e."offset") > (g.tx, g.off)
					AND e.transaction_id < pg_snapshot_xmin(pg_current_snapshot())
				ORDER BY e.transaction_id, e."offset" LIMIT 1))::float8, 0)
		FROM g`, groups, limit)
	if err != nil {
		return nil, fmt.Errorf("group lags: %w", err)
	}
	defer rows.Close()
	out := make(map[string]GroupLag, len(groups))
	for rows.Next() {
		var (
			name, tx string
			lag      GroupLag
		)
		if err := rows.Scan(&name, &tx, &lag.Position.Offset, &lag.Events, &lag.Seconds); err != nil {
			return nil, fmt.Errorf("group lags: %w", err)
		}
		if lag.Position.TxID, err = strconv.ParseUint(tx, 10, 64); err != nil {
			return nil, fmt.Errorf("group lags: %w", err)
		}
		lag.Seconds = max(lag.Seconds, 0)
		out[name] = lag
	}
	return out, rows.Err()
}

// LockGroup takes a consumer group's lock in tx, and adds its offset row at the log's
// start for a group that never ran. The group's subscribers take that lock for each
// batch, so the call waits for the batch in flight to commit and keeps the next one out
// until tx ends: the group stands still at a clean position meanwhile.
func (s *Store) LockGroup(ctx context.Context, tx pgx.Tx, group string) error {
	b := &pgx.Batch{}
	b.Queue(`SELECT ` + groupLock(Topic, group))
	b.Queue(`INSERT INTO `+offsetsTable+` (consumer_group, offset_acked, last_processed_transaction_id)
		VALUES ($1, 0, '0') ON CONFLICT DO NOTHING`, group)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("lock consumer group %s: %w", group, err)
	}
	return nil
}

// SetGroupPosition moves a consumer group, locked in tx by LockGroup, to at: its
// subscribers go on after at once tx commits.
func (s *Store) SetGroupPosition(ctx context.Context, tx pgx.Tx, group string, at Position) error {
	if _, err := tx.Exec(ctx, `UPDATE `+offsetsTable+` SET offset_acked = $2, last_processed_transaction_id = $3::text::xid8
		WHERE consumer_group = $1`, group, at.Offset, strconv.FormatUint(at.TxID, 10)); err != nil {
		return fmt.Errorf("set the position of consumer group %s: %w", group, err)
	}
	return nil
}

// CountAfter counts the events after a position that readers may see now.
func (s *Store) CountAfter(ctx context.Context, after Position) (int64, error) {
	var n int64
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM `+eventsTable+`
		WHERE (transaction_id, "offset") > ($1::text::xid8, $2)
			AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())`,
		strconv.FormatUint(after.TxID, 10), after.Offset).Scan(&n); err != nil {
		return 0, fmt.Errorf("count the log: %w", err)
	}
	return n, nil
}

package projections

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

const switchAttempts = 5

// switchIn replaces a projection's live tables with its caught-up shadows in one
// transaction. Locking the consumer group's offsets row first waits for the live
// subscriber's batch in flight (it holds that lock until it commits) and keeps the next
// one out, so the live tables stand still at a clean position; the events after the
// shadows' position are applied, the tables renamed, and the group's offset set to
// where the shadows are. Readers wait for the rename's lock at most LockTimeout, then
// the switch is tried again.
func (rb *rebuild) switchIn(ctx context.Context, b *builder) error {
	var err error
	for range switchAttempts {
		err = pgx.BeginFunc(ctx, rb.pool, func(tx pgx.Tx) error { return rb.switchTx(ctx, tx, b) })
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "55P03" { // lock_not_available
			break
		}
		rb.cfg.Logger.Warn("rebuild switch waited too long for readers; trying again", "projection", b.p.Name())
	}
	if err != nil {
		return fmt.Errorf("switch %s in: %w", b.p.Name(), err)
	}
	return nil
}

func (rb *rebuild) switchTx(ctx context.Context, tx pgx.Tx, b *builder) error {
	group := Group(b.p.Name())
	if _, err := tx.Exec(ctx, `SELECT set_config('lock_timeout', $1, true)`, strconv.FormatInt(rb.cfg.LockTimeout.Milliseconds(), 10)); err != nil {
		return err
	}
	if err := rb.store.LockGroup(ctx, tx, group); err != nil {
		return err
	}
	// A failed attempt's transaction rolled back the tail it applied: start from the
	// shadows' committed state each time.
	saved := *b
	err := rb.read(ctx, b.pos, func(pg page) error { return rb.applyTx(ctx, tx, b, pg) })
	if err != nil {
		*b = saved
		return err
	}
	if err := rb.store.SetGroupPosition(ctx, tx, group, b.pos); err != nil {
		*b = saved
		return err
	}
	rename := &pgx.Batch{}
	for _, t := range b.p.Tables() {
		if err := queueRename(ctx, tx, rename, t); err != nil {
			*b = saved
			return err
		}
	}
	rename.Queue(`INSERT INTO projection_checkpoints (name, events_applied, last_event_at, updated_at, rebuilt_at)
		VALUES ($1, $2, $3, clock_timestamp(), clock_timestamp())
		ON CONFLICT (name) DO UPDATE SET events_applied = EXCLUDED.events_applied, last_event_at = EXCLUDED.last_event_at,
			updated_at = EXCLUDED.updated_at, rebuilt_at = EXCLUDED.rebuilt_at,
			last_error = NULL, last_error_at = NULL, error_position = NULL`,
		b.p.Name(), b.applied, nullTime(b.lastEventAt))
	rename.Queue(`DELETE FROM projection_rebuilds WHERE name = $1`, b.p.Name())
	if err := tx.SendBatch(ctx, rename).Close(); err != nil {
		*b = saved
		return err
	}
	rb.mu.Lock()
	b.shown = b.done
	rb.mu.Unlock()
	return nil
}

// queueRename drops the live table and renames the shadow in, giving its indexes the
// names the live ones had (matched by definition), so the migration's names survive.
func queueRename(ctx context.Context, tx pgx.Tx, b *pgx.Batch, table string) error {
	liveIdx, err := indexes(ctx, tx, table)
	if err != nil {
		return err
	}
	shadowIdx, err := indexes(ctx, tx, shadow(table))
	if err != nil {
		return err
	}
	b.Queue(`DROP TABLE ` + pgx.Identifier{table}.Sanitize())
	b.Queue(`ALTER TABLE ` + pgx.Identifier{shadow(table)}.Sanitize() + ` RENAME TO ` + pgx.Identifier{table}.Sanitize())
	for def, names := range shadowIdx {
		for i, name := range names {
			if i < len(liveIdx[def]) && liveIdx[def][i] != name {
				b.Queue(`ALTER INDEX ` + pgx.Identifier{name}.Sanitize() + ` RENAME TO ` + pgx.Identifier{liveIdx[def][i]}.Sanitize())
			}
		}
	}
	return nil
}

// indexes maps each index definition of a table, without its own and its table's
// name, to the names of the indexes with that definition.
func indexes(ctx context.Context, tx pgx.Tx, table string) (map[string][]string, error) {
	rows, err := tx.Query(ctx, `SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x
		JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = $1::regclass ORDER BY i.relname`, table)
	if err != nil {
		return nil, fmt.Errorf("indexes of %s: %w", table, err)
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			return nil, err
		}
		key := def
		if i := strings.Index(def, " USING "); i >= 0 {
			key = strconv.FormatBool(strings.HasPrefix(def, "CREATE UNIQUE")) + def[i:]
		}
		out[key] = append(out[key], name)
	}
	return out, rows.Err()
}

package projections

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/supermock/engine/internal/testdb"
)

// A read table that grows from a few hundred rows to many while one connection keeps
// writing it: the updates of a few rows still find them by key, instead of keeping a
// plan made for the small table that scans all of it.
func TestUpdatesOfATableThatGrewFindTheirRowsByKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `CREATE TABLE items (id uuid PRIMARY KEY, n int NOT NULL);
		INSERT INTO items SELECT gen_random_uuid(), 0 FROM generate_series(1, 400)`); err != nil {
		t.Fatal(err)
	}
	var ids []uuid.UUID
	if err := conn.QueryRow(ctx, `SELECT array_agg(id) FROM (SELECT id FROM items LIMIT 20) f`).Scan(&ids); err != nil {
		t.Fatal(err)
	}
	s := &schema{types: map[string]map[string]string{"items": {"id": "uuid", "n": "integer"}}}
	// update sets n of a few items in a transaction and says how many sequential scans
	// of the table it made.
	update := func(n int) (scans int64) {
		var c Changes
		for _, id := range ids {
			c.Update("items", Col{"id", id}, Row{{"n", n}})
		}
		stmts, err := s.plan(c.ops, live)
		if err != nil {
			t.Fatal(err)
		}
		err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			// The scans a backend counts are flushed when it is idle outside a
			// transaction: inside one, the difference is this transaction's.
			count := `SELECT seq_scan FROM pg_stat_xact_user_tables WHERE relname = 'items'`
			var before int64
			if err := tx.QueryRow(ctx, count).Scan(&before); err != nil {
				return err
			}
			b := &pgx.Batch{}
			for _, st := range stmts {
				b.Queue(st.sql, st.args...)
			}
			if err := tx.SendBatch(ctx, b).Close(); err != nil {
				return err
			}
			err := tx.QueryRow(ctx, count).Scan(&scans)
			scans -= before
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return scans
	}
	for n := range 10 { // more than the runs after which a connection may keep one plan
		update(n)
	}
	if _, err := conn.Exec(ctx, `INSERT INTO items SELECT gen_random_uuid(), 0 FROM generate_series(401, 50000)`); err != nil {
		t.Fatal(err)
	}
	if scans := update(10); scans != 0 {
		t.Fatalf("updating 20 of 50 000 rows scanned the table %d times, want none", scans)
	}
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM items WHERE n = 10`).Scan(&n); err != nil || n != len(ids) {
		t.Fatalf("%d rows updated (%v), want %d", n, err, len(ids))
	}
}

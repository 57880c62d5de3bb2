package demo_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/supermock/engine/domain"
	"github.com/supermock/engine/eventstore"
	"github.com/supermock/engine/internal/demo"
	"github.com/supermock/engine/internal/eventlog"
	"github.com/supermock/engine/internal/testdb"
	"github.com/supermock/engine/projections"
)

// decryptInPlace turns the log into one written before encryption: every payload in
// clear, no data keys. It returns the personal values the log holds.
func decryptInPlace(t *testing.T, pool *pgxpool.Pool) []string {
	t.Helper()
	ctx := context.Background()
	store, err := eventlog.New(pool)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := pool.Query(ctx, `SELECT DISTINCT stream_id FROM watermill_events`)
	if err != nil {
		t.Fatal(err)
	}
	streams, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	var values []string
	for _, stream := range streams {
		envs, err := store.Log().ReadStream(ctx, stream)
		if err != nil {
			t.Fatal(err)
		}
		for _, env := range envs {
			if _, err := pool.Exec(ctx, `UPDATE watermill_events SET payload = $1 WHERE uuid = $2`, string(env.Payload), env.EventID); err != nil {
				t.Fatal(err)
			}
			decoded, err := store.Log().Decode(env)
			if err != nil {
				t.Fatal(err)
			}
			_, fields := domain.PersonalFields(decoded.(domain.Event))
			var obj map[string]any
			if err := json.Unmarshal(env.Payload, &obj); err != nil {
				t.Fatal(err)
			}
			for _, f := range fields {
				if s, ok := obj[f].(string); ok && len(s) > 3 {
					values = append(values, s)
				}
			}
		}
	}
	if _, err := pool.Exec(ctx, `DELETE FROM data_keys`); err != nil {
		t.Fatal(err)
	}
	return values
}

// envelopes is every event's place in the log and its envelope, as stored.
func envelopes(t *testing.T, pool *pgxpool.Pool) string {
	t.Helper()
	var all string
	if err := pool.QueryRow(context.Background(), `SELECT string_agg(concat_ws(' ', transaction_id, "offset", uuid, stream_id,
		stream_version, event_type, metadata::text), E'\n' ORDER BY transaction_id, "offset") FROM watermill_events`).Scan(&all); err != nil {
		t.Fatal(err)
	}
	return all
}

// rebuiltTables rebuilds every projection and returns every row of the read tables.
func rebuiltTables(t *testing.T, pool *pgxpool.Pool, store *eventlog.Store) string {
	t.Helper()
	ctx := context.Background()
	// A rebuild reads up to what readers may see: other tests' open transactions on the
	// server would hide the end of the log from it.
	testdb.WaitVisible(t, store.Log())
	if err := projections.Rebuild(ctx, pool, store.Log(), projections.All(), projections.RebuildConfig{}); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, p := range projections.All() {
		for _, table := range p.Tables() {
			var rows string
			if err := pool.QueryRow(ctx, `SELECT coalesce(string_agg(to_jsonb(t)::text, E'\n' ORDER BY to_jsonb(t)::text), '')
				FROM `+table+` t`).Scan(&rows); err != nil {
				t.Fatal(err)
			}
			b.WriteString(table + ":\n" + rows + "\n")
		}
	}
	return b.String()
}

func plainValues(t *testing.T, pool *pgxpool.Pool, values []string) int {
	t.Helper()
	var payloads string
	if err := pool.QueryRow(context.Background(), `SELECT string_agg(payload::text, ' ') FROM watermill_events`).Scan(&payloads); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, v := range values {
		if strings.Contains(payloads, v) {
			n++
		}
	}
	return n
}

var errStop = errors.New("stopped")

// The tool encrypts a demo history written in clear in place: an interrupted run
// resumes, every event keeps its id, position and version, the read tables rebuild
// the same, and no personal value is left in clear.
func TestEncryptPersonalDataOverADemoHistory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	if _, err := demo.Generate(ctx, pool, demo.Config{Users: 30, Seed: 11, Days: 3}); err != nil {
		t.Fatal(err)
	}
	values := decryptInPlace(t, pool)
	if len(values) < 30 || plainValues(t, pool, values) != len(values) {
		t.Fatalf("the history in clear holds %d of %d personal values", plainValues(t, pool, values), len(values))
	}
	before := envelopes(t, pool)
	digest, events := history(t, pool)
	store, err := eventlog.New(pool)
	if err != nil {
		t.Fatal(err)
	}
	tables := rebuiltTables(t, pool, store)

	pages := 0
	_, err = store.Log().EncryptInPlace(ctx, 20, func(eventstore.Backfill) error {
		if pages++; pages == 2 {
			return errStop
		}
		return nil
	})
	if !errors.Is(err, errStop) {
		t.Fatalf("the interrupted run: %v", err)
	}
	if left := plainValues(t, pool, values); left == 0 || left == len(values) {
		t.Fatalf("after two pages %d of %d values are in clear: want some, not all", left, len(values))
	}
	resumed, err := eventlog.New(pool) // another process, with an empty cache of keys
	if err != nil {
		t.Fatal(err)
	}
	done, err := resumed.Log().EncryptInPlace(ctx, 100, nil)
	if err != nil || !done.Finished || done.Done != int64(events) || done.Encrypted == 0 {
		t.Fatalf("the resumed run: %+v, %v; the log has %d events", done, err, events)
	}
	if left := plainValues(t, pool, values); left != 0 {
		t.Fatalf("%d personal values are still in clear", left)
	}
	if after := envelopes(t, pool); after != before {
		t.Fatal("the tool changed an event's id, position, version or metadata")
	}
	if h, n := history(t, pool); h != digest || n != events {
		t.Fatalf("the decrypted history differs: %d events, before %d", n, events)
	}
	if got := rebuiltTables(t, pool, resumed); got != tables {
		t.Fatalf("the read tables rebuilt after the tool differ:\n%s\nbefore:\n%s", got, tables)
	}
	// A run over an encrypted log changes nothing.
	if again, err := resumed.Log().EncryptInPlace(ctx, 100, nil); err != nil || again.Encrypted != done.Encrypted {
		t.Fatalf("a second run: %+v, %v", again, err)
	}
}

package projections

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/supermock/engine/eventstore"
	"github.com/supermock/engine/internal/demo"
	"github.com/supermock/engine/internal/eventlog"
	"github.com/supermock/engine/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }

type env struct {
	pool  *pgxpool.Pool
	store *eventstore.Store
}

func newEnv(t testing.TB) env {
	t.Helper()
	pool := testdb.New(t)
	log, err := eventlog.New(pool)
	if err != nil {
		t.Fatal(err)
	}
	return env{pool: pool, store: log.Log()}
}

// generate appends a demo history and returns how many events it wrote.
func (e env) generate(t testing.TB, cfg demo.Config) int {
	t.Helper()
	stats, err := demo.Generate(context.Background(), e.pool, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return stats.Events
}

// startRunner runs the live projections until the test ends.
func (e env) startRunner(t testing.TB, ps []Projection, configure func(*Runner)) *Runner {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r, err := NewRunner(ctx, e.pool, e.store, ps, RunnerConfig{MaxBackoff: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if configure != nil {
		configure(r)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = r.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return r
}

// lastCommitted is the position of the last event committed so far. Store.Head may be
// behind it while another test's transaction is open (pg_snapshot_xmin is server-wide).
func lastCommitted(ctx context.Context, e env) (eventstore.Position, error) {
	var tx string
	var off int64
	err := e.pool.QueryRow(ctx, `SELECT e.transaction_id::text, e."offset" FROM watermill_events e
		ORDER BY e.transaction_id DESC, e."offset" DESC LIMIT 1`).Scan(&tx, &off)
	if errors.Is(err, pgx.ErrNoRows) {
		return eventstore.Position{}, nil
	}
	if err != nil {
		return eventstore.Position{}, err
	}
	id, err := strconv.ParseUint(tx, 10, 64)
	return eventstore.Position{TxID: id, Offset: off}, err
}

// waitCaughtUp waits until every projection's group has reached the last committed
// event. Other tests' open transactions hold back what is visible, so it polls.
func (e env) waitCaughtUp(t testing.TB, ps []Projection, timeout time.Duration) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(timeout)
	for {
		head, err := lastCommitted(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		behind := ""
		for _, p := range ps {
			pos, err := e.store.GroupPosition(ctx, Group(p.Name()))
			if err != nil {
				t.Fatal(err)
			}
			if pos.Less(head) {
				behind += fmt.Sprintf(" %s at %s", p.Name(), pos)
			}
		}
		if behind == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("projections did not reach the head %s in %s:%s", head, timeout, behind)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// dump is every row of a table as text, in a stable order.
func dump(t testing.TB, db interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, table string) []string {
	t.Helper()
	rows, err := db.Query(context.Background(), `SELECT x::text FROM `+pgx.Identifier{table}.Sanitize()+` x ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func dumpAll(t testing.TB, e env) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, p := range All() {
		for _, table := range p.Tables() {
			out[table] = dump(t, e.pool, table)
		}
	}
	return out
}

// sameRows fails the test with the first differences between two dumps.
func sameRows(t testing.TB, what string, want, got map[string][]string) {
	t.Helper()
	for table, w := range want {
		g := got[table]
		if strings.Join(w, "\n") == strings.Join(g, "\n") {
			continue
		}
		diff := 0
		for i := 0; i < max(len(w), len(g)) && diff < 3; i++ {
			var a, b string
			if i < len(w) {
				a = w[i]
			}
			if i < len(g) {
				b = g[i]
			}
			if a != b {
				t.Errorf("%s: %s row %d\n want %s\n  got %s", what, table, i, a, b)
				diff++
			}
		}
		t.Errorf("%s: %s has %d rows, want %d", what, table, len(g), len(w))
	}
}

// countEvents counts the log's events of the given types.
func countEvents(t testing.TB, e env, types ...string) int {
	t.Helper()
	n, err := e.store.CountEvents(context.Background(), types...)
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

func handledTypes(p Projection) []string {
	var out []string
	for _, t := range eventTypeNames() {
		if p.Handles(t) {
			out = append(out, t)
		}
	}
	return out
}

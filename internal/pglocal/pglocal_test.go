package pglocal_test

import (
	"context"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/supermock/engine/internal/pglocal"
)

// A server whose owner was killed keeps running; the next start takes the folder over
// with its data.
func TestStartTakesOverAServerLeftRunning(t *testing.T) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "supermock-pglocal-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	first, err := pglocal.Start(ctx, dir, pglocal.Options{Ephemeral: true})
	if err != nil {
		t.Fatalf("PostgreSQL is needed for this test: %v", err)
	}
	exec(t, first.URL("postgres"), `CREATE TABLE kept (n int); INSERT INTO kept VALUES (7)`)

	second, err := pglocal.Start(ctx, dir, pglocal.Options{Ephemeral: true}) // the first was never stopped
	if err != nil {
		t.Fatalf("start over a running server: %v", err)
	}
	t.Cleanup(func() { _ = second.Stop() })
	conn, err := pgx.Connect(ctx, second.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, `SELECT n FROM kept`).Scan(&n); err != nil || n != 7 {
		t.Fatalf("the data of the first server: %d, %v", n, err)
	}
}

func exec(t *testing.T, url, sql string) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), sql); err != nil {
		t.Fatal(err)
	}
}

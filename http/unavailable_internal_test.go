package http

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/supermock/engine/domain"
	"github.com/supermock/engine/internal/testdb"
)

// Each SQLSTATE and error type that means "the database is not there right now" is an
// outage, wrapped as the code wraps it or not: lost when no pooled connection can be
// trusted any more, busy when they are sound. The database's answers to a bad request,
// and errors of other kinds, are not outages.
func TestDatabaseOutageDecides(t *testing.T) {
	t.Parallel()
	state := func(code string) error { return &pgconn.PgError{Severity: "FATAL", Code: code} }
	cases := []struct {
		name string
		err  error
		want outage
	}{
		{"admin shutdown 57P01", state("57P01"), databaseLost},
		{"crash shutdown 57P02", state("57P02"), databaseLost},
		{"cannot connect now 57P03", state("57P03"), databaseLost},
		{"too many connections 53300", state("53300"), databaseBusy},
		{"read-only after a failover 25006", state("25006"), databaseLost},
		{"connection failure 08006", state("08006"), databaseLost},
		{"connection does not exist 08003", state("08003"), databaseLost},
		{"wrapped by a command", fmt.Errorf("load user 1: %w", state("57P01")), databaseLost},
		{"conn closed", fmt.Errorf("append: %w", pgconn.ErrConnClosed), databaseLost},
		{"reset socket", &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}, databaseLost},
		{"hung up mid-answer", fmt.Errorf("failed to receive message: %w", io.ErrUnexpectedEOF), databaseLost},
		{"pool wait past the deadline", context.DeadlineExceeded, databaseBusy},
		{"unique violation 23505", state("23505"), noOutage},
		{"undefined table 42P01", state("42P01"), noOutage},
		{"wrong password 28P01", state("28P01"), noOutage},
		{"no rows", pgx.ErrNoRows, noOutage},
		{"canceled", context.Canceled, noOutage},
		{"a domain refusal", domain.ErrInterviewNotFound, noOutage},
		{"anything else", errors.New("boom"), noOutage},
	}
	for _, c := range cases {
		if got := databaseOutage(c.err); got != c.want {
			t.Errorf("%s: databaseOutage(%v) = %v, want %v", c.name, c.err, got, c.want)
		}
	}
}

// The same decision on errors a real PostgreSQL and a real pool produce.
func TestDatabaseOutageOnRealErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testdb.NewDatabase(t)
	connect := func(t *testing.T, url string) *pgx.Conn {
		t.Helper()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = conn.Close(ctx) })
		return conn
	}
	admin := connect(t, url)
	terminated := func(t *testing.T) *pgx.Conn {
		victim := connect(t, url)
		if _, err := admin.Exec(ctx, `SELECT pg_terminate_backend($1, 10000)`, victim.PgConn().PID()); err != nil {
			t.Fatal(err)
		}
		return victim
	}
	outages := map[string]struct {
		want    outage
		produce func(t *testing.T) error
	}{
		"connection refused": {databaseLost, func(t *testing.T) error {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			_ = l.Close()
			_, err = pgx.Connect(ctx, "postgres://postgres@"+l.Addr().String()+"/x?sslmode=disable")
			return err
		}},
		// The server's FATAL 57P01 comes first, or a hang-up if the socket closes before
		// it is read; the connection is closed for good after either.
		"terminated backend (57P01)": {databaseLost, func(t *testing.T) error {
			_, err := terminated(t).Exec(ctx, `SELECT 1`)
			return err
		}},
		"a connection the server ended, used again": {databaseLost, func(t *testing.T) error {
			victim := terminated(t)
			_, _ = victim.Exec(ctx, `SELECT 1`)
			_, err := victim.Exec(ctx, `SELECT 1`)
			return err
		}},
		"read-only transaction (25006)": {databaseLost, func(t *testing.T) error {
			conn := connect(t, url)
			_, err := conn.Exec(ctx, `SET default_transaction_read_only = on`)
			if err != nil {
				t.Fatal(err)
			}
			_, err = conn.Exec(ctx, `INSERT INTO idempotency_keys (owner, key, request_hash) VALUES ('o', 'k', '')`)
			return err
		}},
		"a role over its connection limit (53300)": {databaseBusy, func(t *testing.T) error {
			role := "limited_" + strings.ReplaceAll(uuid.NewString(), "-", "")[:12]
			if _, err := admin.Exec(ctx, `CREATE ROLE `+role+` LOGIN CONNECTION LIMIT 0`); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _, _ = admin.Exec(ctx, `DROP ROLE `+role) })
			cfg, err := pgx.ParseConfig(url)
			if err != nil {
				t.Fatal(err)
			}
			cfg.User = role
			_, err = pgx.ConnectConfig(ctx, cfg)
			return err
		}},
		"a query unanswered by its deadline": {databaseBusy, func(t *testing.T) error {
			conn := connect(t, url)
			short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
			defer cancel()
			_, err := conn.Exec(short, `SELECT pg_sleep(30)`)
			return err
		}},
		"a pool with no free connection by the deadline": {databaseBusy, func(t *testing.T) error {
			cfg, err := pgxpool.ParseConfig(url)
			if err != nil {
				t.Fatal(err)
			}
			cfg.MaxConns = 1
			pool, err := pgxpool.NewWithConfig(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(pool.Close)
			held, err := pool.Acquire(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer held.Release()
			short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
			defer cancel()
			_, err = pool.Exec(short, `SELECT 1`)
			return err
		}},
	}
	for name, o := range outages {
		t.Run(name, func(t *testing.T) {
			err := o.produce(t)
			if got := databaseOutage(err); err == nil || got != o.want {
				t.Fatalf("%v is taken for %d, want %d", err, got, o.want)
			}
			if e := classify(err); e != errUnavailable {
				t.Fatalf("classified as %s", e)
			}
		})
	}
	_, err := admin.Exec(ctx, `INSERT INTO no_such_table VALUES (1)`)
	if err == nil || databaseOutage(err) != noOutage || classify(err) != errInternal {
		t.Fatalf("a query error %v is taken for an outage", err)
	}
}

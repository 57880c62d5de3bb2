// Package testdb gives every test a fresh, migrated PostgreSQL database: on the server
// of TEST_DATABASE_URL when it is set, otherwise on a private server started for the
// test binary from the installed PostgreSQL binaries.
package testdb

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/supermock/engine/internal/pglocal"
	"github.com/supermock/engine/migrations"
)

var (
	mu       sync.Mutex // serialises CREATE DATABASE from the template
	admin    *pgx.ConnConfig
	template string
	setupErr error
)

// Main runs the tests of a package. Call it from TestMain.
func Main(m *testing.M) {
	code, err := run(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testdb:", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

func run(m *testing.M) (int, error) {
	ctx := context.Background()
	serverURL := os.Getenv("TEST_DATABASE_URL")
	if serverURL == "" {
		dir, err := os.MkdirTemp("", "supermock-test-pg-")
		if err != nil {
			return 1, err
		}
		defer os.RemoveAll(dir)
		server, err := pglocal.Start(ctx, dir, pglocal.Options{Ephemeral: true, MaxConnections: 400})
		if err != nil {
			setupErr = fmt.Errorf("no TEST_DATABASE_URL and no private PostgreSQL: %w", err)
			return m.Run(), nil
		}
		defer server.Stop()
		serverURL = server.URL("postgres")
	}
	if setupErr = prepareTemplate(ctx, serverURL); setupErr != nil {
		return m.Run(), nil
	}
	defer dropDatabase(ctx, template)
	return m.Run(), nil
}

// prepareTemplate migrates one database that every test database is copied from.
func prepareTemplate(ctx context.Context, serverURL string) error {
	if u, err := url.Parse(serverURL); err != nil || u.Scheme == "" {
		return fmt.Errorf("TEST_DATABASE_URL must be a postgres:// URL, got %q", serverURL)
	}
	cfg, err := pgx.ParseConfig(serverURL)
	if err != nil {
		return fmt.Errorf("TEST_DATABASE_URL: %w", err)
	}
	admin = cfg
	template = "supermock_tmpl_" + strings.ReplaceAll(uuid.NewString()[:8], "-", "")
	if err := exec(ctx, "CREATE DATABASE "+template); err != nil {
		return err
	}
	pool, err := connect(ctx, databaseURL(template))
	if err != nil {
		return err
	}
	defer pool.Close()
	if _, err := migrations.Up(ctx, pool); err != nil {
		return err
	}
	return nil
}

// New returns a pool on a fresh migrated database, dropped when the test ends.
func New(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool, err := connect(context.Background(), NewDatabase(t))
	if err != nil {
		t.Fatalf("connect to test database: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// NewDatabase creates a fresh migrated database, dropped when the test ends, and
// returns its connection URL.
func NewDatabase(t testing.TB) string {
	t.Helper()
	if setupErr != nil {
		t.Fatalf("PostgreSQL is needed for this test: %v", setupErr)
	}
	if template == "" {
		t.Fatal("testdb needs testdb.Main in the package's TestMain")
	}
	name := "supermock_test_" + strings.ReplaceAll(uuid.NewString(), "-", "")[:16]
	mu.Lock()
	err := exec(context.Background(), "CREATE DATABASE "+name+" TEMPLATE "+template)
	mu.Unlock()
	if err != nil {
		t.Fatalf("create test database: %v", err)
	}
	// Cleanups run last-in first-out: pools made from the URL close before the drop.
	t.Cleanup(func() { dropDatabase(context.Background(), name) })
	return databaseURL(name)
}

func databaseURL(db string) string {
	u, _ := url.Parse(admin.ConnString()) // checked by prepareTemplate
	u.Path = "/" + db
	return u.String()
}

func connect(ctx context.Context, url string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, err
	}
	cfg.MaxConns = 80
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return pool, nil
}

func exec(ctx context.Context, sql string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, admin)
	if err != nil {
		return fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("%s: %w", sql, err)
	}
	return nil
}

func dropDatabase(ctx context.Context, name string) {
	_ = exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
}

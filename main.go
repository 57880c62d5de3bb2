// Command supermock is the SuperMock engine: one binary that serves the API and runs the
// log's consumers, and the tools around them.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	api "github.com/supermock/engine/http"
	"github.com/supermock/engine/internal/config"
	"github.com/supermock/engine/internal/pglocal"
	"github.com/supermock/engine/migrations"
)

const usage = `usage: supermock [command]

commands:
  serve     apply migrations and serve the API (default)
  migrate   apply migrations and exit`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "supermock:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	command := "serve"
	if len(args) > 0 {
		command = args[0]
	}
	switch command {
	case "serve", "migrate":
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	default:
		return fmt.Errorf("unknown command %q\n%s", command, usage)
	}

	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	logger := newLogger(cfg, stdout)
	logger.Info("starting", "command", command, "config", cfg)

	pool, closeDB, err := openDatabase(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer closeDB()
	applied, err := migrations.Up(ctx, pool)
	if err != nil {
		return err
	}
	logger.Info("migrations applied", "count", applied)
	if command == "migrate" {
		return nil
	}

	app := api.New(api.Deps{Pool: pool, Logger: logger, TelegramEnabled: cfg.TelegramToken != ""})
	addr := ":" + strconv.Itoa(cfg.Port)
	logger.Info("serving", "addr", addr)
	if err := api.Serve(ctx, app, addr); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	logger.Info("stopped")
	return nil
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	if cfg.IsProduction() {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

// openDatabase connects to DATABASE_URL or, without one, to a private PostgreSQL it
// starts in .data/postgres and stops again when the engine exits.
func openDatabase(ctx context.Context, cfg config.Config, logger *slog.Logger) (*pgxpool.Pool, func(), error) {
	url := cfg.DatabaseURL
	stopServer := func() {}
	if url == "" {
		server, err := pglocal.Start(ctx, filepath.Join(".data", "postgres"), pglocal.Options{})
		if err != nil {
			return nil, nil, fmt.Errorf("no DATABASE_URL, and a private PostgreSQL could not start: %w", err)
		}
		stopServer = func() {
			if err := server.Stop(); err != nil {
				logger.Error("stop private PostgreSQL", "err", err)
			}
		}
		logger.Info("private PostgreSQL started", "data", server.DataDir(), "url", server.URL("supermock"))
		if err := createDatabase(ctx, server.URL("postgres"), "supermock"); err != nil {
			stopServer()
			return nil, nil, err
		}
		url = server.URL("supermock")
	}
	pool, err := pgxpool.New(ctx, url)
	if err == nil {
		err = pool.Ping(ctx)
	}
	if err != nil {
		stopServer()
		return nil, nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	return pool, func() { pool.Close(); stopServer() }, nil
}

func createDatabase(ctx context.Context, adminURL, name string) error {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return fmt.Errorf("connect to private PostgreSQL: %w", err)
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P04" { // it exists from an earlier run
		return nil
	}
	if err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

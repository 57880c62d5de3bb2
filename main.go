// Command supermock is the SuperMock engine: one binary that serves the API and runs the
// log's consumers, and the tools around them.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/sync/errgroup"

	"github.com/supermock/engine/domain"

	api "github.com/supermock/engine/http"
	"github.com/supermock/engine/internal/config"
	"github.com/supermock/engine/internal/eventlog"
	"github.com/supermock/engine/internal/pglocal"
	"github.com/supermock/engine/migrations"
	"github.com/supermock/engine/projections"
	"github.com/supermock/engine/projections/matchmaker"
	"github.com/supermock/engine/projections/notifier"
)

const usage = `usage: supermock [command]

commands:
  serve     apply migrations and serve the API (default)
  migrate   apply migrations and exit
  healthcheck [url]
            exit 0 when the API at PORT (or url) answers healthy: Docker's HEALTHCHECK
` + toolsUsage

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
	case "healthcheck":
		return healthcheck(ctx, args[1:], getenv, stdout)
	case "rebuild", "replay", "demo":
		return runTool(ctx, command, args[1:], getenv, stdout)
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
	if command == "serve" && !cfg.IsProduction() && cfg.JWTSecret == "" {
		if cfg.JWTSecret, err = config.DevelopmentSecret(filepath.Join(dataDir(), "jwt-secret")); err != nil {
			return err
		}
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

	return serve(ctx, cfg, pool, logger)
}

// serve runs the API and the log's consumers until ctx ends; the first of them to fail
// stops the others. Requests in flight drain and consumers stop between two events.
func serve(ctx context.Context, cfg config.Config, pool *pgxpool.Pool, logger *slog.Logger) error {
	store, err := eventlog.New(pool)
	if err != nil {
		return err
	}
	clock := domain.ClockFunc(time.Now)
	expirer, err := matchmaker.NewExpirer(store, clock, cfg.InterviewDuration, logger)
	if err != nil {
		return err
	}
	runner, err := projections.NewRunner(ctx, pool, store.Log(), projections.All(), projections.RunnerConfig{Logger: logger})
	if err != nil {
		return err
	}
	var appURL string
	if frontends := cfg.FrontendURLs(); len(frontends) > 0 {
		appURL = frontends[0]
	}
	notif, err := notifier.New(store, notifier.Config{
		Token: cfg.TelegramToken, APIURL: cfg.TelegramAPIURL, AppURL: appURL, Clock: clock, Logger: logger,
	})
	if err != nil {
		return err
	}
	metrics := api.NewMetrics(pool)
	app, err := api.New(api.Deps{Pool: pool, Logger: logger, Config: cfg, Store: store, Now: clock, Metrics: metrics})
	if err != nil {
		return err
	}
	addr := net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port))
	metricsAddr := net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.MetricsPort))
	if ip := net.ParseIP(cfg.Host); ip != nil && ip.IsLoopback() {
		logger.Warn("listening on loopback only: nothing outside this machine reaches the API; set HOST=0.0.0.0 to serve every interface",
			"app_env", cfg.AppEnv, "host", cfg.Host)
	}

	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		logger.Info("serving", "addr", addr)
		if err := api.Serve(ctx, app, addr); err != nil {
			return fmt.Errorf("serve: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		logger.Info("serving metrics", "addr", metricsAddr)
		if err := api.Serve(ctx, metrics.App(), metricsAddr); err != nil {
			return fmt.Errorf("serve metrics: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		return untilCancelled(matchmaker.New(store, clock, cfg.InterviewDuration, logger).Run(ctx))
	})
	g.Go(func() error { return untilCancelled(expirer.Run(ctx, expiryInterval)) })
	g.Go(func() error { return untilCancelled(api.NewKeyPurge(pool, clock, logger).Run(ctx, keyPurgeInterval)) })
	g.Go(func() error { return untilCancelled(notif.Run(ctx)) })
	g.Go(func() error { return untilCancelled(runner.Run(ctx)) })
	err = g.Wait()
	logger.Info("stopped")
	return err
}

// minPoolSize leaves room for the eleven consumer groups and the API's requests; a
// pool_max_conns in DATABASE_URL may raise it.
const minPoolSize = 40

// expiryInterval is how often waiting entries are checked against the clock: an entry
// expires at most this long after its window stopped fitting an interview.
const expiryInterval = 30 * time.Second

// keyPurgeInterval is how often Idempotency-Key rows past their 24 h are deleted.
const keyPurgeInterval = time.Hour

// untilCancelled turns a consumer's stop on shutdown into a clean end.
func untilCancelled(err error) error {
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
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
		server, err := pglocal.Start(ctx, filepath.Join(dataDir(), "postgres"), pglocal.Options{})
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
	poolConfig, err := pgxpool.ParseConfig(url)
	if err != nil {
		stopServer()
		return nil, nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	if poolConfig.MaxConns < minPoolSize {
		// Every consumer group holds a connection through its batches; requests
		// need theirs besides.
		poolConfig.MaxConns = minPoolSize
	}
	pool, err := pgxpool.NewWithConfig(ctx, poolConfig)
	if err == nil {
		err = pool.Ping(ctx)
	}
	if err != nil {
		stopServer()
		return nil, nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	return pool, func() { pool.Close(); stopServer() }, nil
}

// dataDir is the checkout's .data folder, at the module root whatever the working
// folder inside it; outside a module (an image) it is .data in the working folder.
func dataDir() string {
	if wd, err := os.Getwd(); err == nil {
		for dir := wd; ; dir = filepath.Dir(dir) {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				return filepath.Join(dir, ".data")
			}
			if filepath.Dir(dir) == dir {
				break
			}
		}
	}
	return ".data"
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

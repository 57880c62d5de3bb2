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
	"github.com/supermock/engine/internal/consumers"
	"github.com/supermock/engine/internal/eventlog"
	"github.com/supermock/engine/internal/pglocal"
	"github.com/supermock/engine/migrations"
	"github.com/supermock/engine/projections"
	"github.com/supermock/engine/projections/matchmaker"
	"github.com/supermock/engine/projections/natsforward"
	"github.com/supermock/engine/projections/notifier"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "supermock:", err)
	}
	os.Exit(exitCode(err))
}

// run reads the command line, then, for the commands on the log, the configuration,
// opens and migrates the database and runs the command. A server's logs are its
// output and go to stdout; a tool's stdout carries its data, so its logs and progress
// go to stderr.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd, b, err := parse(args, stdout)
	if err != nil || b == nil {
		return err
	}
	e := &runEnv{getenv: getenv, stdout: stdout, stderr: stderr}
	if !cmd.database {
		return b(ctx, e)
	}
	if e.cfg, err = config.Load(getenv); err != nil {
		return err
	}
	if cmd.name == "serve" && !e.cfg.IsProduction() && e.cfg.JWTSecret == "" {
		if e.cfg.JWTSecret, err = config.DevelopmentSecret(filepath.Join(dataDir(), "jwt-secret")); err != nil {
			return err
		}
	}
	if !e.cfg.IsProduction() && e.cfg.DataKey == "" {
		// Every command reads personal data, so every one shares the checkout's key.
		if e.cfg.DataKey, err = config.DevelopmentSecret(filepath.Join(dataDir(), "data-key")); err != nil {
			return err
		}
	}
	masterKeys, err := e.cfg.DataKeys()
	if err != nil {
		return err
	}
	logs := stderr
	if cmd.name == "serve" || cmd.name == "migrate" {
		logs = stdout
	}
	e.logger = newLogger(e.cfg, logs)
	e.logger.Info("starting", "command", cmd.name, "config", e.cfg)

	pool, closeDB, err := openDatabase(ctx, e.cfg, e.logger)
	if err != nil {
		return err
	}
	defer closeDB()
	applied, err := migrations.Up(ctx, pool)
	if err != nil {
		return err
	}
	e.logger.Info("migrations applied", "count", applied)
	if e.store, err = eventlog.New(pool, eventlog.WithLogger(e.logger), eventlog.WithMasterKeys(masterKeys...)); err != nil {
		return err
	}
	e.pool = pool
	return b(ctx, e)
}

// serveCommand runs the API and the log's consumers until ctx ends; the first of them
// to fail stops the others. Requests in flight drain and consumers stop between two
// events.
func serveCommand(ctx context.Context, e *runEnv) error {
	cfg, pool, store, logger := e.cfg, e.pool, e.store, e.logger
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
	board := consumers.NewBoard(store.Log(), nil)
	for _, p := range projections.All() {
		board.Group(projections.Group(p.Name()))
	}
	board.Group(matchmaker.Group)
	var forwarder *natsforward.Forwarder
	if cfg.NATSURL != "" {
		if forwarder, err = natsforward.New(store.Log(), natsforward.Config{URL: cfg.NATSURL, Logger: logger}); err != nil {
			return err
		}
		defer forwarder.Close()
		board.Group(natsforward.Group)
	}
	notif.Report(board)
	expirer.Report(board)
	metrics := api.NewMetrics(pool, store.Log(), board)
	app, err := api.New(api.Deps{Pool: pool, Logger: logger, Config: cfg, Store: store, Now: clock, Metrics: metrics, Consumers: board})
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
		if err := api.Serve(ctx, metrics.App(cfg.Pprof), metricsAddr); err != nil {
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
	if forwarder != nil {
		g.Go(func() error { return untilCancelled(forwarder.Run(ctx)) })
	}
	err = g.Wait()
	logger.Info("stopped")
	return err
}

// minPoolSize leaves room for the twelve consumer groups and the API's requests; a
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
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.IsProduction() {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// openDatabase connects to DATABASE_URL or, without one, to the checkout's private
// PostgreSQL in .data/ at the module root: the one already running, which other
// commands may be using, or one it starts and stops again when it is done.
func openDatabase(ctx context.Context, cfg config.Config, logger *slog.Logger) (*pgxpool.Pool, func(), error) {
	url := cfg.DatabaseURL
	stopServer := func() {}
	if url == "" {
		server, err := pglocal.Open(ctx, dataDir(), pglocal.Options{})
		if err != nil {
			return nil, nil, fmt.Errorf("no DATABASE_URL, and a private PostgreSQL could not start: %w", err)
		}
		stopServer = func() {
			if err := server.Close(); err != nil {
				logger.Error("leave private PostgreSQL", "err", err)
			}
		}
		logger.Info("private PostgreSQL", "data", server.DataDir(), "url", server.URL("supermock"), "owner", server.Owner())
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
	// It exists from an earlier run (42P04), or another command created it at the same
	// time (23505).
	if errors.As(err, &pgErr) && (pgErr.Code == "42P04" || pgErr.Code == "23505") {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

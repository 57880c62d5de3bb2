// Package http is the engine's JSON API on fiber: routes, authentication, DTOs, error
// mapping, rate limits, idempotency, read-your-writes, metrics and the health of the
// parts behind it.
package http

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/supermock/engine/domain"
	"github.com/supermock/engine/eventstore"
	"github.com/supermock/engine/internal/config"
	"github.com/supermock/engine/internal/consumers"
	"github.com/supermock/engine/internal/eventlog"
	"github.com/supermock/engine/internal/pipeline"
)

const (
	// bodyLimit bounds every request body; a larger one is 413 body-too-large.
	bodyLimit = 64 << 10
	// writeTimeout bounds writing one answer; a stream renews it as it flows.
	writeTimeout = 30 * time.Second
	// requestTimeout bounds the work of one request, database calls included.
	requestTimeout = 10 * time.Second
	localRequestID = "requestid"
)

// Deps are what the API serves from. Pool is required; Store defaults to the log in
// Pool, Service to a domain service over Store (with its appends timed for /metrics),
// Logger to a discarding one, Now to time.Now, Metrics to collectors of the app's own
// (serve them with Metrics.App), FreshWait to 3 s.
type Deps struct {
	Pool    *pgxpool.Pool
	Logger  *slog.Logger
	Config  config.Config
	Store   *eventlog.Store
	Service *domain.Service
	Now     func() time.Time
	Metrics *Metrics
	// FreshWait bounds how long a read waits for the read tables to show the caller's
	// writes before it is served marked X-Projection-Lag.
	FreshWait time.Duration
	// Consumers is the process's board of consumers, shown by the admin API, health,
	// readiness and /metrics; nil for an API that runs none.
	Consumers *consumers.Board
	// stream tunes GET /api/stream; only tests change it.
	stream streamConfig
}

// server is the API's state shared by its handlers.
type server struct {
	Deps
	// secrets check session tokens: JWT_SECRET, which signs them, then JWT_SECRET_PREVIOUS.
	secrets [][]byte
	admins  map[int64]bool
	proxies proxies
	// origins may send state changes on the cookie, and pass CORS (FRONTEND_URL).
	origins map[string]bool
	// commandLimit and queryLimit are the two rate-limit budgets, shared by all routes.
	commandLimit, queryLimit fiber.Handler
	metrics                  *Metrics
	// watcher tells waiting requests when the read tables have passed a position.
	watcher *eventstore.Watcher
	waits   waitCounts
	// hub is the one tail of the log that feeds every GET /api/stream.
	hub *hub
	// checks sends the session checks of concurrent requests together.
	checks *pipeline.Group
	// lifetime ends when the app shuts down; background work (rebuilds) stops with it.
	lifetime   context.Context
	stop       context.CancelFunc
	background sync.WaitGroup
}

// New builds the fiber app with every route. Deps.Config gets the defaults config.Load
// would give it; a configuration that must never serve, such as production without a
// long enough JWT_SECRET, is an error.
func New(d Deps) (*fiber.App, error) {
	s, err := newServer(d)
	if err != nil {
		return nil, fmt.Errorf("http: %w", err)
	}
	app := fiber.New(fiber.Config{
		AppName:               "supermock",
		DisableStartupMessage: true,
		BodyLimit:             bodyLimit,
		ReadTimeout:           10 * time.Second,
		WriteTimeout:          writeTimeout,
		IdleTimeout:           60 * time.Second,
		ErrorHandler:          s.errorHandler,
		// fiber believes the left-most X-Forwarded-For entry, the one a client writes:
		// the client's address is clientIP's, and c.IP() is the peer's.
		EnableTrustedProxyCheck: true,
		TrustedProxies:          s.Config.TrustedProxies,
	})
	app.Use(requestID)
	app.Use(s.observe)
	app.Use(refuseEncodedBodies)
	app.Use(recover.New())
	app.Use(s.securityHeaders()...)
	app.Use(checkRoute)
	s.routes(app)
	s.legacyRoutes(app)
	app.Hooks().OnShutdown(func() error {
		s.stop()
		s.background.Wait()
		return nil
	})
	app.Use(func(c *fiber.Ctx) error {
		c.Locals(localRoute, "unmatched")
		return errNotFound
	})
	return app, nil
}

func newServer(d Deps) (*server, error) {
	if d.Pool == nil {
		return nil, errors.New("Deps.Pool is required")
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	d.Config.SetDefaults()
	if err := d.Config.Validate(); err != nil {
		return nil, err
	}
	if d.FreshWait <= 0 {
		d.FreshWait = defaultFreshWait
	}
	secret := []byte(d.Config.JWTSecret)
	if len(secret) == 0 {
		// A development server given no secret (tests, tools): its sessions end with it.
		secret = make([]byte, config.MinSecretLength)
		_, _ = rand.Read(secret)
	}
	secrets := [][]byte{secret}
	if d.Config.JWTSecretPrevious != "" {
		secrets = append(secrets, []byte(d.Config.JWTSecretPrevious))
	}
	trusted, err := parseProxies(d.Config.TrustedProxies)
	if err != nil {
		return nil, fmt.Errorf("TRUSTED_PROXIES: %w", err)
	}
	if d.Store == nil {
		if d.Store, err = eventlog.New(d.Pool); err != nil {
			return nil, err
		}
	}
	if d.Metrics == nil {
		d.Metrics = NewMetrics(d.Pool, d.Store.Log(), d.Consumers)
	}
	if d.Service == nil {
		d.Service, err = domain.NewService(TimeAppends(d.Store), domain.Config{
			Clock: domain.ClockFunc(d.Now), InterviewDuration: d.Config.InterviewDuration, Keys: d.Store,
		})
		if err != nil {
			return nil, err
		}
	}
	admins := make(map[int64]bool, len(d.Config.AdminTelegramIDs))
	for _, id := range d.Config.AdminTelegramIDs {
		admins[id] = true
	}
	lifetime, stop := context.WithCancel(context.Background())
	srv := &server{Deps: d, secrets: secrets, admins: admins, proxies: trusted, origins: origins(d.Config.FrontendURLs()),
		metrics: d.Metrics, lifetime: lifetime, stop: stop, watcher: d.Store.Log().NewWatcher(eventstore.WatcherConfig{}),
		checks: pipeline.New(d.Pool)}
	srv.commandLimit, srv.queryLimit = srv.limiter(d.Config.RateLimitMax), srv.limiter(d.Config.RateLimitQueryMax)
	srv.hub = newHub(d.Store.Log(), renderer{db: d.Pool, watcher: srv.watcher}, d.stream, d.Logger)
	srv.background.Add(2)
	go func() {
		defer srv.background.Done()
		_ = srv.watcher.Run(lifetime)
	}()
	go func() {
		defer srv.background.Done()
		srv.hub.run(lifetime)
	}()
	return srv, nil
}

// Serve listens on addr until ctx ends, then stops accepting connections and drains the
// requests in flight (15 s at most). Stopping the consumers and closing the pool is
// the caller's, after Serve returns.
func Serve(ctx context.Context, app *fiber.App, addr string) error {
	errc := make(chan error, 1)
	go func() { errc <- app.Listen(addr) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := app.ShutdownWithContext(shutdownCtx); err != nil {
		return err
	}
	if err := <-errc; err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

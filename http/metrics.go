package http

import (
	"context"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/supermock/engine/domain"
	"github.com/supermock/engine/projections"
)

// appendSeconds is shared by every app of the process: the appends are the process's.
var appendSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{
	Name:    "supermock_append_duration_seconds",
	Help:    "Time to append one command's events to the log, commit included.",
	Buckets: []float64{.0005, .001, .002, .005, .01, .02, .05, .1, .25, .5, 1},
})

// TimeAppends wraps the domain's store so /metrics shows append latency; New does it
// for the Service it builds, main for one it builds itself.
func TimeAppends(store domain.Store) domain.Store { return timedStore{store} }

type timedStore struct{ domain.Store }

func (t timedStore) Append(ctx context.Context, meta domain.Meta, changes ...domain.Change) (string, error) {
	start := time.Now()
	pos, err := t.Store.Append(ctx, meta, changes...)
	if err == nil {
		appendSeconds.Observe(time.Since(start).Seconds())
	}
	return pos, err
}

// Metrics are the engine's Prometheus collectors, in a registry of its own. The API
// records its requests in them; they are served by App, on METRICS_PORT, never on the
// API's public port.
type Metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// NewMetrics makes the collectors; the projections' come from their tables in pool.
func NewMetrics(pool *pgxpool.Pool) *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "supermock_http_requests_total", Help: "HTTP requests by route pattern and status.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "supermock_http_request_duration_seconds", Help: "HTTP request latency by route pattern.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"method", "route"}),
	}
	// Projection positions, lag and failures come from projections' own collector.
	m.registry.MustRegister(m.requests, m.duration, appendSeconds, projections.NewCollector(pool, projections.All()),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *Metrics) request(method, route string, status int, elapsed time.Duration) {
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(method, route).Observe(elapsed.Seconds())
}

// App serves GET /metrics and nothing else, for the metrics port.
func (m *Metrics) App() *fiber.App {
	app := fiber.New(fiber.Config{AppName: "supermock-metrics", DisableStartupMessage: true,
		ReadTimeout: 10 * time.Second, WriteTimeout: writeTimeout, IdleTimeout: 60 * time.Second})
	// A collector that cannot read the database leaves its series out; the rest is served.
	app.Get("/metrics", adaptor.HTTPHandler(promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})))
	return app
}

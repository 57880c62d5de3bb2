package http

import (
	"context"
	"runtime"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/gofiber/fiber/v2/middleware/pprof"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/supermock/engine/domain"
	"github.com/supermock/engine/eventstore"
	"github.com/supermock/engine/internal/consumers"
	"github.com/supermock/engine/projections"
	"github.com/supermock/engine/projections/matchmaker"
	"github.com/supermock/engine/projections/notifier"
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

// NewMetrics makes the collectors; the projections' come from their tables in pool and
// their groups' offsets in the log.
func NewMetrics(pool *pgxpool.Pool, log *eventstore.Store, board *consumers.Board) *Metrics {
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
	m.registry.MustRegister(m.requests, m.duration, appendSeconds, projections.NewCollector(pool, log, projections.All()),
		poolCollector{pool}, buildInfo(),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.registry.MustRegister(matchmaker.Metrics()...)
	m.registry.MustRegister(notifier.Metrics()...)
	if board != nil {
		m.registry.MustRegister(consumers.NewCollector(board))
	}
	return m
}

func (m *Metrics) request(method, route string, status int, elapsed time.Duration) {
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(method, route).Observe(elapsed.Seconds())
}

// App serves GET /metrics, for the metrics port, and with profiles Go's profiles under
// /debug/pprof/ (PPROF): never on the API's port.
func (m *Metrics) App(profiles bool) *fiber.App {
	app := fiber.New(fiber.Config{AppName: "supermock-metrics", DisableStartupMessage: true,
		ReadTimeout: 10 * time.Second, WriteTimeout: writeTimeout, IdleTimeout: 60 * time.Second})
	if profiles {
		// A CPU profile answers after its seconds=, which must stay under the write timeout.
		app.Use(pprof.New())
	}
	// A collector that cannot read the database leaves its series out; the rest is served.
	app.Get("/metrics", adaptor.HTTPHandler(promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})))
	return app
}

// poolCollector exports the connection pool's statistics as they are at the scrape.
type poolCollector struct{ pool *pgxpool.Pool }

var (
	descPoolConns = prometheus.NewDesc("supermock_db_pool_connections",
		"Connections of the pool by state: acquired (in use), idle, constructing.", []string{"state"}, nil)
	descPoolMax = prometheus.NewDesc("supermock_db_pool_max_connections",
		"The most connections the pool opens.", nil, nil)
	descPoolAcquires = prometheus.NewDesc("supermock_db_pool_acquires_total",
		"Connections handed out by the pool.", nil, nil)
	descPoolEmptyAcquires = prometheus.NewDesc("supermock_db_pool_empty_acquires_total",
		"Acquires that had to wait, no connection being free.", nil, nil)
	descPoolCanceledAcquires = prometheus.NewDesc("supermock_db_pool_canceled_acquires_total",
		"Acquires given up before a connection was free.", nil, nil)
	descPoolAcquireSeconds = prometheus.NewDesc("supermock_db_pool_acquire_seconds_total",
		"Time spent waiting for connections.", nil, nil)
)

func (c poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descPoolConns, descPoolMax, descPoolAcquires, descPoolEmptyAcquires,
		descPoolCanceledAcquires, descPoolAcquireSeconds} {
		ch <- d
	}
}

func (c poolCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.pool.Stat()
	for state, n := range map[string]int32{"acquired": st.AcquiredConns(), "idle": st.IdleConns(), "constructing": st.ConstructingConns()} {
		ch <- prometheus.MustNewConstMetric(descPoolConns, prometheus.GaugeValue, float64(n), state)
	}
	ch <- prometheus.MustNewConstMetric(descPoolMax, prometheus.GaugeValue, float64(st.MaxConns()))
	ch <- prometheus.MustNewConstMetric(descPoolAcquires, prometheus.CounterValue, float64(st.AcquireCount()))
	ch <- prometheus.MustNewConstMetric(descPoolEmptyAcquires, prometheus.CounterValue, float64(st.EmptyAcquireCount()))
	ch <- prometheus.MustNewConstMetric(descPoolCanceledAcquires, prometheus.CounterValue, float64(st.CanceledAcquireCount()))
	ch <- prometheus.MustNewConstMetric(descPoolAcquireSeconds, prometheus.CounterValue, st.AcquireDuration().Seconds())
}

// buildInfo is a constant 1 labelled with the module version, the VCS revision and
// the Go version the binary was built from ("unknown" where the build did not say).
func buildInfo() prometheus.Collector {
	version, revision := "unknown", "unknown"
	goVersion := runtime.Version()
	if info, ok := debug.ReadBuildInfo(); ok {
		if info.Main.Version != "" {
			version = info.Main.Version
		}
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				revision = s.Value
			}
		}
	}
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "supermock_build_info",
		Help:        "The build of this binary: module version, VCS revision, Go version.",
		ConstLabels: prometheus.Labels{"version": version, "revision": revision, "goversion": goVersion}})
	g.Set(1)
	return g
}

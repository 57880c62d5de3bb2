package projections

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/supermock/engine/eventstore"
)

// Status is where a projection stands, as every replica sees it in the database.
type Status struct {
	Name          string
	Position      eventstore.Position // its consumer group's offset
	EventsApplied int64
	LastEventAt   time.Time // occurred_at of the last applied event
	UpdatedAt     time.Time // when it last wrote
	RebuiltAt     time.Time
	// LagEvents counts visible events after Position; LagSeconds is how long the oldest
	// of them has waited (0 when caught up).
	LagEvents     int64
	LagSeconds    float64
	LastError     string // set while an event fails
	ErrorPosition string
	Rebuild       *RebuildStatus // a rebuild running, or the shadows a killed one left
	LastRebuild   *RebuildResult // how the last rebuild that ran ended; nil before the first
}

// RebuildResult is how a rebuild ended: Error is empty when its tables were switched in.
type RebuildResult struct {
	StartedAt, FinishedAt time.Time
	Events                int64
	Error                 string
}

type RebuildStatus struct {
	Running     bool
	Position    string
	Done, Total int64
	StartedAt   time.Time
	UpdatedAt   time.Time
}

// Rate is the rebuild's speed so far, in events per second.
func (r RebuildStatus) Rate() float64 {
	if took := r.UpdatedAt.Sub(r.StartedAt).Seconds(); took > 0 {
		return float64(r.Done) / took
	}
	return 0
}

// ETA is how long the rest will take at that speed; 0 when done or not yet known.
func (r RebuildStatus) ETA() time.Duration {
	rate := r.Rate()
	if rate == 0 || r.Done >= r.Total {
		return 0
	}
	return time.Duration(float64(r.Total-r.Done) / rate * float64(time.Second))
}

// lagCap bounds the count of events behind, so a status call stays cheap on a log a
// new projection has not read yet.
const lagCap = 10_000_000

// Statuses reads the status of each projection: where its consumer group stands in
// the log (the log's own GroupLags), and its checkpoint and rebuild.
func Statuses(ctx context.Context, pool *pgxpool.Pool, log *eventstore.Store, ps []Projection) ([]Status, error) {
	names := make([]string, len(ps))
	groups := make([]string, len(ps))
	for i, p := range ps {
		names[i], groups[i] = p.Name(), Group(p.Name())
	}
	lags, err := log.GroupLags(ctx, groups, lagCap)
	if err != nil {
		return nil, fmt.Errorf("projection status: %w", err)
	}
	rows, err := pool.Query(ctx, `
		SELECT n.name, coalesce(c.events_applied, 0), c.last_event_at, c.updated_at, c.rebuilt_at,
			coalesce(c.last_error, ''), coalesce(c.error_position, ''),
			r.name IS NOT NULL, coalesce(r.position, ''), coalesce(r.events_done, 0), coalesce(r.events_total, 0),
			r.started_at, r.updated_at,
			EXISTS (SELECT 1 FROM pg_locks l, LATERAL (SELECT hashtextextended('projection-rebuild:' || n.name, 0) AS k) h
				WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
					AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
					AND l.classid = ((h.k >> 32) & 4294967295)::oid AND l.objid = (h.k & 4294967295)::oid),
			rr.started_at, rr.finished_at, coalesce(rr.events_done, 0), coalesce(rr.error, '')
		FROM unnest($1::text[]) WITH ORDINALITY AS n(name, i)
		LEFT JOIN projection_checkpoints c ON c.name = n.name
		LEFT JOIN projection_rebuilds r ON r.name = n.name
		LEFT JOIN projection_rebuild_results rr ON rr.name = n.name
		ORDER BY n.i`, names)
	if err != nil {
		return nil, fmt.Errorf("projection status: %w", err)
	}
	defer rows.Close()
	var out []Status
	for rows.Next() {
		var (
			s                              Status
			lastEvent, updated, rebuilt    *time.Time
			hasRebuild, running            bool
			rs                             RebuildStatus
			rebuildStarted, rebuildUpdated *time.Time
			lastStarted, lastFinished      *time.Time
			last                           RebuildResult
		)
		if err := rows.Scan(&s.Name, &s.EventsApplied, &lastEvent, &updated, &rebuilt, &s.LastError, &s.ErrorPosition,
			&hasRebuild, &rs.Position, &rs.Done, &rs.Total, &rebuildStarted, &rebuildUpdated, &running,
			&lastStarted, &lastFinished, &last.Events, &last.Error); err != nil {
			return nil, fmt.Errorf("projection status: %w", err)
		}
		lag := lags[Group(s.Name)]
		s.Position, s.LagEvents, s.LagSeconds = lag.Position, lag.Events, lag.Seconds
		s.LastEventAt, s.UpdatedAt, s.RebuiltAt = deref(lastEvent), deref(updated), deref(rebuilt)
		if hasRebuild || running {
			rs.Running, rs.StartedAt, rs.UpdatedAt = running, deref(rebuildStarted), deref(rebuildUpdated)
			s.Rebuild = &rs
		}
		if lastFinished != nil {
			last.StartedAt, last.FinishedAt = deref(lastStarted), *lastFinished
			s.LastRebuild = &last
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// deref is the value p points at, or the zero value for nil.
func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// Collector exports the projections' status as Prometheus gauges, read from the
// database at most every five seconds: counting the lag costs queries, and /metrics is
// open to whoever can reach it.
type Collector struct {
	pool        *pgxpool.Pool
	log         *eventstore.Store
	projections []Projection

	ttl    time.Duration // how long one reading serves scrapes
	mu     sync.Mutex
	cached []Status
	readAt time.Time
}

// statuses reads the status, or returns a reading younger than the collector's ttl.
func (c *Collector) statuses() ([]Status, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cached != nil && time.Since(c.readAt) < c.ttl {
		return c.cached, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	statuses, err := Statuses(ctx, c.pool, c.log, c.projections)
	if err != nil {
		return nil, err
	}
	c.cached, c.readAt = statuses, time.Now()
	return statuses, nil
}

func NewCollector(pool *pgxpool.Pool, log *eventstore.Store, ps []Projection) *Collector {
	return &Collector{pool: pool, log: log, projections: ps, ttl: 5 * time.Second}
}

var (
	descPosition = prometheus.NewDesc("supermock_projection_position_offset",
		"Offset of the last event the projection's consumer group has gone through.", []string{"projection"}, nil)
	descApplied = prometheus.NewDesc("supermock_projection_events_applied",
		"Events the projection has applied to its current tables.", []string{"projection"}, nil)
	descUpdated = prometheus.NewDesc("supermock_projection_last_update_timestamp_seconds",
		"When the projection last wrote its tables (Unix time; 0 never).", []string{"projection"}, nil)
	descLagEvents = prometheus.NewDesc("supermock_projection_lag_events",
		"Visible events the projection has not gone through yet.", []string{"projection"}, nil)
	descLagSeconds = prometheus.NewDesc("supermock_projection_lag_seconds",
		"How long the oldest event the projection has not gone through has waited; 0 when caught up.", []string{"projection"}, nil)
	descFailing = prometheus.NewDesc("supermock_projection_failing",
		"1 while an event fails in the projection.", []string{"projection"}, nil)
	descRebuilding = prometheus.NewDesc("supermock_projection_rebuild_running",
		"1 while a rebuild of the projection runs.", []string{"projection"}, nil)
)

func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descPosition, descApplied, descUpdated, descLagEvents, descLagSeconds, descFailing, descRebuilding} {
		ch <- d
	}
}

func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	statuses, err := c.statuses()
	if err != nil {
		ch <- prometheus.NewInvalidMetric(descLagEvents, err)
		return
	}
	gauge := func(d *prometheus.Desc, v float64, name string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, name)
	}
	flag := func(b bool) float64 {
		if b {
			return 1
		}
		return 0
	}
	for _, s := range statuses {
		updated := 0.0
		if !s.UpdatedAt.IsZero() {
			updated = float64(s.UpdatedAt.UnixNano()) / 1e9
		}
		gauge(descPosition, float64(s.Position.Offset), s.Name)
		gauge(descApplied, float64(s.EventsApplied), s.Name)
		gauge(descUpdated, updated, s.Name)
		gauge(descLagEvents, float64(s.LagEvents), s.Name)
		gauge(descLagSeconds, s.LagSeconds, s.Name)
		gauge(descFailing, flag(s.LastError != ""), s.Name)
		gauge(descRebuilding, flag(s.Rebuild != nil && s.Rebuild.Running), s.Name)
	}
}

package consumers

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Collector exports the board as Prometheus gauges, labelled by consumer, from its
// cached reading.
type Collector struct{ board *Board }

// NewCollector returns a collector of the board.
func NewCollector(b *Board) *Collector { return &Collector{board: b} }

var (
	labels         = []string{"consumer"}
	descPosition   = prometheus.NewDesc("supermock_consumer_position_offset", "Offset of the last event the consumer's group has gone through (0 for clock-driven loops).", labels, nil)
	descLagEvents  = prometheus.NewDesc("supermock_consumer_lag_events", "Events a log consumer has not gone through yet; items due and not done for a clock-driven loop.", labels, nil)
	descLagSeconds = prometheus.NewDesc("supermock_consumer_lag_seconds", "How long the oldest of those has waited; 0 when caught up.", labels, nil)
	descRunning    = prometheus.NewDesc("supermock_consumer_running", "1 while the consumer runs in this process.", labels, nil)
	descStuck      = prometheus.NewDesc("supermock_consumer_stuck", "1 while the consumer is behind and has not moved for a minute.", labels, nil)
	descLastError  = prometheus.NewDesc("supermock_consumer_last_error_timestamp_seconds", "When the consumer last failed in this process (Unix time; 0 never).", labels, nil)
)

func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descPosition, descLagEvents, descLagSeconds, descRunning, descStuck, descLastError} {
		ch <- d
	}
}

func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	statuses, err := c.board.Cached(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(descLagEvents, err)
		return
	}
	gauge := func(d *prometheus.Desc, v float64, name string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, name)
	}
	for _, s := range statuses {
		gauge(descPosition, float64(s.Position.Offset), s.Name)
		gauge(descLagEvents, float64(s.LagEvents), s.Name)
		gauge(descLagSeconds, s.LagSeconds, s.Name)
		gauge(descRunning, flag(s.Running), s.Name)
		gauge(descStuck, flag(s.Stuck), s.Name)
		lastError := 0.0
		if !s.LastErrorAt.IsZero() {
			lastError = float64(s.LastErrorAt.UnixNano()) / 1e9
		}
		gauge(descLastError, lastError, s.Name)
	}
}

func flag(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

package matchmaker

import "github.com/prometheus/client_golang/prometheus"

var (
	matchesMade = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "supermock_matches_total",
		Help: "Matches the matchmaker of this process made.",
	})
	// joinToMatch is the wait of the entry whose arrival made the match: the part of a
	// user's wait that is the engine's, not the queue's.
	joinToMatch = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "supermock_join_to_match_seconds",
		Help:    "From the join (or requeue) that completed a pair to the match.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
	})
)

// Metrics are the matchmaker's collectors, for the API's registry.
func Metrics() []prometheus.Collector { return []prometheus.Collector{matchesMade, joinToMatch} }

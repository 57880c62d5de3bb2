package http

import "time"

// OpenAPIDocument is the development document, for the tests that check the API's
// requests and answers against it.
var OpenAPIDocument = openAPIDocuments[false]

// WithStreams tunes GET /api/stream for a test: the heartbeat's interval, the streams
// one user may hold and each connection's buffer (zero keeps a default).
func WithStreams(d Deps, heartbeat time.Duration, perUser, buffer int) Deps {
	d.stream = streamConfig{heartbeat: heartbeat, perUser: perUser, buffer: buffer}
	return d
}

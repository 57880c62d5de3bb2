package http

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/supermock/engine/eventstore"
	"github.com/supermock/engine/projections"
)

type streamResponse struct {
	StreamID string                      `json:"stream_id"`
	Version  int64                       `json:"version"`
	Events   []projections.ReplayedEvent `json:"events"`
}

type rebuildProgress struct {
	Running   bool       `json:"running"`
	Position  string     `json:"position"`
	Done      int64      `json:"done"`
	Total     int64      `json:"total"`
	Rate      float64    `json:"events_per_second"`
	ETA       float64    `json:"eta_seconds"`
	StartedAt *time.Time `json:"started_at"`
	UpdatedAt *time.Time `json:"updated_at"`
}

type projectionStatus struct {
	Name          string           `json:"name"`
	Position      string           `json:"position"`
	EventsApplied int64            `json:"events_applied"`
	LastEventAt   *time.Time       `json:"last_event_at"`
	UpdatedAt     *time.Time       `json:"updated_at"`
	RebuiltAt     *time.Time       `json:"rebuilt_at"`
	LagEvents     int64            `json:"lag_events"`
	LagSeconds    float64          `json:"lag_seconds"`
	LastError     string           `json:"last_error,omitempty"`
	ErrorPosition string           `json:"error_position,omitempty"`
	Rebuild       *rebuildProgress `json:"rebuild"`
}

type projectionsResponse struct {
	Projections []projectionStatus `json:"projections"`
}

// stream is one stream's events in version order, as stored; a stream without events
// is 404 stream-not-found.
func (s *server) stream(c *fiber.Ctx) error {
	id, err := streamParam(c, "id")
	if err != nil {
		return err
	}
	envs, err := s.Store.Log().ReadStream(c.UserContext(), id)
	if err != nil {
		return err
	}
	if len(envs) == 0 {
		return newError(fiber.StatusNotFound, "stream-not-found", "no events in stream "+id)
	}
	events := make([]projections.ReplayedEvent, len(envs))
	for i, e := range envs {
		events[i] = projections.Replayed(e)
	}
	return c.JSON(streamResponse{StreamID: id, Version: envs[len(envs)-1].StreamVersion, Events: events})
}

// projectionStatuses shows every projection's position, lag, last error and rebuild.
func (s *server) projectionStatuses(c *fiber.Ctx) error {
	statuses, err := projections.Statuses(c.UserContext(), s.Pool, s.Store.Log(), projections.All())
	if err != nil {
		return err
	}
	out := make([]projectionStatus, len(statuses))
	for i, st := range statuses {
		out[i] = projectionStatus{Name: st.Name, Position: st.Position.String(), EventsApplied: st.EventsApplied,
			LastEventAt: timeOrNil(st.LastEventAt), UpdatedAt: timeOrNil(st.UpdatedAt), RebuiltAt: timeOrNil(st.RebuiltAt),
			LagEvents: st.LagEvents, LagSeconds: st.LagSeconds, LastError: st.LastError, ErrorPosition: st.ErrorPosition}
		if r := st.Rebuild; r != nil {
			out[i].Rebuild = &rebuildProgress{Running: r.Running, Position: r.Position, Done: r.Done, Total: r.Total,
				Rate: r.Rate(), ETA: r.ETA().Seconds(), StartedAt: timeOrNil(r.StartedAt), UpdatedAt: timeOrNil(r.UpdatedAt)}
		}
	}
	return c.JSON(projectionsResponse{Projections: out})
}

// replay streams the log as NDJSON (format=csv for CSV), in log order, filtered by
// after (a cursor, exclusive), since and until (RFC 3339, occurred_at), type and stream
// (each repeatable or comma-separated). Filters and the database are checked before the
// first byte; a failure once streaming ends the NDJSON with an {"error":…} line and is
// logged.
func (s *server) replay(c *fiber.Ctx) error {
	f, format, err := replayFilter(c)
	if err != nil {
		return err
	}
	// Once the stream starts its status is 200: an outage must be told before.
	if err := s.Pool.Ping(c.UserContext()); err != nil {
		return err
	}
	contentType := "application/x-ndjson"
	if format == projections.FormatCSV {
		contentType = "text/csv; charset=utf-8"
	}
	c.Set(fiber.HeaderContentType, contentType)
	log, requestID := s.logger(c), requestIDOf(c)
	conn := c.Context().Conn()
	// The stream outlives the handler (and its request context); it ends with the server.
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		res, err := projections.Replay(s.lifetime, s.Store.Log(), &renewingWriter{w: w, conn: conn}, f, format)
		if err == nil {
			log.Info("replay streamed", "events", res.Events, "last", res.Last.String())
			return
		}
		log.Error("replay failed", "err", err, "events", res.Events, "last", res.Last.String())
		if format != projections.FormatCSV {
			_ = json.NewEncoder(w).Encode(errorBody{Error: errorDetail{Code: "replay-failed",
				Message: "the replay stopped after " + res.Last.String() + ": resume with after", RequestID: requestID}})
		}
		_ = w.Flush()
	})
	return nil
}

// renewingWriter moves the connection's write deadline on while a stream flows: the
// server's write timeout is one deadline for a whole answer, and a replay of the full
// history takes longer than that.
type renewingWriter struct {
	w     io.Writer
	conn  net.Conn
	renew time.Time
}

func (r *renewingWriter) Write(p []byte) (int, error) {
	if now := time.Now(); now.After(r.renew) {
		_ = r.conn.SetWriteDeadline(now.Add(writeTimeout))
		r.renew = now.Add(writeTimeout / 2)
	}
	return r.w.Write(p)
}

func replayFilter(c *fiber.Ctx) (projections.ReplayFilter, string, error) {
	var f projections.ReplayFilter
	var err error
	if f.After, err = eventstore.ParsePosition(c.Query("after")); err != nil {
		return f, "", errBadCursor
	}
	for name, t := range map[string]*time.Time{"since": &f.Since, "until": &f.Until} {
		if raw := c.Query(name); raw != "" {
			if *t, err = time.Parse(time.RFC3339Nano, raw); err != nil {
				return f, "", invalidField(name, "must be an RFC 3339 time")
			}
		}
	}
	f.Types, f.Streams = queryList(c, "type"), queryList(c, "stream")
	format := c.Query("format", projections.FormatNDJSON)
	if format != projections.FormatNDJSON && format != projections.FormatCSV {
		return f, "", invalidField("format", "must be ndjson or csv")
	}
	return f, format, nil
}

// queryList reads a repeatable, comma-separated query parameter.
func queryList(c *fiber.Ctx, name string) []string {
	var out []string
	for _, v := range c.Context().QueryArgs().PeekMulti(name) {
		for _, item := range strings.Split(string(v), ",") {
			if item = strings.TrimSpace(item); item != "" {
				out = append(out, item)
			}
		}
	}
	return out
}

func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

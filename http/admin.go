package http

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/supermock/engine/internal/jsontime"

	"github.com/supermock/engine/eventstore"
	"github.com/supermock/engine/projections"
)

type streamResponse struct {
	StreamID string                      `json:"stream_id"`
	Version  int64                       `json:"version"`
	Events   []projections.ReplayedEvent `json:"events"`
	Next     *string                     `json:"next" doc:"the after of the next page (a version); null on the last"`
}

type rebuildProgress struct {
	Running   bool           `json:"running"`
	Position  string         `json:"position"`
	Done      int64          `json:"done"`
	Total     int64          `json:"total"`
	Rate      float64        `json:"events_per_second"`
	ETA       float64        `json:"eta_seconds"`
	StartedAt *jsontime.Time `json:"started_at"`
	UpdatedAt *jsontime.Time `json:"updated_at"`
}

// lastRebuild is how the projection's last rebuild ended: error is empty when it
// switched its tables in.
type lastRebuild struct {
	StartedAt  jsontime.Time `json:"started_at"`
	FinishedAt jsontime.Time `json:"finished_at"`
	Seconds    float64       `json:"duration_seconds"`
	Events     int64         `json:"events"`
	Error      string        `json:"error,omitempty"`
}

type projectionStatus struct {
	Name          string           `json:"name"`
	Position      string           `json:"position"`
	EventsApplied int64            `json:"events_applied"`
	LastEventAt   *jsontime.Time   `json:"last_event_at"`
	UpdatedAt     *jsontime.Time   `json:"updated_at"`
	RebuiltAt     *jsontime.Time   `json:"rebuilt_at"`
	LagEvents     int64            `json:"lag_events"`
	LagSeconds    float64          `json:"lag_seconds"`
	LastError     string           `json:"last_error,omitempty"`
	ErrorPosition string           `json:"error_position,omitempty"`
	Rebuild       *rebuildProgress `json:"rebuild"`
	LastRebuild   *lastRebuild     `json:"last_rebuild"`
}

type projectionsResponse struct {
	Projections []projectionStatus `json:"projections"`
	Next        *string            `json:"next" doc:"the after of the next page (a name); null on the last"`
}

// stream is a page of one stream's events in version order, as stored; after is the
// version the page starts after. A stream without events is 404 stream-not-found.
func (s *server) stream(c *fiber.Ctx) error {
	id, err := streamParam(c, "id")
	if err != nil {
		return err
	}
	page, err := pageOf(c)
	if err != nil {
		return err
	}
	var after int64
	if page.After != "" {
		if after, err = strconv.ParseInt(page.After, 10, 64); err != nil || after < 0 {
			return errBadCursor
		}
	}
	envs, version, err := s.Store.Log().ReadStreamPage(c.UserContext(), id, after, page.Limit+1)
	if err != nil {
		return err
	}
	if version == 0 {
		return newError(fiber.StatusNotFound, "stream-not-found", "no events in stream "+id)
	}
	out := streamResponse{StreamID: id, Version: version, Events: make([]projections.ReplayedEvent, 0, len(envs))}
	if len(envs) > page.Limit {
		envs = envs[:page.Limit]
		next := strconv.FormatInt(envs[len(envs)-1].StreamVersion, 10)
		out.Next = &next
	}
	for _, e := range envs {
		out.Events = append(out.Events, projections.Replayed(e))
	}
	return c.JSON(out)
}

// projectionStatuses shows a page of the projections' positions, lags, last errors and
// rebuilds, by name.
func (s *server) projectionStatuses(c *fiber.Ctx) error {
	page, err := pageOf(c)
	if err != nil {
		return err
	}
	out, err := s.readProjectionStatuses(c.UserContext())
	if err != nil {
		return err
	}
	list, next := pageByName(out, func(p projectionStatus) string { return p.Name }, page)
	return c.JSON(projectionsResponse{Projections: list, Next: next})
}

func (s *server) readProjectionStatuses(ctx context.Context) ([]projectionStatus, error) {
	statuses, err := projections.Statuses(ctx, s.Pool, s.Store.Log(), projections.All())
	if err != nil {
		return nil, err
	}
	out := make([]projectionStatus, len(statuses))
	for i, st := range statuses {
		out[i] = projectionStatus{Name: st.Name, Position: st.Position.String(), EventsApplied: st.EventsApplied,
			LastEventAt: jsontime.OrNil(st.LastEventAt), UpdatedAt: jsontime.OrNil(st.UpdatedAt), RebuiltAt: jsontime.OrNil(st.RebuiltAt),
			LagEvents: st.LagEvents, LagSeconds: st.LagSeconds, LastError: st.LastError, ErrorPosition: st.ErrorPosition}
		if r := st.Rebuild; r != nil {
			out[i].Rebuild = &rebuildProgress{Running: r.Running, Position: r.Position, Done: r.Done, Total: r.Total,
				Rate: r.Rate(), ETA: r.ETA().Seconds(), StartedAt: jsontime.OrNil(r.StartedAt), UpdatedAt: jsontime.OrNil(r.UpdatedAt)}
		}
		if r := st.LastRebuild; r != nil {
			out[i].LastRebuild = &lastRebuild{StartedAt: jsontime.Of(r.StartedAt), FinishedAt: jsontime.Of(r.FinishedAt),
				Seconds: r.FinishedAt.Sub(r.StartedAt).Seconds(), Events: r.Events, Error: r.Error}
		}
	}
	return out, nil
}

// replay streams the log as NDJSON (format=csv for CSV; format=parquet for a zip of
// one Parquet file per event type), in log order, filtered by
// after (a cursor, exclusive), since and until (occurred_at; RFC 3339 or a date), type
// and stream (each repeatable or comma-separated). Filters and the database are checked before the
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
	switch format {
	case projections.FormatCSV:
		contentType = "text/csv; charset=utf-8"
	case projections.FormatParquet:
		contentType = "application/zip"
		c.Set(fiber.HeaderContentDisposition, `attachment; filename="supermock-events.zip"`)
	}
	c.Set(fiber.HeaderContentType, contentType)
	log, requestID := s.logger(c), requestIDOf(c)
	conn := c.Context().Conn()
	// The stream outlives the handler (and its request context); it ends with the server.
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		out := &renewingWriter{w: w, conn: conn}
		var res projections.ReplayResult
		var err error
		if format == projections.FormatParquet {
			res, err = projections.ReplayParquetZip(s.lifetime, s.Store.Log(), out, f)
		} else {
			res, err = projections.Replay(s.lifetime, s.Store.Log(), out, f, format)
		}
		if err == nil {
			log.Info("replay streamed", "events", res.Events, "last", res.Last.String())
			return
		}
		log.Error("replay failed", "err", err, "events", res.Events, "last", res.Last.String())
		if format == projections.FormatNDJSON {
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
	f, err := projections.ReplayQuery{After: c.Query("after"), Since: c.Query("since"), Until: c.Query("until"),
		Types: queryList(c, "type"), Streams: queryList(c, "stream")}.Parse()
	var bad *projections.FilterError
	switch {
	case errors.Is(err, eventstore.ErrBadCursor):
		return f, "", errBadCursor
	case errors.Is(err, eventstore.ErrUnknownEventType):
		return f, "", newError(fiber.StatusBadRequest, "unknown-event-type", err.Error())
	case errors.As(err, &bad):
		return f, "", invalidField(bad.Field, fmt.Sprintf("%q is %s", bad.Value, bad.Reason))
	case err != nil:
		return f, "", err
	}
	format := c.Query("format", projections.FormatNDJSON)
	if format != projections.FormatNDJSON && format != projections.FormatCSV && format != projections.FormatParquet {
		return f, "", invalidField("format", fmt.Sprintf("%q is not ndjson, csv or parquet", format))
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

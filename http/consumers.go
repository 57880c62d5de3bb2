package http

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/supermock/engine/internal/jsontime"

	"github.com/supermock/engine/internal/consumers"
)

type consumerStatus struct {
	Name        string         `json:"name"`
	Group       string         `json:"group,omitempty"`
	Position    string         `json:"position,omitempty"`
	LagEvents   int64          `json:"lag_events"`
	LagSeconds  float64        `json:"lag_seconds"`
	LastError   string         `json:"last_error,omitempty"`
	LastErrorAt *jsontime.Time `json:"last_error_at"`
	Running     bool           `json:"running"`
	Stuck       bool           `json:"stuck"`
}

type consumersResponse struct {
	Consumers []consumerStatus `json:"consumers"`
	Next      *string          `json:"next" doc:"the after of the next page (a name); null on the last"`
}

type readyResponse struct {
	Status    string           `json:"status"`
	Database  string           `json:"database"`
	NotReady  []consumerStatus `json:"not_ready,omitempty"`
	Timestamp jsontime.Time    `json:"timestamp"`
}

func consumerStatuses(statuses []consumers.Status) []consumerStatus {
	out := make([]consumerStatus, len(statuses))
	for i, st := range statuses {
		out[i] = consumerStatus{Name: st.Name, Group: st.Group, LagEvents: st.LagEvents, LagSeconds: st.LagSeconds,
			LastError: st.LastError, LastErrorAt: jsontime.OrNil(st.LastErrorAt), Running: st.Running, Stuck: st.Stuck}
		if st.Group != "" {
			out[i].Position = st.Position.String()
		}
	}
	return out
}

// consumers is a page of the consumers of this process, the log's groups and the
// clock's loops, by name.
func (s *server) consumers(c *fiber.Ctx) error {
	page, err := pageOf(c)
	if err != nil {
		return err
	}
	if s.Consumers == nil {
		return c.JSON(consumersResponse{Consumers: []consumerStatus{}})
	}
	statuses, err := s.Consumers.Read(c.UserContext())
	if err != nil {
		return err
	}
	list, next := pageByName(consumerStatuses(statuses), func(st consumerStatus) string { return st.Name }, page)
	return c.JSON(consumersResponse{Consumers: list, Next: next})
}

// livez answers as long as the process serves requests.
func (s *server) livez(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"status": "ok"})
}

// readyz answers 200 while PostgreSQL answers and every consumer of the process runs,
// none stuck; 503 naming what is not ready otherwise.
func (s *server) readyz(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
	defer cancel()
	body := readyResponse{Status: "ok", Database: "connected", Timestamp: jsontime.Of(s.Now())}
	if err := s.Pool.Ping(ctx); err != nil {
		body.Status, body.Database = "error", "disconnected"
		c.Set(fiber.HeaderRetryAfter, retryAfterSeconds)
		return c.Status(fiber.StatusServiceUnavailable).JSON(body)
	}
	bad, err := s.unready(ctx)
	if err != nil {
		body.Status = "error"
		return c.Status(fiber.StatusServiceUnavailable).JSON(body)
	}
	if len(bad) > 0 {
		body.Status, body.NotReady = "error", consumerStatuses(bad)
		return c.Status(fiber.StatusServiceUnavailable).JSON(body)
	}
	return c.JSON(body)
}

// unready lists the consumers that do not run in this process or are stuck.
func (s *server) unready(ctx context.Context) ([]consumers.Status, error) {
	if s.Consumers == nil {
		return nil, nil
	}
	statuses, err := s.Consumers.Cached(ctx)
	if err != nil {
		return nil, err
	}
	_, bad := consumers.Ready(statuses)
	return bad, nil
}

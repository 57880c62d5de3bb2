package http

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"time"

	"github.com/gofiber/fiber/v2"
)

const (
	// statusStreamEvery is how often the status stream reads the board: a rebuild's
	// progress moves that often on the console.
	statusStreamEvery = 500 * time.Millisecond
	// statusStreamHeartbeat is the longest the stream stays silent: a comment line keeps
	// proxies from closing it and finds a client that has gone.
	statusStreamHeartbeat = 15 * time.Second
)

// adminStatus is what the console's consumers page shows, in one reading.
type adminStatus struct {
	Consumers   []consumerStatus   `json:"consumers"`
	Projections []projectionStatus `json:"projections"`
}

func (s *server) readAdminStatus(ctx context.Context) (adminStatus, error) {
	out := adminStatus{Consumers: []consumerStatus{}}
	if s.Consumers != nil {
		statuses, err := s.Consumers.Read(ctx)
		if err != nil {
			return out, err
		}
		out.Consumers = consumerStatuses(statuses)
	}
	var err error
	out.Projections, err = s.readProjectionStatuses(ctx)
	return out, err
}

// adminStatusStream pushes the consumers and the projections (with any rebuild's
// progress) as Server-Sent Events: a "status" event at once and again whenever the
// reading changes. A failed reading is an "unavailable" event; the next one follows.
func (s *server) adminStatusStream(c *fiber.Ctx) error {
	first, err := s.readAdminStatus(c.UserContext())
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/event-stream")
	c.Set("X-Accel-Buffering", "no") // nginx would hold the events back
	shutdown, conn, log, requestID := c.Context().Done(), c.Context().Conn(), s.logger(c), requestIDOf(c)
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		out := &renewingWriter{w: w, conn: conn}
		ticker := time.NewTicker(statusStreamEvery)
		defer ticker.Stop()
		var sent []byte
		silentSince := time.Now()
		status, err := first, error(nil)
		for {
			event, data := "status", []byte(nil)
			if err != nil {
				log.Warn("admin status stream", "err", err)
				event, err = "unavailable", nil
				data, _ = json.Marshal(errorBody{Error: errorDetail{Code: "status-unavailable",
					Message: "the status could not be read: retrying", RequestID: requestID}})
			} else if data, err = json.Marshal(status); err != nil {
				return
			}
			switch {
			case !bytes.Equal(data, sent):
				_, _ = out.Write([]byte("event: " + event + "\ndata: "))
				_, _ = out.Write(data)
				_, _ = out.Write([]byte("\n\n"))
				sent, silentSince = data, time.Now()
			case time.Since(silentSince) >= statusStreamHeartbeat:
				_, _ = out.Write([]byte(": still here\n\n"))
				silentSince = time.Now()
			}
			if w.Flush() != nil {
				return // the client has gone
			}
			select {
			case <-shutdown:
				return
			case <-s.lifetime.Done():
				return
			case <-ticker.C:
			}
			ctx, cancel := context.WithTimeout(s.lifetime, requestTimeout)
			status, err = s.readAdminStatus(ctx)
			cancel()
		}
	})
	return nil
}

package http_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	nethttp "net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	api "github.com/supermock/engine/http"
	"github.com/supermock/engine/http/auth"
)

// sseStream is one GET /api/stream read as a browser's EventSource reads it, over a
// connection of its own with small buffers, so a test can hold a thousand.
type sseStream struct {
	t      testing.TB
	conn   net.Conn
	header nethttp.Header
	body   *bufio.Reader
	// heartbeats counts the comment lines read so far.
	heartbeats int
}

type sseEvent struct {
	ID, Event, Data string
}

// streamTimeout bounds a read of a stuck test, never a measure of speed.
const streamTimeout = 2 * time.Minute

// openStream asks for the caller's stream; headers are name, value pairs. It returns
// the stream on 200 and the answer otherwise.
func (e *env) openStream(path string, headers ...string) (*sseStream, response) {
	e.t.Helper()
	return openStream(e.t, e.base, path, headers...)
}

// openStream is env.openStream on the server at base.
func openStream(t testing.TB, base, path string, headers ...string) (*sseStream, response) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	req, err := nethttp.NewRequest("GET", base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	_ = conn.SetDeadline(time.Now().Add(streamTimeout))
	if err := req.Write(conn); err != nil {
		t.Fatal(err)
	}
	resp, err := nethttp.ReadResponse(bufio.NewReaderSize(conn, 512), req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	if resp.StatusCode != 200 {
		defer conn.Close()
		body, _ := io.ReadAll(resp.Body)
		return nil, response{status: resp.StatusCode, header: resp.Header, body: body}
	}
	s := &sseStream{t: t, conn: conn, header: resp.Header, body: bufio.NewReaderSize(resp.Body, 256)}
	t.Cleanup(s.close)
	return s, response{status: 200, header: resp.Header}
}

// stream opens the stream of a Bearer token and reads its ready event.
func (e *env) stream(token string, headers ...string) (*sseStream, sseEvent) {
	e.t.Helper()
	s, r := e.openStream("/api/stream", append([]string{"Authorization", "Bearer " + token}, headers...)...)
	if s == nil {
		e.t.Fatalf("GET /api/stream: %s", r)
	}
	return s, s.until("ready")
}

func (s *sseStream) close() { _ = s.conn.Close() }

// next reads the next event, counting the heartbeats before it.
func (s *sseStream) next() sseEvent {
	s.t.Helper()
	ev, err := s.read()
	if err != nil {
		s.t.Fatalf("reading the stream: %v", err)
	}
	return ev
}

func (s *sseStream) read() (sseEvent, error) {
	_ = s.conn.SetReadDeadline(time.Now().Add(streamTimeout))
	var ev sseEvent
	for {
		line, err := s.body.ReadString('\n')
		if err != nil {
			return ev, err
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			if ev != (sseEvent{}) {
				return ev, nil
			}
		case strings.HasPrefix(line, ":"):
			s.heartbeats++
		default:
			field, value, _ := strings.Cut(line, ": ")
			switch field {
			case "id":
				ev.ID = value
			case "event":
				ev.Event = value
			case "data":
				ev.Data = value
			default:
				return ev, errors.New("unknown field in " + line)
			}
		}
	}
}

// onlyHeartbeats reads n heartbeats and fails on anything else.
func (s *sseStream) onlyHeartbeats(n int) {
	s.t.Helper()
	_ = s.conn.SetReadDeadline(time.Now().Add(streamTimeout))
	for s.heartbeats < n {
		line, err := s.body.ReadString('\n')
		if err != nil {
			s.t.Fatal(err)
		}
		if line == ": heartbeat\n" {
			s.heartbeats++
		} else if line != "\n" {
			s.t.Fatalf("the stream wrote %q, want only heartbeats", line)
		}
	}
}

// until reads events up to the first of the kind, and returns it.
func (s *sseStream) until(kind string) sseEvent {
	s.t.Helper()
	for {
		if ev := s.next(); ev.Event == kind {
			return ev
		}
	}
}

// token signs a session for a user without a login: the stream needs no more.
func token(user uuid.UUID, telegramID int64) string {
	return auth.Sign([]byte(jwtSecret), auth.Claims{Subject: user.String(), TelegramID: telegramID}, time.Now(), time.Hour)
}

// withStreams is an options.deps for streams tuned by a test.
func withStreams(heartbeat time.Duration, perUser, buffer int) func(api.Deps) api.Deps {
	return func(d api.Deps) api.Deps { return api.WithStreams(d, heartbeat, perUser, buffer) }
}

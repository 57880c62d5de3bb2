package http

import (
	"bufio"
	"context"
	"errors"
	"io"
	"slices"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/supermock/engine/domain"
	"github.com/supermock/engine/eventstore"
	"github.com/supermock/engine/projections"
)

// replayPage is the most events a reconnecting stream reads from its streams at once.
const replayPage = 200

var errCursorAhead = newError(fiber.StatusBadRequest, "position-ahead-of-log", "Last-Event-ID (or after) is past the newest event of the log")

// liveStream is GET /api/stream: the caller's own news as Server-Sent Events. Each
// event's id is its cursor in the log; a client that reconnects with Last-Event-ID
// (or, on its first connection, ?after=) first gets every event of theirs after it,
// then the live ones, with nothing missed and nothing twice. The first event after any
// replay is "ready", whose id is where the connection stands.
func (s *server) liveStream(c *fiber.Ctx) error {
	// A browser reconnects to the same URL with Last-Event-ID: the header is the newer.
	raw := c.Get("Last-Event-ID")
	if raw == "" {
		raw = c.Query("after")
	}
	cursor, err := eventstore.ParsePosition(raw)
	if err != nil {
		return errBadCursor
	}
	if raw != "" {
		head, err := s.Store.Log().LastCommitted(c.UserContext())
		if err != nil {
			return err
		}
		if head.Less(cursor) {
			return errCursorAhead
		}
	}
	user := sessionOf(c).UserID
	sub, from, err := s.hub.subscribe(c.UserContext(), user)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/event-stream")
	c.Set(fiber.HeaderCacheControl, "no-cache")
	c.Set("X-Accel-Buffering", "no")
	// The client learns the stream is open at once, before any replay has been read.
	c.Response().ImmediateHeaderFlush = true
	conn, done := c.Context().Conn(), c.Context().Done()
	log := s.logger(c)
	replay := raw != ""
	// The stream outlives the handler (and its request context); it ends with the
	// server, the client, or the hub dropping it.
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		defer s.hub.unsubscribe(sub)
		st := &sseWriter{w: w, out: &renewingWriter{w: w, conn: conn}, at: cursor}
		if replay {
			if err := s.replayStream(done, st, user, from); err != nil {
				log.Info("stream: replay ended", "err", err, "at", st.at.String())
				return
			}
		}
		if st.at.Less(from) {
			st.at = from // everything of the caller's up to from is told
		}
		if st.write(sseEvent(st.at.String(), "ready", []byte(`{"position":"`+st.at.String()+`"}`))) != nil {
			return
		}
		s.pump(st, sub, done)
	})
	return nil
}

// sseWriter writes frames and flushes each, and knows the position of the last one.
type sseWriter struct {
	w   *bufio.Writer
	out io.Writer
	at  eventstore.Position
}

func (st *sseWriter) write(text []byte) error {
	if _, err := st.out.Write(text); err != nil {
		return err
	}
	return st.w.Flush()
}

// frame writes f unless the connection is already past it.
func (st *sseWriter) frame(f *frame) error {
	if !st.at.Less(f.at) {
		return nil
	}
	if err := st.write(f.text); err != nil {
		return err
	}
	st.at = f.at
	return nil
}

var heartbeat = []byte(": heartbeat\n\n")

// pump writes the hub's frames and the heartbeats until the stream ends.
func (s *server) pump(st *sseWriter, sub *subscriber, done <-chan struct{}) {
	tick := time.NewTicker(s.hub.cfg.heartbeat)
	defer tick.Stop()
	for {
		var err error
		select {
		case f := <-sub.frames:
			err = st.frame(f)
		case <-tick.C:
			err = st.write(heartbeat)
		case <-sub.gone:
			return
		case <-done:
			return
		case <-s.lifetime.Done():
			return
		}
		if err != nil {
			return // the client left
		}
	}
}

// replayStream writes the user's events after the writer's position up to to, read
// from the user's own stream and their interviews' streams a page at a time, once the
// read tables have passed to.
func (s *server) replayStream(done <-chan struct{}, st *sseWriter, user uuid.UUID, to eventstore.Position) error {
	if !st.at.Less(to) {
		return nil
	}
	// The replay's reads end with the server's shutdown too.
	ctx, cancel := context.WithCancel(s.lifetime)
	defer cancel()
	go func() {
		select {
		case <-done:
			cancel()
		case <-ctx.Done():
		}
	}()
	if err := s.awaitTables(ctx, st, to); err != nil {
		return err
	}
	interviews, err := projections.InterviewIDsOf.Run(ctx, s.Pool, user)
	if err != nil {
		return err
	}
	streams := []string{domain.UserStream(user)}
	for _, id := range interviews {
		streams = append(streams, domain.InterviewStream(id))
	}
	for {
		envs, err := s.Store.Log().ReadStreamsBetween(ctx, streams, st.at, to, replayPage)
		if err != nil {
			return err
		}
		all, err := itemsOf(s.Store.Log(), envs)
		if err != nil {
			return err
		}
		mine := all[:0]
		for _, it := range all {
			if it.user == user {
				mine = append(mine, it)
			}
		}
		frames, failed, err := s.hub.renderer.render(ctx, mine)
		if err != nil {
			return err
		}
		if failed[user] {
			return errReplayRead
		}
		for _, f := range frames {
			if f != nil {
				if err := st.frame(f); err != nil {
					return err
				}
			}
		}
		if len(envs) < replayPage {
			return nil
		}
		// The page's last event may be somebody else's: the next page starts after it.
		st.at = envs[len(envs)-1].Position
	}
}

var errReplayRead = errors.New("reading what the missed events show failed")

// streamGroups are the projections of every table a stream reads.
var streamGroups = func() []string {
	var out []string
	for _, k := range []resourceKind{resEntry, resInterview, resNotification} {
		for _, g := range append(k.groups(), projections.InterviewIDsOf.Groups()...) {
			if !slices.Contains(out, g) {
				out = append(out, g)
			}
		}
	}
	return out
}()

// awaitTables waits until every table a stream reads has passed at, with a heartbeat
// at each interval meanwhile: a replay behind lagging tables keeps its connection, and
// notices when the client has gone.
func (s *server) awaitTables(ctx context.Context, st *sseWriter, at eventstore.Position) error {
	for {
		wait, cancel := context.WithTimeout(ctx, s.hub.cfg.heartbeat)
		err := s.watcher.Wait(wait, streamGroups, at)
		cancel()
		switch {
		case err == nil:
			return nil
		case ctx.Err() != nil:
			return ctx.Err()
		}
		if err := st.write(heartbeat); err != nil {
			return err
		}
	}
}

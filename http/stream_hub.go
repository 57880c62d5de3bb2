package http

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/supermock/engine/eventstore"
)

const (
	// defaultStreamsPerUser caps one user's open streams in one process: a few tabs.
	defaultStreamsPerUser = 5
	// defaultStreamBuffer is how many events a connection may fall behind before it is
	// closed; its client resumes with Last-Event-ID and loses nothing.
	defaultStreamBuffer = 64
	// defaultHeartbeat keeps proxies from closing an idle stream.
	defaultHeartbeat = 15 * time.Second
	// tailPage is the most events the tail reads at once.
	tailPage = 500
	// tailHeldBack is the next look when an event is committed but hidden behind an
	// older open transaction; tailSafetyPoll the longest sleep without a wake-up.
	tailHeldBack   = 5 * time.Millisecond
	tailSafetyPoll = time.Second
	// tailMinGap is the shortest time between two reads of the log: under thousands of
	// commits a second one read serves many wake-ups instead of one each.
	tailMinGap = 3 * time.Millisecond
	// tailBacklog is how many batches may wait for their reads.
	tailBacklog = 16
)

var errTooManyStreams = newError(fiber.StatusTooManyRequests, "too-many-streams",
	"this account has too many streams open: close one (another tab?) and retry")

// streamConfig tunes GET /api/stream; zero fields take the defaults (15 s heartbeat,
// 5 streams per user, a buffer of 64 events per connection).
type streamConfig struct {
	heartbeat time.Duration
	perUser   int
	buffer    int
}

func (c *streamConfig) setDefaults() {
	if c.heartbeat <= 0 {
		c.heartbeat = defaultHeartbeat
	}
	if c.perUser <= 0 {
		c.perUser = defaultStreamsPerUser
	}
	if c.buffer <= 0 {
		c.buffer = defaultStreamBuffer
	}
}

// hub is the one tail of the log in this process that feeds every stream: after each
// wake-up it reads the log once, decides whom each event concerns and hands the
// events' frames to their users' connections. It tails only while somebody listens.
type hub struct {
	log      *eventstore.Store
	renderer renderer
	cfg      streamConfig
	logger   *slog.Logger
	kick     chan struct{}
	batches  chan batch

	mu     sync.Mutex
	active bool
	// at is where the tail has read to: every event after it reaches the connections
	// subscribed now; the ones before it a new connection replays itself.
	at   eventstore.Position
	subs map[uuid.UUID][]*subscriber
	open int
}

// subscriber is one connection's place in the hub.
type subscriber struct {
	user   uuid.UUID
	frames chan *frame
	// gone is closed when the hub drops the connection: it fell behind or its frames
	// could not be read.
	gone     chan struct{}
	goneOnce sync.Once
}

// batch is what the tail read after one wake-up, with the connections it is for.
type batch struct {
	items   []item
	targets map[uuid.UUID][]*subscriber
}

func newHub(log *eventstore.Store, r renderer, cfg streamConfig, logger *slog.Logger) *hub {
	cfg.setDefaults()
	return &hub{log: log, renderer: r, cfg: cfg, logger: logger, kick: make(chan struct{}, 1),
		batches: make(chan batch, tailBacklog), subs: map[uuid.UUID][]*subscriber{}}
}

// subscribe adds a connection of user and returns the position from which the hub
// delivers: the connection replays what it needs up to there itself.
func (h *hub) subscribe(ctx context.Context, user uuid.UUID) (*subscriber, eventstore.Position, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.subs[user]) >= h.cfg.perUser {
		return nil, eventstore.Position{}, errTooManyStreams
	}
	if !h.active {
		// The tail is idle: it starts at the head, where this connection's replay ends.
		head, err := h.log.Head(ctx)
		if err != nil {
			return nil, eventstore.Position{}, err
		}
		h.at, h.active = head, true
		select {
		case h.kick <- struct{}{}:
		default:
		}
	}
	sub := &subscriber{user: user, frames: make(chan *frame, h.cfg.buffer), gone: make(chan struct{})}
	h.subs[user] = append(h.subs[user], sub)
	h.open++
	return sub, h.at, nil
}

// unsubscribe removes a connection; removing it twice is harmless.
func (h *hub) unsubscribe(sub *subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	list := h.subs[sub.user]
	for i, s := range list {
		if s == sub {
			list[i] = list[len(list)-1]
			list = list[:len(list)-1]
			h.open--
			break
		}
	}
	if len(list) == 0 {
		delete(h.subs, sub.user)
	} else {
		h.subs[sub.user] = list
	}
}

// drop closes a connection's stream from the hub's side.
func (h *hub) drop(sub *subscriber) {
	sub.goneOnce.Do(func() { close(sub.gone) })
	h.unsubscribe(sub)
}

// send queues a frame for a connection, or drops the connection when it is too far
// behind: its client reconnects with Last-Event-ID and replays what it missed.
func (h *hub) send(sub *subscriber, f *frame) {
	select {
	case <-sub.gone:
		return // nothing after a frame it missed
	default:
	}
	select {
	case sub.frames <- f:
	default:
		h.drop(sub)
	}
}

// run tails the log and delivers until ctx ends.
func (h *hub) run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		h.deliver(ctx)
	}()
	defer wg.Wait()
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.kick:
		}
		h.tail(ctx)
	}
}

// tail reads the log after each wake-up until nobody listens or ctx ends.
func (h *hub) tail(ctx context.Context) {
	watch, stop := context.WithCancel(ctx)
	defer stop()
	next := h.log.WatchCommits(watch)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		woken := next()
		from, listening := h.position()
		if !listening {
			return
		}
		read := time.Now()
		envs, err := h.log.ReadAll(ctx, from, tailPage)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			h.logger.Error("stream: reading the log failed", "err", err, "after", from.String())
		} else if len(envs) > 0 {
			if !h.dispatch(ctx, envs) {
				return
			}
			if len(envs) == tailPage {
				continue
			}
		}
		wait := tailSafetyPoll
		if err != nil {
			wait = time.Second
		} else if last, err := h.log.LastCommitted(ctx); err == nil && h.behind(last) {
			wait = tailHeldBack // committed, but hidden behind an older open transaction
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-woken:
		case <-timer.C:
		}
		if gap := tailMinGap - time.Since(read); gap > 0 {
			timer.Reset(gap)
			select {
			case <-ctx.Done():
				return
			case <-timer.C:
			}
		}
	}
}

// position is where the tail reads from, and whether anybody listens; when nobody does
// the tail goes idle until the next subscription.
func (h *hub) position() (eventstore.Position, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.open == 0 {
		h.active = false
	}
	return h.at, h.active
}

func (h *hub) behind(last eventstore.Position) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.at.Less(last)
}

// dispatch decides whom the events concern, takes their connections as they are now
// and moves the tail past the events, the last two under one lock: a connection
// subscribed after it replays these events itself. It reports false when ctx ended.
func (h *hub) dispatch(ctx context.Context, envs []eventstore.Envelope) bool {
	all, err := itemsOf(h.log, envs)
	if err != nil {
		// An event this code cannot decode: every connection resumes from its last
		// event when it reconnects, and replays it through a code that can.
		h.logger.Error("stream: decoding the log failed", "err", err)
	}
	h.mu.Lock()
	items := all[:0]
	targets := map[uuid.UUID][]*subscriber{}
	for _, it := range all {
		subs, ok := targets[it.user]
		if !ok {
			subs = append([]*subscriber(nil), h.subs[it.user]...)
			targets[it.user] = subs
		}
		if len(subs) > 0 {
			items = append(items, it)
		}
	}
	h.at = envs[len(envs)-1].Position
	h.mu.Unlock()
	if err != nil {
		h.dropAll()
		return true
	}
	if len(items) == 0 {
		return true
	}
	select {
	case h.batches <- batch{items: items, targets: targets}:
		return true
	case <-ctx.Done():
		return false
	}
}

// deliver renders the batches' items in log order and hands each frame to its
// connections. Once the read tables have passed the oldest item waiting, it renders
// every item they have passed by then, however many batches brought them: one read per
// resource serves them all, and an item waits for its own position, never for a
// round begun before it came.
func (h *hub) deliver(ctx context.Context) {
	var pending []target
	for {
		if len(pending) == 0 {
			select {
			case <-ctx.Done():
				return
			case b := <-h.batches:
				pending = b.append(pending)
			}
		}
		for more := true; more; {
			select {
			case b := <-h.batches:
				pending = b.append(pending)
			default:
				more = false
			}
		}
		first := pending[0].item
		if err := h.renderer.watcher.Wait(ctx, first.res.groups(), first.at); err != nil {
			return // ctx ended
		}
		n := 1
		for n < len(pending) && h.renderer.watcher.Passed(pending[n].res.groups(), pending[n].at) {
			n++
		}
		ready := pending[:n]
		items := make([]item, n)
		for i, p := range ready {
			items[i] = p.item
		}
		frames, failed, err := h.renderer.render(ctx, items)
		if err != nil {
			return // ctx ended
		}
		for user := range failed {
			h.logger.Error("stream: reading what an event shows failed", "user", user.String())
		}
		for i, p := range ready {
			if failed[p.user] {
				for _, sub := range p.subs[p.user] {
					h.drop(sub)
				}
				continue
			}
			if frames[i] != nil {
				for _, sub := range p.subs[p.user] {
					h.send(sub, frames[i])
				}
			}
		}
		pending = append(pending[:0], pending[n:]...)
	}
}

// target is an item with the connections its batch was for.
type target struct {
	item
	subs map[uuid.UUID][]*subscriber
}

func (b batch) append(to []target) []target {
	for _, it := range b.items {
		to = append(to, target{it, b.targets})
	}
	return to
}

func (h *hub) dropAll() {
	h.mu.Lock()
	var all []*subscriber
	for _, list := range h.subs {
		all = append(all, list...)
	}
	h.mu.Unlock()
	for _, sub := range all {
		h.drop(sub)
	}
}

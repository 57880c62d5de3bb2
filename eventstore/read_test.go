package eventstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/supermock/engine/eventstore"
)

// Writers commit in an order other than the order their rows were inserted in; readers
// tailing the log meanwhile must still see every event once, in increasing positions.
func TestTailingReadersSkipNothingWhenWritersCommitOutOfOrder(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	store, pool := newStore(t)
	const writers, total = 32, 20000

	type seen struct {
		mu    sync.Mutex
		items map[string]int
		last  eventstore.Position
		order error
	}
	record := func(s *seen, env eventstore.Envelope) int {
		var ev itemAdded
		if err := json.Unmarshal(env.Payload, &ev); err != nil {
			panic(err)
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if !s.last.Less(env.Position) && s.order == nil {
			s.order = fmt.Errorf("position %s came after %s", env.Position, s.last)
		}
		s.last = env.Position
		s.items[ev.Item]++
		return len(s.items)
	}
	pager := &seen{items: map[string]int{}}
	subscribed := &seen{items: map[string]int{}}

	var readers sync.WaitGroup
	readers.Add(2)
	go func() { // the page reader
		defer readers.Done()
		after := eventstore.Position{}
		for ctx.Err() == nil {
			page, err := store.ReadAll(ctx, after, 500)
			if err != nil {
				t.Errorf("page reader: %v", err)
				return
			}
			for _, env := range page {
				if record(pager, env) == total {
					return
				}
				after = env.Position
			}
			if len(page) == 0 {
				time.Sleep(2 * time.Millisecond)
			}
		}
	}()
	sub, err := store.Subscriber(eventstore.SubscriberConfig{ConsumerGroup: "tail", PollInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	messages, err := sub.Subscribe(ctx, eventstore.Topic)
	if err != nil {
		t.Fatal(err)
	}
	go func() { // the watermill subscriber
		defer readers.Done()
		for msg := range messages {
			env, err := eventstore.EnvelopeFromMessage(msg)
			if err != nil {
				t.Errorf("subscriber: %v", err)
				return
			}
			msg.Ack()
			if record(subscribed, env) == total {
				return
			}
		}
	}()

	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < total/writers; {
				n := min(1+rand.IntN(4), total/writers-i)
				events := make([]any, n)
				for k := range events {
					events[k] = itemAdded{Item: fmt.Sprintf("w%d-%d", w, i+k)}
				}
				err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
					if _, err := store.Append(ctx, tx, eventstore.Meta{}, eventstore.StreamAppend{
						StreamID: fmt.Sprintf("writer-%d", w), Expected: eventstore.Exact(int64(i)), Events: events,
					}); err != nil {
						return err
					}
					time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
					return nil
				})
				if err != nil {
					t.Errorf("writer %d: %v", w, err)
					return
				}
				i += n
			}
		}()
	}
	wg.Wait()
	readers.Wait()

	for name, s := range map[string]*seen{"page reader": pager, "subscriber": subscribed} {
		if s.order != nil {
			t.Errorf("%s: %v", name, s.order)
		}
		if len(s.items) != total {
			t.Errorf("%s saw %d distinct events, want %d", name, len(s.items), total)
		}
		for item, n := range s.items {
			if n != 1 {
				t.Errorf("%s saw %s %d times", name, item, n)
				break
			}
		}
	}
}

func TestReadsReturnTheWholeEnvelope(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	store, pool := newStore(t)
	occurred := time.Date(2026, 11, 27, 9, 30, 15, 123456000, time.UTC)
	meta := eventstore.Meta{CorrelationID: "corr-1", CausationID: "cause-1", Actor: "user-42", OccurredAt: occurred}
	pos, err := appendTx(ctx, store, pool, meta,
		eventstore.StreamAppend{StreamID: "cart-7", Expected: eventstore.NoStream, Events: []any{itemAdded{Item: "book", Count: 2}, itemRemoved{Item: "book"}}})
	if err != nil {
		t.Fatal(err)
	}

	check := func(from string, envs []eventstore.Envelope) {
		t.Helper()
		if len(envs) != 2 {
			t.Fatalf("%s: %d events, want 2", from, len(envs))
		}
		for i, env := range envs {
			id, err := uuid.Parse(env.EventID)
			if err != nil || id.Version() != 7 {
				t.Errorf("%s: event id %q is not a uuid v7", from, env.EventID)
			}
			// recorded_at is the row's insert time, whoever reads it.
			var recorded time.Time
			if err := pool.QueryRow(ctx, `SELECT created_at FROM watermill_events WHERE uuid = $1`, env.EventID).Scan(&recorded); err != nil {
				t.Fatal(err)
			}
			want := eventstore.Envelope{
				Position: env.Position, EventID: env.EventID, StreamID: "cart-7", StreamVersion: int64(i + 1),
				EventType: []string{"ItemAdded", "ItemRemoved"}[i], SchemaVersion: 1, OccurredAt: occurred, RecordedAt: recorded.UTC(),
				CorrelationID: "corr-1", CausationID: "cause-1", Actor: "user-42", Payload: env.Payload,
			}
			if fmt.Sprint(env) != fmt.Sprint(want) || !env.OccurredAt.Equal(occurred) || !env.RecordedAt.After(occurred) {
				t.Errorf("%s: event %d is\n%+v\nwant\n%+v", from, i, env, want)
			}
		}
		if envs[1].Position != pos || !envs[0].Position.Less(pos) {
			t.Errorf("%s: positions %s, %s; append returned %s", from, envs[0].Position, envs[1].Position, pos)
		}
		first, err := store.Decode(envs[0])
		if err != nil || first != (itemAdded{Item: "book", Count: 2}) {
			t.Errorf("%s: payload decodes to %#v, %v", from, first, err)
		}
	}
	stream, err := store.ReadStream(ctx, "cart-7")
	if err != nil {
		t.Fatal(err)
	}
	check("stream read", stream)
	if first, version, err := store.ReadStreamPage(ctx, "cart-7", 0, 1); err != nil || version != 2 || len(first) != 1 {
		t.Errorf("a page of one: %d events of version %d (%v)", len(first), version, err)
	} else if second, _, err := store.ReadStreamPage(ctx, "cart-7", 1, 5); err != nil {
		t.Fatal(err)
	} else {
		check("stream pages", append(first, second...))
	}
	if none, version, err := store.ReadStreamPage(ctx, "cart-nothing", 0, 5); err != nil || version != 0 || len(none) != 0 {
		t.Errorf("a stream without events: %d events of version %d (%v)", len(none), version, err)
	}
	page := readAllEventually(ctx, t, store, 2)
	check("page read", page)
	head, err := store.Head(ctx)
	if err != nil || head != pos {
		t.Errorf("head is %s (%v), want %s", head, err, pos)
	}
	rest, err := store.ReadAll(ctx, page[0].Position, 10)
	if err != nil || len(rest) != 1 || rest[0].EventID != page[1].EventID {
		t.Errorf("reading on from the first event's cursor gave %d events (%v), want only the second", len(rest), err)
	}

	sub, err := store.Subscriber(eventstore.SubscriberConfig{ConsumerGroup: "envelopes", PollInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	messages, err := sub.Subscribe(ctx, eventstore.Topic)
	if err != nil {
		t.Fatal(err)
	}
	var delivered []eventstore.Envelope
	for msg := range messages {
		env, err := eventstore.EnvelopeFromMessage(msg)
		if err != nil {
			t.Fatal(err)
		}
		msg.Ack()
		if delivered = append(delivered, env); len(delivered) == 2 {
			break
		}
	}
	check("subscriber", delivered)
}

func TestEventsOfAnUnknownTypeAreAnErrorOnRead(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	store, pool := newStore(t)
	if _, err := appendTx(ctx, store, pool, eventstore.Meta{}, eventstore.StreamAppend{StreamID: "s", Events: []any{itemRemoved{}}}); err != nil {
		t.Fatal(err)
	}
	// A reader whose codec has never heard of ItemRemoved.
	narrow := eventstore.NewCodec()
	if err := narrow.Register("ItemAdded", 1, itemAdded{}); err != nil {
		t.Fatal(err)
	}
	reader := eventstore.New(pool, narrow, nil)
	if _, err := reader.ReadStream(ctx, "s"); !errors.Is(err, eventstore.ErrUnknownEventType) {
		t.Errorf("stream read: got %v, want ErrUnknownEventType", err)
	}
	readAllEventually(ctx, t, store, 1)
	if _, err := reader.ReadAll(ctx, eventstore.Position{}, 10); !errors.Is(err, eventstore.ErrUnknownEventType) {
		t.Errorf("page read: got %v, want ErrUnknownEventType", err)
	}
}

// readAllEventually pages from the start until want events are visible: a committed
// event stays invisible to page readers while any older transaction on the server, of
// any test, may still commit.
func readAllEventually(ctx context.Context, t *testing.T, store *eventstore.Store, want int) []eventstore.Envelope {
	t.Helper()
	for {
		page, err := store.ReadAll(ctx, eventstore.Position{}, want+10)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) >= want {
			return page
		}
		if ctx.Err() != nil {
			t.Fatalf("only %d of %d events became visible", len(page), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A reader of a few streams gets exactly their events between two positions, in log
// order, a page at a time, and nothing of the other streams.
func TestReadStreamsBetweenTwoPositions(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	store, pool := newStore(t)
	var positions []eventstore.Position // of the events of cart-a and cart-b, in log order
	for i := range 12 {
		stream := []string{"cart-a", "cart-b", "cart-other"}[i%3]
		pos, err := appendTx(ctx, store, pool, eventstore.Meta{},
			eventstore.StreamAppend{StreamID: stream, Expected: eventstore.Any, Events: []any{itemAdded{Item: fmt.Sprint(i)}}})
		if err != nil {
			t.Fatal(err)
		}
		if stream != "cart-other" {
			positions = append(positions, pos)
		}
	}
	// After the first of them, up to and with the second to last: six of eight.
	after, upTo := positions[0], positions[len(positions)-2]
	var got []eventstore.Position
	for from := after; ; {
		page, err := store.ReadStreamsBetween(ctx, []string{"cart-a", "cart-b"}, from, upTo, 4)
		if err != nil {
			t.Fatal(err)
		}
		for _, env := range page {
			if env.StreamID == "cart-other" {
				t.Fatalf("read an event of another stream: %+v", env)
			}
			got = append(got, env.Position)
			from = env.Position
		}
		if len(page) < 4 {
			break
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(positions[1:len(positions)-1]) {
		t.Fatalf("read %v, want %v", got, positions[1:len(positions)-1])
	}
}

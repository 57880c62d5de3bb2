package eventstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/supermock/engine/eventstore"
	"github.com/supermock/engine/internal/testdb"
)

func TestExactAppendRaceHasOneWinnerPerVersion(t *testing.T) {
	t.Parallel()
	for _, a := range appenders {
		t.Run(a.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			store, pool := newStore(t)
			const writers, rounds = 64, 10
			for round := int64(0); round < rounds; round++ {
				var (
					wg        sync.WaitGroup
					start     = make(chan struct{})
					mu        sync.Mutex
					wins      int
					conflicts int
					others    []error
				)
				for w := 0; w < writers; w++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						<-start
						_, err := a.append(ctx, store, pool, eventstore.Meta{Actor: fmt.Sprint(w)}, eventstore.StreamAppend{
							StreamID: "cart-1", Expected: eventstore.Exact(round),
							Events: []any{itemAdded{Item: fmt.Sprintf("r%d-w%d", round, w)}},
						})
						mu.Lock()
						defer mu.Unlock()
						var ce *eventstore.ConcurrencyError
						switch {
						case err == nil:
							wins++
						case errors.Is(err, eventstore.ErrConcurrency) && errors.As(err, &ce) && ce.Stream == "cart-1" && ce.Actual == round+1:
							conflicts++
						default:
							others = append(others, err)
						}
					}()
				}
				close(start)
				wg.Wait()
				if wins != 1 || conflicts != writers-1 || len(others) > 0 {
					t.Fatalf("round %d: %d wins, %d conflicts naming the stream and version %d, other errors %v", round, wins, conflicts, round+1, others)
				}
			}
			envs, err := store.ReadStream(ctx, "cart-1")
			if err != nil {
				t.Fatal(err)
			}
			if len(envs) != rounds {
				t.Fatalf("stream has %d events, want %d", len(envs), rounds)
			}
			for i, e := range envs {
				if e.StreamVersion != int64(i+1) {
					t.Fatalf("event %d has version %d: a gap or a duplicate", i, e.StreamVersion)
				}
			}
		})
	}
}

// Commands of many users at once, as the API sends them: each append lands or
// conflicts on its own, with its own position and its actor's; with one writer a
// stream none conflicts, with four most do.
func TestConcurrentAppendsToManyStreamsEachLandOrConflictOnTheirOwn(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ streams, writersPerStream int }{{64, 1}, {16, 4}} {
		t.Run(fmt.Sprintf("%d streams, %d writers each", c.streams, c.writersPerStream), func(t *testing.T) {
			t.Parallel()
			raceAppends(t, c.streams, c.writersPerStream)
		})
	}
}

// raceAppends has writersPerStream writers on each of streams streams append at once,
// in rounds, each expecting the round's version.
func raceAppends(t *testing.T, streams, writersPerStream int) {
	ctx := context.Background()
	store, pool := newStore(t)
	const rounds = 8
	type won struct {
		stream string
		actor  string
		item   string
		pos    eventstore.Position
	}
	var (
		mu     sync.Mutex
		wins   []won
		others []error
	)
	for round := int64(0); round < rounds; round++ {
		var wg sync.WaitGroup
		start := make(chan struct{})
		for s := range streams {
			for w := range writersPerStream {
				wg.Go(func() {
					stream, actor, item := fmt.Sprintf("cart-%d", s), fmt.Sprintf("user-%d-%d", s, w), fmt.Sprintf("r%d-w%d", round, w)
					<-start
					pos, err := store.AppendCommitted(ctx, eventstore.Meta{Actor: actor}, eventstore.StreamAppend{
						StreamID: stream, Expected: eventstore.Exact(round), Events: []any{itemAdded{Item: item}},
					})
					mu.Lock()
					defer mu.Unlock()
					var ce *eventstore.ConcurrencyError
					switch {
					case err == nil:
						wins = append(wins, won{stream, actor, item, pos})
					case errors.As(err, &ce) && ce.Stream == stream && ce.Actual == round+1:
					default:
						others = append(others, err)
					}
				})
			}
		}
		close(start)
		wg.Wait()
	}
	if len(others) > 0 {
		t.Fatalf("appends failed otherwise than with a conflict naming their stream: %v", others)
	}
	if len(wins) != streams*rounds {
		t.Fatalf("%d appends won, want one per stream and round: %d", len(wins), streams*rounds)
	}
	newest := map[string]eventstore.Position{}
	for _, w := range wins {
		envs, err := store.ReadStream(ctx, w.stream)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, e := range envs {
			var added itemAdded
			if err := json.Unmarshal(e.Payload, &added); err != nil {
				t.Fatal(err)
			}
			if e.Actor == w.actor && added.Item == w.item {
				found = e.Position == w.pos
			}
		}
		if !found {
			t.Fatalf("the append of %s by %s returned %v, not its event's position", w.stream, w.actor, w.pos)
		}
		if newest[w.actor].Less(w.pos) {
			newest[w.actor] = w.pos
		}
	}
	for actor, want := range newest {
		if got, err := store.ActorsPosition(ctx, actor); err != nil || got != want {
			t.Fatalf("%s is at %v (%v), want their newest append's %v", actor, got, err, want)
		}
	}
	if n := countEvents(t, pool); n != streams*rounds {
		t.Fatalf("%d events in the log, want %d", n, streams*rounds)
	}
}

func TestAnyAppendsFromManyWritersAllLand(t *testing.T) {
	t.Parallel()
	for _, a := range appenders {
		t.Run(a.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			store, pool := newStore(t)
			const writers = 32
			var wg sync.WaitGroup
			errs := make(chan error, writers)
			for w := 0; w < writers; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, err := a.append(ctx, store, pool, eventstore.Meta{}, eventstore.StreamAppend{
						StreamID: "log-1", Expected: eventstore.Any, Events: []any{itemAdded{Count: w}, itemRemoved{}},
					})
					errs <- err
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatalf("append with Any failed: %v", err)
				}
			}
			envs, err := store.ReadStream(ctx, "log-1")
			if err != nil {
				t.Fatal(err)
			}
			if len(envs) != 2*writers {
				t.Fatalf("%d events, want %d", len(envs), 2*writers)
			}
			for i, e := range envs {
				if e.StreamVersion != int64(i+1) {
					t.Fatalf("event %d has version %d", i, e.StreamVersion)
				}
				// Each writer's two events stay together, in order.
				if want := []string{"ItemAdded", "ItemRemoved"}[i%2]; e.EventType != want {
					t.Fatalf("event %d is %s, want %s", i, e.EventType, want)
				}
			}
		})
	}
}

func TestMultiStreamAppendWritesAllOrNothing(t *testing.T) {
	t.Parallel()
	for _, a := range appenders {
		t.Run(a.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			store, pool := newStore(t)
			for _, s := range []string{"a", "b"} {
				if _, err := a.append(ctx, store, pool, eventstore.Meta{}, eventstore.StreamAppend{
					StreamID: s, Expected: eventstore.NoStream, Events: []any{itemAdded{Item: s}},
				}); err != nil {
					t.Fatal(err)
				}
			}
			cases := []struct {
				name       string
				b          eventstore.ExpectedVersion
				wantActual int64
			}{
				{"stream ahead of the expectation", eventstore.NoStream, 1},
				{"stream behind the expectation", eventstore.Exact(3), 1},
			}
			for _, tc := range cases {
				_, err := a.append(ctx, store, pool, eventstore.Meta{},
					eventstore.StreamAppend{StreamID: "a", Expected: eventstore.Exact(1), Events: []any{itemAdded{Item: "a2"}, itemAdded{Item: "a3"}}},
					eventstore.StreamAppend{StreamID: "c", Expected: eventstore.NoStream, Events: []any{itemAdded{Item: "c1"}}},
					eventstore.StreamAppend{StreamID: "b", Expected: tc.b, Events: []any{itemRemoved{Item: "b"}}},
				)
				var ce *eventstore.ConcurrencyError
				if !errors.As(err, &ce) || ce.Stream != "b" || ce.Actual != tc.wantActual || ce.Expected != tc.b {
					t.Fatalf("%s: got %v, want a concurrency error on b at version %d", tc.name, err, tc.wantActual)
				}
				if n := countEvents(t, pool); n != 2 {
					t.Fatalf("%s: the log holds %d events after a failed append, want 2", tc.name, n)
				}
			}
			// The same append with the right expectation lands whole.
			if _, err := a.append(ctx, store, pool, eventstore.Meta{},
				eventstore.StreamAppend{StreamID: "a", Expected: eventstore.Exact(1), Events: []any{itemAdded{Item: "a2"}, itemAdded{Item: "a3"}}},
				eventstore.StreamAppend{StreamID: "c", Expected: eventstore.NoStream, Events: []any{itemAdded{Item: "c1"}}},
				eventstore.StreamAppend{StreamID: "b", Expected: eventstore.Exact(1), Events: []any{itemRemoved{Item: "b"}}},
			); err != nil {
				t.Fatal(err)
			}
			for stream, want := range map[string]int64{"a": 3, "b": 2, "c": 1} {
				if envs, err := store.ReadStream(ctx, stream); err != nil || int64(len(envs)) != want || envs[len(envs)-1].StreamVersion != want {
					t.Fatalf("stream %s holds %d events (%v), want versions up to %d", stream, len(envs), err, want)
				}
			}
		})
	}
}

func TestBadInputWritesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, pool := newStore(t)
	type unregistered struct{ X int }
	cases := []struct {
		name    string
		appends []eventstore.StreamAppend
		want    error
	}{
		{"empty stream id", []eventstore.StreamAppend{{StreamID: " ", Events: []any{itemAdded{}}}}, eventstore.ErrInvalidEvent},
		{"no events", []eventstore.StreamAppend{{StreamID: "s"}}, eventstore.ErrInvalidEvent},
		{"nothing at all", nil, eventstore.ErrInvalidEvent},
		{"same stream twice", []eventstore.StreamAppend{{StreamID: "s", Events: []any{itemAdded{}}}, {StreamID: "s", Events: []any{itemAdded{}}}}, eventstore.ErrInvalidEvent},
		{"unknown event type after a good stream", []eventstore.StreamAppend{
			{StreamID: "s", Events: []any{itemAdded{}}},
			{StreamID: "t", Events: []any{unregistered{X: 1}}},
		}, eventstore.ErrUnknownEventType},
	}
	for _, tc := range cases {
		if _, err := appendTx(ctx, store, pool, eventstore.Meta{}, tc.appends...); !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
	}
	for _, cursor := range []string{"abc", "12", "12-", "-3", "1-x", "1-2-3", "12--4"} {
		if _, err := eventstore.ParsePosition(cursor); !errors.Is(err, eventstore.ErrBadCursor) {
			t.Errorf("cursor %q: got %v, want ErrBadCursor", cursor, err)
		}
	}
	if n := countEvents(t, pool); n != 0 {
		t.Fatalf("bad input wrote %d events", n)
	}
}

func TestPositionRoundTripsThroughItsString(t *testing.T) {
	t.Parallel()
	for _, p := range []eventstore.Position{{}, {TxID: 1, Offset: 2}, {TxID: 1<<63 + 5, Offset: 1<<62 + 7}} {
		got, err := eventstore.ParsePosition(p.String())
		if err != nil || got != p {
			t.Fatalf("%v → %q → %v, %v", p, p.String(), got, err)
		}
	}
	if !(eventstore.Position{TxID: 1, Offset: 9}).Less(eventstore.Position{TxID: 2, Offset: 1}) {
		t.Fatal("a later transaction must come after an earlier one whatever the offsets")
	}
}

// Failed appends hold their connections until they roll back: when they fill the pool,
// naming the conflict must not wait for a connection that none of them will free.
func TestConflictsThatFillThePoolStillReturn(t *testing.T) {
	t.Parallel()
	for _, a := range appenders {
		t.Run(a.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			cfg, err := pgxpool.ParseConfig(testdb.NewDatabase(t))
			if err != nil {
				t.Fatal(err)
			}
			cfg.MaxConns = 4
			pool, err := pgxpool.NewWithConfig(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer pool.Close()
			store := eventstore.New(pool, newCodec(t), nil)
			const writers = 32
			errs := make(chan error, writers)
			start := make(chan struct{})
			for w := 0; w < writers; w++ {
				go func() {
					<-start
					_, err := a.append(ctx, store, pool, eventstore.Meta{}, eventstore.StreamAppend{
						StreamID: "crowded", Expected: eventstore.NoStream, Events: []any{itemAdded{Count: w}}})
					errs <- err
				}()
			}
			close(start)
			wins := 0
			for range writers {
				err := <-errs
				switch {
				case err == nil:
					wins++
				case !errors.Is(err, eventstore.ErrConcurrency):
					t.Fatalf("an append failed with %v, want a concurrency error", err)
				}
			}
			if wins != 1 {
				t.Fatalf("%d appends created the stream, want 1", wins)
			}
		})
	}
}

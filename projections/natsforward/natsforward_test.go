package natsforward_test

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"

	"github.com/supermock/engine/eventstore"
	"github.com/supermock/engine/internal/consumers"
	"github.com/supermock/engine/internal/demo"
	"github.com/supermock/engine/internal/eventlog"
	"github.com/supermock/engine/internal/testdb"
	"github.com/supermock/engine/projections/natsforward"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// engine is one run of the forwarder, as a process of the engine would run it: its own
// store and connection, until stop.
type engine struct {
	forwarder *natsforward.Forwarder
	cancel    context.CancelFunc
	done      chan error
}

func startEngine(t testing.TB, store *eventstore.Store, url string) *engine {
	t.Helper()
	f, err := natsforward.New(store, natsforward.Config{URL: url, BatchSize: 50})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e := &engine{forwarder: f, cancel: cancel, done: make(chan error, 1)}
	go func() { e.done <- f.Run(ctx) }()
	t.Cleanup(e.stop)
	return e
}

func (e *engine) stop() {
	if e.cancel == nil {
		return
	}
	e.cancel()
	<-e.done
	_ = e.forwarder.Close()
	e.cancel = nil
}

func generate(t testing.TB, pool *pgxpool.Pool, seed uint64, users int) int {
	t.Helper()
	stats, err := demo.Generate(context.Background(), pool, demo.Config{Users: users, Seed: seed, Days: 3,
		Start: time.Date(2025, 3, 3, 8, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	return stats.Events
}

func jetStream(t testing.TB, url string) nats.JetStreamContext {
	t.Helper()
	conn, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conn.Close)
	js, err := conn.JetStream()
	if err != nil {
		t.Fatal(err)
	}
	return js
}

func streamMessages(t testing.TB, js nats.JetStreamContext) uint64 {
	t.Helper()
	info, err := js.StreamInfo(natsforward.StreamName)
	if errors.Is(err, nats.ErrStreamNotFound) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

func logEvents(t testing.TB, store *eventstore.Store) []eventstore.Envelope {
	t.Helper()
	var all []eventstore.Envelope
	var after eventstore.Position
	for {
		page, err := store.ReadAll(context.Background(), after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
		if len(page) < 1000 {
			return all
		}
		after = page[len(page)-1].Position
	}
}

// Every event reaches JetStream once, in log order, with its envelope, although the
// engine stops in the middle, the history grows while it is down, and the offset of
// what it had forwarded is lost (a crash between JetStream's ack and the commit): the
// events published again are dropped by their Nats-Msg-Id.
func TestEveryEventArrivesOnceInLogOrderAcrossARestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	server := testdb.NATS(t)
	js := jetStream(t, server.URL())
	log, err := eventlog.New(pool)
	if err != nil {
		t.Fatal(err)
	}
	store := log.Log()
	first := generate(t, pool, 1, 30)
	testdb.WaitVisible(t, store)

	board := consumers.NewBoard(store, nil)
	board.Group(natsforward.Group)
	one := startEngine(t, store, server.URL())
	testdb.Eventually(t, 3*time.Minute, func() bool { return streamMessages(t, js) >= uint64(first/2) })
	statuses, err := board.Read(ctx)
	if err != nil || len(statuses) != 1 || !statuses[0].Running || statuses[0].Name != natsforward.Group {
		t.Fatalf("the board shows %+v (%v)", statuses, err)
	}
	one.stop()
	forwarded, err := store.GroupPosition(ctx, natsforward.Group)
	if err != nil || forwarded == (eventstore.Position{}) {
		t.Fatalf("the first run left the group at %s (%v)", forwarded, err)
	}
	// The crash: the group's offset falls back to a third of the way, as if the commit
	// of the batches after it had been lost.
	rewind := logEvents(t, store)[first/3].Position
	if _, err := pool.Exec(ctx, `UPDATE watermill_offsets_events SET last_processed_transaction_id = $1::text::xid8,
		offset_acked = $2 WHERE consumer_group = $3`, strconv.FormatUint(rewind.TxID, 10), rewind.Offset, natsforward.Group); err != nil {
		t.Fatal(err)
	}
	generate(t, pool, 2, 20)
	testdb.WaitVisible(t, store)

	startEngine(t, store, server.URL())
	testdb.WaitConsumed(t, store, natsforward.Group)
	events := logEvents(t, store)
	if got := streamMessages(t, js); got != uint64(len(events)) {
		t.Fatalf("the stream holds %d messages, the log %d events", got, len(events))
	}
	for i, env := range events {
		msg, err := js.GetMsg(natsforward.StreamName, uint64(i+1))
		if err != nil {
			t.Fatal(err)
		}
		h := msg.Header
		if msg.Subject != "supermock.events."+env.EventType || h.Get(nats.MsgIdHdr) != env.EventID ||
			h.Get(eventstore.MetaPosition) != env.Position.String() || h.Get(eventstore.MetaStreamID) != env.StreamID ||
			h.Get(eventstore.MetaOccurredAt) != env.OccurredAt.Format(time.RFC3339Nano) ||
			h.Get(eventstore.MetaRecordedAt) != env.RecordedAt.Format(time.RFC3339Nano) || !bytes.Equal(msg.Data, env.Payload) {
			t.Fatalf("message %d is %s %v %s;\nthe log's event %d is %+v", i+1, msg.Subject, h, msg.Data, i+1, env)
		}
	}
}

// An existing stream is the operator's: the forwarder uses it as it is.
func TestAnExistingStreamKeepsItsLimits(t *testing.T) {
	t.Parallel()
	server := testdb.NATS(t)
	js := jetStream(t, server.URL())
	own := natsforward.StreamConfig()
	own.MaxAge = 90 * 24 * time.Hour
	if _, err := js.AddStream(own); err != nil {
		t.Fatal(err)
	}
	log, err := eventlog.New(testdb.New(t))
	if err != nil {
		t.Fatal(err)
	}
	f, err := natsforward.New(log.Log(), natsforward.Config{URL: server.URL()})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	info, err := js.StreamInfo(natsforward.StreamName)
	if err != nil || info.Config.MaxAge != own.MaxAge || info.Config.Duplicates != natsforward.DuplicateWindow {
		t.Fatalf("the stream is %+v (%v)", info, err)
	}
}

package natsforward_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/supermock/engine/internal/demo"
	"github.com/supermock/engine/internal/eventlog"
	"github.com/supermock/engine/internal/testdb"
	"github.com/supermock/engine/projections/natsforward"
)

// BenchmarkForwardToJetStream forwards a generated history of 50 000 events from the
// start of the log into an empty stream; the baseline in the same run publishes the
// same messages (subject, headers, payload) straight to JetStream with nats.go, one
// synchronous publish after the other, as the forwarder does.
func BenchmarkForwardToJetStream(b *testing.B) {
	const total = 50_000
	ctx := context.Background()
	pool := testdb.New(b)
	server := testdb.NATS(b)
	js := jetStream(b, server.URL())
	log, err := eventlog.New(pool)
	if err != nil {
		b.Fatal(err)
	}
	store := log.Log()
	stats, err := demo.Generate(ctx, pool, demo.Config{Users: 5000, Seed: 3, Days: 30, MaxEvents: total, FlushEvery: 5000})
	if err != nil {
		b.Fatal(err)
	}
	testdb.WaitVisible(b, store)
	events := logEvents(b, store)
	if _, err := js.AddStream(&nats.StreamConfig{Name: "BASELINE", Subjects: []string{"baseline.>"}, Storage: nats.FileStorage,
		Duplicates: natsforward.DuplicateWindow}); err != nil {
		b.Fatal(err)
	}
	forward := func() time.Duration {
		if _, err := pool.Exec(ctx, `DELETE FROM watermill_offsets_events WHERE consumer_group = $1`, natsforward.Group); err != nil {
			b.Fatal(err)
		}
		if err := js.PurgeStream(natsforward.StreamName); err != nil && !errors.Is(err, nats.ErrStreamNotFound) {
			b.Fatal(err)
		}
		start := time.Now()
		e := startEngine(b, store, server.URL())
		testdb.WaitConsumed(b, store, natsforward.Group)
		took := time.Since(start)
		e.stop()
		return took
	}
	publish := func() time.Duration {
		if err := js.PurgeStream("BASELINE"); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		for _, env := range events {
			msg := nats.NewMsg("baseline." + env.EventType)
			for k, v := range env.Message().Metadata {
				msg.Header.Set(k, v)
			}
			msg.Data = env.Payload
			if _, err := js.PublishMsg(msg, nats.MsgId(env.EventID)); err != nil {
				b.Fatal(err)
			}
		}
		return time.Since(start)
	}
	var ours, raw time.Duration
	rounds := 0
	for b.Loop() {
		if rounds%2 == 0 {
			ours += forward()
			raw += publish()
		} else {
			raw += publish()
			ours += forward()
		}
		rounds++
	}
	n := float64(stats.Events * rounds)
	b.ReportMetric(n/ours.Seconds(), "events/s")
	b.ReportMetric(n/raw.Seconds(), "raw-publish/s")
	b.ReportMetric(raw.Seconds()/ours.Seconds(), "forward/raw")
}

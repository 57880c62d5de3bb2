package eventstore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/tests"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/supermock/engine/eventstore"
	"github.com/supermock/engine/internal/testdb"
)

// The schema adapter and the waking subscriber are still a watermill Pub/Sub: they
// pass watermill's own conformance suite, set up the way watermill-sql runs it for
// Postgres over pgx. The safety poll is an hour, so every delivery is woken by the
// publisher's commit.
func TestSchemaAdapterPassesWatermillConformance(t *testing.T) {
	t.Parallel()
	store, pool := newStore(t)
	features := tests.Features{
		ConsumerGroups:      true,
		ExactlyOnceDelivery: true,
		GuaranteedOrder:     true,
		Persistent:          true,
	}
	tests.TestPubSub(t, features,
		func(t *testing.T) (message.Publisher, message.Subscriber) {
			return conformancePubSub(t, store, pool, "test")
		},
		func(t *testing.T, group string) (message.Publisher, message.Subscriber) {
			return conformancePubSub(t, store, pool, group)
		})
}

func conformancePubSub(t *testing.T, store *eventstore.Store, pool *pgxpool.Pool, group string) (message.Publisher, message.Subscriber) {
	schema := eventstore.SchemaAdapter{DefaultPostgreSQLSchema: wsql.DefaultPostgreSQLSchema{
		GenerateMessagesTableName: func(topic string) string { return fmt.Sprintf(`"test_%s"`, topic) },
		// The suite's payloads are not JSON.
		GeneratePayloadType: func(string) string { return "BYTEA" },
	}}
	offsets := wsql.DefaultPostgreSQLOffsetsAdapter{
		GenerateMessagesOffsetsTableName: func(topic string) string { return fmt.Sprintf(`"test_offsets_%s"`, topic) },
	}
	db := wsql.BeginnerFromPgx(pool)
	logger := watermill.NopLogger{}
	pub, err := wsql.NewPublisher(db, wsql.PublisherConfig{SchemaAdapter: schema, AutoInitializeSchema: true}, logger)
	if err != nil {
		t.Fatal(err)
	}
	noDeadline := time.Duration(0) // as the engine's subscribers run
	sub, err := store.WatermillSubscriber(wsql.SubscriberConfig{
		AckDeadline:      &noDeadline,
		ConsumerGroup:    group,
		PollInterval:     time.Millisecond,
		ResendInterval:   5 * time.Millisecond,
		SchemaAdapter:    schema,
		OffsetsAdapter:   offsets,
		InitializeSchema: true,
	}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return announcing{Publisher: pub, store: store}, &closesItsChannels{Subscriber: sub, done: make(chan struct{})}
}

// announcing tells the log's subscribers of each commit, as every writer outside
// Append must.
type announcing struct {
	message.Publisher
	store *eventstore.Store
}

func (p announcing) Publish(topic string, msgs ...*message.Message) error {
	err := p.Publisher.Publish(topic, msgs...)
	if err == nil {
		p.store.Committed()
	}
	return err
}

// closesItsChannels makes Close return only once every channel Subscribe handed out is
// closed. watermill-sql closes a subscription's channel just after the goroutine that
// Close waits for has ended, and the suite looks at the channel at once; without this
// the suite fails now and then on that ordering, which is the library's, not the log's.
type closesItsChannels struct {
	message.Subscriber
	done     chan struct{}
	closing  sync.Once
	channels sync.WaitGroup
}

func (s *closesItsChannels) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	in, err := s.Subscriber.Subscribe(ctx, topic)
	if err != nil {
		return nil, err
	}
	out := make(chan *message.Message)
	s.channels.Add(1)
	go func() {
		defer s.channels.Done()
		defer close(out)
		for msg := range in {
			select {
			case out <- msg:
			case <-s.done:
				return
			}
		}
	}()
	return out, nil
}

func (s *closesItsChannels) Close() error {
	s.closing.Do(func() { close(s.done) })
	err := s.Subscriber.Close()
	s.channels.Wait()
	return err
}

// The conformance tables come from the adapter, the engine's table from migrations:
// both must have the same shape.
func TestAdapterTablesHaveTheShapeOfTheMigratedLog(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	queries, err := eventstore.SchemaAdapter{}.SchemaInitializingQueries(wsql.SchemaInitializingQueriesParams{Topic: "shape"})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range queries {
		if _, err := pool.Exec(ctx, q.Query, q.Args...); err != nil {
			t.Fatal(err)
		}
	}
	shape := func(table string) string {
		var columns, constraints string
		err := pool.QueryRow(ctx, `SELECT
			(SELECT string_agg(column_name || ' ' || data_type || ' ' || is_nullable || ' ' || replace(coalesce(column_default, ''), $1, 'T'), ', ' ORDER BY ordinal_position)
				FROM information_schema.columns WHERE table_name = $1),
			(SELECT string_agg(replace(conname, $1, 'T') || ' ' || pg_get_constraintdef(oid), ', ' ORDER BY conname)
				FROM pg_constraint WHERE conrelid = $1::regclass)`, table).Scan(&columns, &constraints)
		if err != nil {
			t.Fatal(err)
		}
		return columns + " | " + constraints
	}
	if migrated, adapted := shape("watermill_events"), shape("watermill_shape"); migrated != adapted {
		t.Fatalf("migrated table:\n%s\nadapter table:\n%s", migrated, adapted)
	}
}

// Package natsforward forwards the log to NATS JetStream, so that analytics and other
// services read the history without touching PostgreSQL. It is a consumer group of
// the log like the projections: every event, in log order, is published through
// watermill's NATS Pub/Sub to the subject supermock.events.<EventType> of the stream
// SUPERMOCK_EVENTS, and the group's offset moves only once JetStream has acknowledged
// it. A crash between the two publishes the events of the unfinished batch again; their
// Nats-Msg-Id (the event id) lets JetStream drop the copies, so each event is in the
// stream once, in the order of the log.
package natsforward

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	wnats "github.com/ThreeDotsLabs/watermill-nats/v2/pkg/nats"
	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go"

	"github.com/supermock/engine/eventstore"
)

// Group is the forwarder's consumer group.
const Group = "nats-forwarder"

// The stream the forwarder creates when it is missing. An existing stream is used as
// it is, so an operator may change its limits (nats stream edit) and keep them.
const (
	StreamName    = "SUPERMOCK_EVENTS"
	SubjectPrefix = "supermock.events."
	// DuplicateWindow is how long JetStream remembers an event id: a forwarder that
	// crashed must be back within it, or the events of its unfinished batch (at most
	// BatchSize) are in the stream twice.
	DuplicateWindow = time.Hour
)

// StreamConfig is the stream made when none exists: every event, on file, kept as long
// as the log keeps it (no age, size or count limit), one replica.
func StreamConfig() *nats.StreamConfig {
	return &nats.StreamConfig{
		Name:        StreamName,
		Description: "Every event of the SuperMock engine's log, in log order",
		Subjects:    []string{SubjectPrefix + ">"},
		Retention:   nats.LimitsPolicy,
		Storage:     nats.FileStorage,
		Discard:     nats.DiscardOld,
		Duplicates:  DuplicateWindow,
		Replicas:    1,
	}
}

// Subject is the subject of events of one type.
func Subject(eventType string) string { return SubjectPrefix + eventType }

// Config of a Forwarder. URL is required.
type Config struct {
	URL    string // NATS_URL: one server or several, comma-separated
	Logger *slog.Logger
	// BatchSize is how many events one transaction of the group reads (default 100).
	BatchSize int
	// AckWait bounds the wait for JetStream's acknowledgement of one event (default 2 s):
	// the group's transaction stays open meanwhile and holds back every reader of the log.
	AckWait time.Duration
}

func (c *Config) setDefaults() {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 100
	}
	if c.AckWait <= 0 {
		c.AckWait = 2 * time.Second
	}
}

// Validate checks a Config after its defaults are set.
func (c Config) Validate() error {
	if c.URL == "" {
		return errors.New("natsforward: a NATS URL is required")
	}
	return nil
}

// Forwarder publishes the log to JetStream.
type Forwarder struct {
	store     *eventstore.Store
	cfg       Config
	conn      *nats.Conn
	publisher *wnats.Publisher
}

// New connects to NATS, creates the stream when it is missing and returns the
// forwarder; Run starts it and Close ends the connection.
func New(store *eventstore.Store, cfg Config) (*Forwarder, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	conn, err := nats.Connect(cfg.URL, nats.Name("supermock-engine"), nats.MaxReconnects(-1))
	if err != nil {
		return nil, fmt.Errorf("connect to NATS: %w", err)
	}
	if err := ensureStream(conn); err != nil {
		conn.Close()
		return nil, err
	}
	publisher, err := wnats.NewPublisherWithNatsConn(conn, wnats.PublisherPublishConfig{
		Marshaler:         &wnats.NATSMarshaler{},
		SubjectCalculator: wnats.DefaultSubjectCalculator,
		JetStream: wnats.JetStreamConfig{
			TrackMsgId:     true, // Nats-Msg-Id = the message's UUID, the event id
			PublishOptions: []nats.PubOpt{nats.ExpectStream(StreamName), nats.AckWait(cfg.AckWait)},
		},
	}, eventstore.WatermillLogger(cfg.Logger))
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("NATS publisher: %w", err)
	}
	return &Forwarder{store: store, cfg: cfg, conn: conn, publisher: publisher}, nil
}

func ensureStream(conn *nats.Conn) error {
	js, err := conn.JetStream()
	if err != nil {
		return fmt.Errorf("JetStream: %w", err)
	}
	_, err = js.StreamInfo(StreamName)
	if errors.Is(err, nats.ErrStreamNotFound) {
		_, err = js.AddStream(StreamConfig())
		if errors.Is(err, nats.ErrStreamNameAlreadyInUse) {
			err = nil // another replica made it meanwhile
		}
	}
	if err != nil {
		return fmt.Errorf("JetStream stream %s: %w", StreamName, err)
	}
	return nil
}

// Run forwards the log until ctx ends. Only one replica forwards at a time: the
// others wait on the group's lock.
func (f *Forwarder) Run(ctx context.Context) error {
	return f.store.ConsumeAtomic(ctx, eventstore.SubscriberConfig{ConsumerGroup: Group, BatchSize: f.cfg.BatchSize},
		f.forward, func(env eventstore.Envelope, err error) {
			f.cfg.Logger.Error("nats forwarder: event not forwarded, it will be retried", "event_id", env.EventID,
				"type", env.EventType, "err", err)
		})
}

// forward publishes one event and returns once JetStream has stored it. It writes
// nothing to the database, so a failed attempt leaves nothing to undo there.
func (f *Forwarder) forward(_ context.Context, _ pgx.Tx, env eventstore.Envelope) error {
	if !f.conn.IsConnected() {
		// Fail at once rather than hold the group's transaction open for the ack wait.
		return fmt.Errorf("NATS is %s", f.conn.Status())
	}
	return f.publisher.Publish(Subject(env.EventType), env.Message())
}

// Close ends the connection to NATS; call it after Run has returned.
func (f *Forwarder) Close() error { return f.publisher.Close() }

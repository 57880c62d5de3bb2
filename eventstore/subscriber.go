package eventstore

import (
	"errors"
	"fmt"
	"time"

	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
)

// SubscriberConfig says how one consumer group tails the log.
type SubscriberConfig struct {
	// ConsumerGroup names the reader; each group keeps its own offset, and one instance
	// of a group is active at a time (the others wait on the group's lock).
	ConsumerGroup string
	// PollInterval is the wait between two looks while committed events are hidden
	// behind an older open transaction (default 10 ms); otherwise the subscriber sleeps
	// until a commit wakes it, or SafetyPoll.
	PollInterval time.Duration
	// BatchSize is how many events one subscriber transaction reads (default 100).
	BatchSize int
	// ResendInterval is the wait before an event whose handling failed is offered
	// again in the same batch (default: the poll interval). The batch's transaction
	// holds back every other reader meanwhile, so it stays short.
	ResendInterval time.Duration
	// Attempts is how many times Consume tries an event in one batch before it gives
	// the batch up and backs off (default 3).
	Attempts int
	// MaxBackoff bounds Consume's wait between two batches given up (default 1 min).
	MaxBackoff time.Duration
	// SafetyPoll is the longest sleep without a wake-up (default 1 s): how late a
	// commit whose wake-up was lost is read.
	SafetyPoll time.Duration
	// Derived says the group writes only what the log rebuilds (read tables): its batch
	// transactions commit without waiting for their WAL flush (synchronous_commit off).
	// A crash may lose the last of them, the offset with their rows, and the events
	// are applied again; the log, and anything appended, stays as durable as ever.
	Derived bool
	// Wants, when set, names the events Consume's handler acts on: the others pass
	// without the handler and without a savepoint of their own (two round trips each).
	Wants func(Envelope) bool
	// Types, when set, are the only event types the handler is given, but for the last
	// event of a batch, which moves the offset past the others: those never leave the
	// database, where a batch's rows of other types cost nothing to read past.
	Types []string
}

func (c *SubscriberConfig) setDefaults() {
	if c.PollInterval <= 0 {
		c.PollInterval = 10 * time.Millisecond
	}
	if c.ResendInterval <= 0 {
		c.ResendInterval = c.PollInterval
	}
	if c.Attempts <= 0 {
		c.Attempts = 3
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = time.Minute
	}
}

// Validate checks a SubscriberConfig after its defaults are set.
func (c SubscriberConfig) Validate() error {
	if c.ConsumerGroup == "" {
		return errors.New("subscriber: a consumer group is required")
	}
	return nil
}

// Subscriber returns a watermill subscriber of the log for one consumer group. A
// handler may write in the subscriber's transaction (watermill-sql's TxFromContext), so
// its rows and the group's offset commit together. Delivered messages carry their
// position in the metadata; EnvelopeFromMessage reads them.
func (s *Store) Subscriber(cfg SubscriberConfig) (*Subscriber, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	// No ack deadline: when it passes, the subscriber commits the batch while the
	// handler may still be writing in its transaction.
	noDeadline := time.Duration(0)
	sub, err := s.watermillSubscriber(wsql.SubscriberConfig{
		AckDeadline:    &noDeadline,
		ConsumerGroup:  cfg.ConsumerGroup,
		PollInterval:   cfg.PollInterval,
		ResendInterval: cfg.ResendInterval,
		RetryInterval:  time.Second,
		SchemaAdapter:  SchemaAdapter{BatchSize: cfg.BatchSize, Types: cfg.Types},
		OffsetsAdapter: wsql.DefaultPostgreSQLOffsetsAdapter{},
	}, cfg.SafetyPoll, cfg.Derived)
	if err != nil {
		return nil, fmt.Errorf("subscriber %s: %w", cfg.ConsumerGroup, err)
	}
	return sub, nil
}

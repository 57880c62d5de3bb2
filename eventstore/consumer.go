package eventstore

import (
	"context"
	"fmt"
	"time"

	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jackc/pgx/v5"
)

// Handler applies one event inside the consumer group's transaction, which also moves
// the group's offset: what it writes and the offset commit together.
type Handler func(ctx context.Context, tx pgx.Tx, env Envelope) error

// Consume runs handle for every event after the group's offset, in log order, until ctx
// ends. Each event runs in a savepoint: a failed attempt leaves nothing behind, and the
// event is offered again (after the subscriber's resend interval) until it succeeds, so
// each event is applied exactly once and none is ever skipped. onError hears of every
// failed attempt, to log it and to show a stuck group.
//
// When ctx ends, Consume stops between two events: the event in hand is finished and
// acked first. The subscriber's own context is never cancelled under a running
// handler, since the subscriber would then commit its batch transaction while the
// handler still writes in it.
func (s *Store) Consume(ctx context.Context, cfg SubscriberConfig, handle Handler, onError func(Envelope, error)) error {
	sub, err := s.Subscriber(cfg)
	if err != nil {
		return err
	}
	defer sub.Close()
	subCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	defer stop()
	// Subscribing writes the group's offsets row: while the database is away, try again.
	messages, err := sub.Subscribe(subCtx, Topic)
	for retry := time.Second; err != nil; retry = min(2*retry, time.Minute) {
		if onError != nil {
			onError(Envelope{}, fmt.Errorf("subscribe %s: %w", cfg.ConsumerGroup, err))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(retry):
		}
		messages, err = sub.Subscribe(subCtx, Topic)
	}
	for {
		var msg *message.Message
		select {
		case <-ctx.Done():
			return ctx.Err()
		case msg = <-messages:
		}
		if msg == nil {
			return fmt.Errorf("consume %s: the subscriber stopped", cfg.ConsumerGroup)
		}
		if ctx.Err() != nil {
			return ctx.Err() // the batch commits without this event, which comes again
		}
		env, err := EnvelopeFromMessage(msg)
		if err == nil {
			err = applyInSavepoint(msg, env, handle)
		}
		if err != nil {
			if onError != nil {
				onError(env, err)
			}
			msg.Nack()
			continue
		}
		msg.Ack()
	}
}

func applyInSavepoint(msg *message.Message, env Envelope, handle Handler) error {
	ctx := msg.Context()
	tx, ok := wsql.TxFromContext(ctx)
	if !ok {
		return fmt.Errorf("event %s: delivered without the subscriber's transaction", env.EventID)
	}
	var ptx pgx.Tx
	switch t := tx.(type) {
	case *wsql.PgxTx:
		ptx = t.Tx
	case wsql.PgxTx:
		ptx = t.Tx
	default:
		return fmt.Errorf("event %s: subscriber transaction %T is not pgx", env.EventID, tx)
	}
	return pgx.BeginFunc(ctx, ptx, func(savepoint pgx.Tx) error { return handle(ctx, savepoint, env) })
}

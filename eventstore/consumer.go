package eventstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jackc/pgx/v5"
)

// Handler applies one event inside the consumer group's transaction, which also moves
// the group's offset: what it writes and the offset commit together.
type Handler func(ctx context.Context, tx pgx.Tx, env Envelope) error

// ErrPaused is what onError hears when a consumer gives its batch up: the envelope is
// the event that failed (empty when subscribing failed), and the consumer resumes after
// a backoff.
var ErrPaused = errors.New("consumer paused")

// Consume runs handle for every event after the group's offset, in log order, until ctx
// ends. Each event runs in a savepoint: a failed attempt leaves nothing behind, and the
// event is offered again at once, in the same batch. After cfg.Attempts failures in a
// row the batch is given up (rolled back, so its transaction stops holding back every
// other reader of the log) and taken up again after a backoff of 1 s doubling to
// cfg.MaxBackoff. So each event is applied exactly once and none is ever skipped;
// onError hears of every failed attempt and of every pause (ErrPaused).
//
// When ctx ends, Consume stops between two events. The subscriber's own context is
// never cancelled under a running handler, since the subscriber would then end its
// batch transaction while the handler still writes in it.
func (s *Store) Consume(ctx context.Context, cfg SubscriberConfig, handle Handler, onError func(Envelope, error)) error {
	return s.ConsumeAtomic(ctx, cfg, func(ctx context.Context, tx pgx.Tx, env Envelope) error {
		if cfg.Wants != nil && !cfg.Wants(env) {
			return nil
		}
		return pgx.BeginFunc(ctx, tx, func(savepoint pgx.Tx) error { return handle(ctx, savepoint, env) })
	}, onError)
}

// ConsumeAtomic is Consume for a handler that undoes its own failed attempts in the
// subscriber's transaction (the projections pipeline their savepoint with their writes,
// one round trip per event).
func (s *Store) ConsumeAtomic(ctx context.Context, cfg SubscriberConfig, apply Handler, onError func(Envelope, error)) error {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return err
	}
	s.states.started(cfg.ConsumerGroup, 1)
	defer s.states.started(cfg.ConsumerGroup, -1)
	heard := onError
	onError = func(env Envelope, err error) {
		s.states.failed(cfg.ConsumerGroup, err)
		if heard != nil {
			heard(env, err)
		}
	}
	var backoff time.Duration
	for {
		progressed, failed, err := s.consumeOnce(ctx, cfg, apply, onError)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if progressed {
			backoff = 0
		}
		backoff = min(max(2*backoff, time.Second), cfg.MaxBackoff)
		onError(failed, fmt.Errorf("%w: %s for %s: %w", ErrPaused, cfg.ConsumerGroup, backoff, err))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
	}
}

// consumeOnce runs one subscription until ctx ends or an event fails cfg.Attempts
// times in a row; it says whether any event was applied, and which one failed.
func (s *Store) consumeOnce(ctx context.Context, cfg SubscriberConfig, apply Handler, onError func(Envelope, error)) (bool, Envelope, error) {
	sub, err := s.Subscriber(cfg)
	if err != nil {
		return false, Envelope{}, err
	}
	defer sub.Close()
	subCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	messages, err := sub.Subscribe(subCtx, Topic)
	if err != nil {
		return false, Envelope{}, fmt.Errorf("subscribe %s: %w", cfg.ConsumerGroup, err)
	}
	// Ending the subscription between two events rolls back what the batch has not
	// committed; those events come again.
	stop := func() {
		cancel()
		for range messages {
		}
	}
	progressed, failures := false, 0
	for {
		var msg *message.Message
		select {
		case <-ctx.Done():
			stop()
			return progressed, Envelope{}, ctx.Err()
		case msg = <-messages:
		}
		if msg == nil {
			return progressed, Envelope{}, fmt.Errorf("the subscription of %s ended", cfg.ConsumerGroup)
		}
		env, err := EnvelopeFromMessage(msg)
		if err == nil {
			err = s.applyInTx(msg, env, apply)
		}
		if err == nil {
			progressed, failures = true, 0
			msg.Ack()
			continue
		}
		onError(env, err)
		if failures++; failures < cfg.Attempts {
			msg.Nack()
			continue
		}
		stop()
		return progressed, env, fmt.Errorf("event %s at %s failed %d times: %w", env.EventType, env.Position, failures, err)
	}
}

// applyInTx hands the handler the envelope decrypted through the subscriber's own
// transaction, which holds the connection a key lookup needs.
func (s *Store) applyInTx(msg *message.Message, env Envelope, apply Handler) error {
	ctx := msg.Context()
	tx, err := SubscriberTx(ctx)
	if err != nil {
		return fmt.Errorf("event %s: %w", env.EventID, err)
	}
	if env.Payload, err = s.reveal(ctx, tx, []byte(env.EventID), env.Payload, nil); err != nil {
		return err
	}
	return apply(ctx, tx, env)
}

// RollbackEvent undoes a failed attempt of a ConsumeAtomic handler that set savepoint
// before its writes, so that the event can be tried again in the same batch. It returns
// err, with the rollback's own failure joined.
func RollbackEvent(ctx context.Context, tx pgx.Tx, savepoint string, err error) error {
	if _, rbErr := tx.Exec(ctx, `ROLLBACK TO SAVEPOINT `+savepoint); rbErr != nil {
		return errors.Join(err, fmt.Errorf("rollback to savepoint: %w", rbErr))
	}
	return err
}

// Deferral is what the handlers of one subscriber transaction put off until just
// before the group's offset moves: then its flushes run, each queues its writes, and
// they go in one round trip and commit with the offset.
type Deferral struct {
	flushes []func(context.Context, pgx.Tx) error
	sends   []func(*pgx.Batch) error
}

// OnFlush has flush run in the transaction once the batch's events were handled, before
// the deferred writes go: a handler that put off its events' work does it there for all
// of them together, reading and writing as it needs. An error from flush fails the
// batch like a failed write.
func (d *Deferral) OnFlush(flush func(context.Context, pgx.Tx) error) {
	d.flushes = append(d.flushes, flush)
}

// OnSend has send queue its writes into the transaction's batch when it goes: a handler
// collects the events of a batch and writes them in as few statements as they allow.
// An error from send fails the batch like a failed write.
func (d *Deferral) OnSend(send func(*pgx.Batch) error) { d.sends = append(d.sends, send) }

// Deferred is the Deferral of the subscriber's transaction a message was delivered in.
// It says no while the group recovers from deferred writes that failed (each event then
// writes as it comes), and for a message of no subscriber's.
func Deferred(ctx context.Context) (*Deferral, bool) {
	t, _ := wsql.TxFromContext(ctx)
	w, ok := t.(*wakingTx)
	if !ok || w.beginner.oneByOne.Load() {
		return nil, false
	}
	if w.deferred == nil {
		w.deferred = &Deferral{}
	}
	return w.deferred, true
}

// SubscriberTx is the subscriber's transaction a message was delivered in, from the
// message's context: what a handler writes in it commits with the group's offset.
func SubscriberTx(ctx context.Context) (pgx.Tx, error) {
	t, _ := wsql.TxFromContext(ctx)
	if w, ok := t.(*wakingTx); ok {
		t = w.Tx
	}
	switch tx := t.(type) {
	case *wsql.PgxTx:
		return tx.Tx, nil
	case wsql.PgxTx:
		return tx.Tx, nil
	}
	return nil, fmt.Errorf("message delivered without a pgx transaction (%T)", t)
}

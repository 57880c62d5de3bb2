package eventstore

import (
	"context"
	stdsql "database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// defaultSafetyPoll is how long an idle subscriber sleeps when no wake-up comes: the
// bound on the delay of a commit whose signal was lost, e.g. one written by a tool that
// does not announce its commits.
const defaultSafetyPoll = time.Second

// errClosing ends a wait when the subscriber closes.
var errClosing = errors.New("subscriber closing")

// Subscriber is a watermill-sql subscriber that sleeps until there is something to
// read. Before each poll's transaction it asks, without a lock or a transaction id,
// whether any event lies past its group's offset: when none does it waits for a
// commit's wake-up (or the safety poll); when one does but is still hidden behind an
// older open transaction it looks again after the poll interval. Only then does
// watermill-sql run its poll as ever, so a late commit is still never skipped. A group
// of some types (SubscriberConfig.Types) that finds only other events ahead of the
// first it reads has them passed by the look instead of polling for them.
type Subscriber struct {
	*wsql.Subscriber
	closing   chan struct{}
	closeOnce sync.Once
	release   func()
}

type topicKey struct{}

// Subscribe is watermill's Subscribe; the topic travels in the context to the waits.
func (s *Subscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	return s.Subscriber.Subscribe(context.WithValue(ctx, topicKey{}, topic), topic)
}

// Close ends the waits, then the subscriptions, then stops listening.
func (s *Subscriber) Close() error {
	s.closeOnce.Do(func() { close(s.closing) })
	err := s.Subscriber.Close()
	s.release()
	return err
}

// WatermillSubscriber returns a waking subscriber over the log's database for any
// topic whose tables have the adapter's shape. cfg's SchemaAdapter must be a
// SchemaAdapter and its OffsetsAdapter watermill-sql's Postgres one; its PollInterval is
// the wait while events are hidden behind an open transaction, safetyPoll the longest
// sleep without a wake-up (default 1 s).
func (s *Store) WatermillSubscriber(cfg wsql.SubscriberConfig, safetyPoll time.Duration) (*Subscriber, error) {
	return s.watermillSubscriber(cfg, safetyPoll, false)
}

// watermillSubscriber is WatermillSubscriber; with unflushed, each poll's transaction
// commits without waiting for its WAL flush (SubscriberConfig.Derived).
func (s *Store) watermillSubscriber(cfg wsql.SubscriberConfig, safetyPoll time.Duration, unflushed bool) (*Subscriber, error) {
	schema, ok := cfg.SchemaAdapter.(SchemaAdapter)
	if !ok {
		return nil, fmt.Errorf("subscriber: schema adapter %T is not the log's", cfg.SchemaAdapter)
	}
	offsets, ok := cfg.OffsetsAdapter.(wsql.DefaultPostgreSQLOffsetsAdapter)
	if !ok {
		return nil, fmt.Errorf("subscriber: offsets adapter %T is not the Postgres one", cfg.OffsetsAdapter)
	}
	cfg.OffsetsAdapter = unlockedOffsets{offsets}
	if cfg.PollInterval <= 0 {
		return nil, fmt.Errorf("subscriber: poll interval must be positive")
	}
	if safetyPoll <= 0 {
		safetyPoll = defaultSafetyPoll
	}
	if cfg.RetryInterval <= 0 {
		cfg.RetryInterval = time.Second
	}
	// The waits happen before each poll, so watermill-sql itself never sleeps after
	// an empty one; errors back off as they always did.
	cfg.BackoffManager = wakingBackoff{wsql.NewDefaultBackoffManager(cfg.PollInterval, cfg.RetryInterval)}
	sub := &Subscriber{closing: make(chan struct{})}
	beginner := &wakingBeginner{
		Beginner: wsql.BeginnerFromPgx(s.pool), pool: s.pool, commits: s.commits, closing: sub.closing,
		schema: schema, offsets: offsets, group: cfg.ConsumerGroup, heldBack: cfg.PollInterval, safetyPoll: safetyPoll,
		unflushed: unflushed,
	}
	inner, err := wsql.NewSubscriber(beginner, cfg, s.logger)
	if err != nil {
		return nil, err
	}
	sub.Subscriber = inner
	sub.release = s.commits.hold()
	return sub, nil
}

type wakingBackoff struct{ wsql.BackoffManager }

func (b wakingBackoff) HandleError(logger watermill.LoggerAdapter, noMsg bool, err error) time.Duration {
	if errors.Is(err, errClosing) || errors.Is(err, context.Canceled) {
		return 0 // the subscription is ending
	}
	if err == nil {
		return 0
	}
	return b.BackoffManager.HandleError(logger, noMsg, err)
}

// wakingBeginner waits for something to read before it begins a poll's transaction.
type wakingBeginner struct {
	wsql.Beginner
	pool     *pgxpool.Pool
	commits  *commits
	closing  <-chan struct{}
	schema   SchemaAdapter
	offsets  wsql.DefaultPostgreSQLOffsetsAdapter
	group    string
	heldBack time.Duration
	// safetyPoll bounds the sleep without a wake-up.
	safetyPoll time.Duration
	// unflushed polls commit without waiting for their WAL flush.
	unflushed bool
	// polls are the beginners of each topic's polls (pollBeginner).
	polls sync.Map
	// oneByOne is set after deferred writes failed: the next batch sends each event's
	// writes as they come.
	oneByOne atomic.Bool
}

func (b *wakingBeginner) BeginTx(ctx context.Context, opts *stdsql.TxOptions) (wsql.Tx, error) {
	topic, isPoll := ctx.Value(topicKey{}).(string)
	if !isPoll || opts == nil { // watermill-sql's set-up, not a poll
		tx, err := b.Beginner.BeginTx(ctx, opts)
		if err != nil {
			return nil, err
		}
		return &wakingTx{Tx: tx, commits: b.commits, beginner: b}, nil
	}
	if err := b.wait(ctx, topic); err != nil {
		return nil, err
	}
	tx, err := b.pollBeginner(topic).BeginTx(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("begin a poll of consumer group %s: %w", b.group, err)
	}
	return &wakingTx{Tx: tx, commits: b.commits, beginner: b}, nil
}

// pollBeginner begins the polls of topic: with the group's lock in a statement of its
// own sent with the BEGIN (the isolation the schema adapter asks for), so the poll's
// next statement reads the offset as the previous holder left it. One per topic,
// made at its first poll.
func (b *wakingBeginner) pollBeginner(topic string) wsql.Beginner {
	if begin, ok := b.polls.Load(topic); ok {
		return begin.(wsql.Beginner)
	}
	begin := `BEGIN ISOLATION LEVEL READ COMMITTED; SELECT ` + groupLock(topic, b.group)
	if b.unflushed {
		begin += `, set_config('synchronous_commit', 'off', true)`
	}
	beginner, _ := b.polls.LoadOrStore(topic, wsql.BeginnerFromPgx(beginningWith{b.pool, begin}))
	return beginner.(wsql.Beginner)
}

// beginningWith is the pool whose transactions begin with its query (one round trip of
// several statements), whatever the options.
type beginningWith struct {
	*pgxpool.Pool
	begin string
}

func (p beginningWith) BeginTx(ctx context.Context, opts pgx.TxOptions) (pgx.Tx, error) {
	opts.BeginQuery = p.begin
	return p.Pool.BeginTx(ctx, opts)
}

// wait returns once an event past the group's offset is visible to a poll. Each wait
// channel is taken before the look, so a commit between the two still wakes it.
func (b *wakingBeginner) wait(ctx context.Context, topic string) error {
	look := b.commits.lookout(topic, b.schema.MessagesTable(topic), b.offsets.MessagesOffsetsTable(topic))
	for {
		committed := b.commits.committed.wait()
		visible, found, err := look.pending(ctx, b.group, b.schema.Types)
		if err != nil {
			return err
		}
		if visible {
			return nil
		}
		timeout := b.safetyPoll
		if found { // committed, but hidden behind an older open transaction
			timeout = b.heldBack
		}
		timer := time.NewTimer(timeout)
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-b.closing:
			timer.Stop()
			return errClosing
		case <-committed:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// groupLock is the call that takes the transaction-scoped advisory lock of a consumer
// group of topic: one poll of a group at a time, across every process, and LockGroup's
// hold on it.
// Unlike watermill-sql's FOR UPDATE of the offset row it assigns no transaction id, so
// a poll's transaction holds pg_snapshot_xmin back, and with it every other group's
// view of the log, only from its first write (the offset's move, for most) to its
// commit, not for the whole batch.
func groupLock(topic, group string) string {
	return `pg_advisory_xact_lock(hashtextextended('` + strings.ReplaceAll(groupLockKey(topic, group), `'`, `''`) + `', 0))`
}

// groupLockKey is the key whose hash names the lock of a consumer group of topic.
func groupLockKey(topic, group string) string { return "consumer-group:" + topic + ":" + group }

// unlockedOffsets is watermill-sql's PostgreSQL offsets adapter whose poll reads the
// offset row without locking it: the waking beginner has taken the group's lock
// (groupLock) in the statement before.
type unlockedOffsets struct {
	wsql.DefaultPostgreSQLOffsetsAdapter
}

func (a unlockedOffsets) NextOffsetQuery(params wsql.NextOffsetQueryParams) (wsql.Query, error) {
	return wsql.Query{
		Query: `SELECT offset_acked, last_processed_transaction_id FROM ` + a.MessagesOffsetsTable(params.Topic) +
			` WHERE consumer_group = $1`,
		Args: []any{params.ConsumerGroup},
	}, nil
}

// wakingTx announces a poll transaction's commit: to the log's readers when a handler
// appended in it, and in this process to the watchers of offsets. It also sends the
// statements its handlers deferred (Deferred) ahead of the offset's move.
type wakingTx struct {
	wsql.Tx
	commits  *commits
	beginner *wakingBeginner
	deferred *Deferral
}

// ExecContext is only ever the move of the group's offset in a poll's transaction
// (watermill-sql's ack query): the deferred statements go first, in its round trip.
// When they fail the batch rolls back and the next one runs event by event (Deferred
// says no), so the event that fails is found, retried and reported as ever.
func (t *wakingTx) ExecContext(ctx context.Context, query string, args ...any) (wsql.Result, error) {
	if t.deferred == nil {
		t.beginner.oneByOne.Store(false)
		return t.Tx.ExecContext(ctx, query, args...)
	}
	d := t.deferred
	t.deferred = nil
	tag, err := t.sendDeferred(ctx, d, query, args)
	if err != nil {
		t.beginner.oneByOne.Store(true)
		return nil, fmt.Errorf("deferred writes of %s: %w", t.beginner.group, err)
	}
	return wsql.PgxResult{CommandTag: tag}, nil
}

// sendDeferred runs the flushes of d, then sends its deferred writes and the ack query
// in one round trip.
func (t *wakingTx) sendDeferred(ctx context.Context, d *Deferral, ack string, args []any) (pgconn.CommandTag, error) {
	tx, ok := t.Tx.(*wsql.PgxTx)
	if !ok {
		return pgconn.CommandTag{}, fmt.Errorf("no pgx transaction (%T)", t.Tx)
	}
	for _, flush := range d.flushes {
		if err := flush(ctx, tx.Tx); err != nil {
			return pgconn.CommandTag{}, err
		}
	}
	b := &pgx.Batch{}
	for _, send := range d.sends {
		if err := send(b); err != nil {
			return pgconn.CommandTag{}, err
		}
	}
	var tag pgconn.CommandTag
	b.Queue(ack, args...).Exec(func(ct pgconn.CommandTag) error {
		tag = ct
		return nil
	})
	err := tx.SendBatch(ctx, b).Close()
	return tag, err
}

func (t *wakingTx) Commit() error {
	conn := t.conn()
	err := t.Tx.Commit()
	t.commits.ended(conn, err == nil)
	if err == nil {
		t.commits.consumed.fire()
	}
	return err
}

func (t *wakingTx) Rollback() error {
	conn := t.conn()
	err := t.Tx.Rollback()
	t.commits.ended(conn, false)
	return err
}

func (t *wakingTx) conn() *pgx.Conn {
	if tx, ok := t.Tx.(*wsql.PgxTx); ok && tx.Tx != nil {
		return tx.Conn()
	}
	return nil
}

package projections

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/supermock/engine/eventstore"
)

// Group is the consumer group a projection reads the log as.
func Group(name string) string { return "projection-" + name }

// checkpointSQL counts $3 applied events, the last of $2, in the transaction that
// applied them.
const checkpointSQL = `INSERT INTO projection_checkpoints (name, events_applied, last_event_at, updated_at)
	VALUES ($1, $3, $2, clock_timestamp())
	ON CONFLICT (name) DO UPDATE SET events_applied = projection_checkpoints.events_applied + EXCLUDED.events_applied,
		last_event_at = EXCLUDED.last_event_at, updated_at = EXCLUDED.updated_at,
		last_error = NULL, last_error_at = NULL, error_position = NULL`

// RunnerConfig says how the live projections tail the log.
type RunnerConfig struct {
	// PollInterval is the wait after an empty poll (default 10 ms).
	PollInterval time.Duration
	// BatchSize is how many events one subscriber transaction reads (default 50): small,
	// because a batch's open transaction holds back every other consumer group.
	BatchSize int
	// Attempts is how often an event is tried inside the batch's transaction before the
	// batch is given up and retried later with backoff (default 3).
	Attempts int
	// MaxBackoff bounds the wait between retries of a failing event (default 1 min).
	MaxBackoff time.Duration
	Logger     *slog.Logger
}

// Runner keeps projections up to date, each as its own consumer group: a handler
// writes its rows in the subscriber's transaction, which also moves the group's offset,
// so every event is applied exactly once.
//
// An event that fails is retried in the same transaction after its savepoint is rolled
// back (a transient error costs a few milliseconds). After Attempts failures the batch
// is rolled back, so it no longer holds other groups back, and the event is retried
// with exponential backoff: a poison event stalls its projection, never is skipped, and
// shows in Status and the checkpoint row until a fix lets it through.
type Runner struct {
	store       *eventstore.Store
	projections []Projection
	schema      *schema
	cfg         RunnerConfig
	pool        *pgxpool.Pool

	// failHook runs after an event's changes, inside its savepoint (tests inject failures).
	failHook func(ctx context.Context, tx pgx.Tx, p Projection, env eventstore.Envelope) error
}

func (c *RunnerConfig) setDefaults() {
	if c.PollInterval <= 0 {
		c.PollInterval = 10 * time.Millisecond
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 50
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

func NewRunner(ctx context.Context, pool *pgxpool.Pool, store *eventstore.Store, projections []Projection, cfg RunnerConfig) (*Runner, error) {
	cfg.setDefaults()
	s, err := loadSchema(ctx, pool, projections)
	if err != nil {
		return nil, err
	}
	return &Runner{store: store, projections: projections, schema: s, cfg: cfg, pool: pool}, nil
}

// Run applies events until ctx ends; a batch in flight then is rolled back and read
// again at the next start.
func (r *Runner) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, p := range r.projections {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var pend pending
			_ = r.store.ConsumeAtomic(ctx, eventstore.SubscriberConfig{
				ConsumerGroup: Group(p.Name()), PollInterval: r.cfg.PollInterval, BatchSize: r.cfg.BatchSize,
				Attempts: r.cfg.Attempts, MaxBackoff: r.cfg.MaxBackoff, Derived: true, Types: p.Types(),
			}, func(ctx context.Context, tx pgx.Tx, env eventstore.Envelope) error {
				return r.apply(ctx, tx, p, &pend, env)
			}, func(env eventstore.Envelope, err error) {
				if !errors.Is(err, eventstore.ErrPaused) {
					return // retried at once, in the same transaction
				}
				r.cfg.Logger.Error("projection stalled", "projection", p.Name(), "err", err)
				if env.EventID != "" { // the batch is rolled back: its checkpoint row is free
					r.recordError(context.WithoutCancel(ctx), p, env, err)
				}
			})
		}()
	}
	wg.Wait()
	return nil
}

// apply applies one event in the subscriber's transaction: with the batch's other
// events when the transaction defers writes, else inside a savepoint sent in the same
// round trip as its writes, so a failed attempt leaves nothing behind.
func (r *Runner) apply(ctx context.Context, tx pgx.Tx, p Projection, pend *pending, env eventstore.Envelope) error {
	if !p.Handles(env.EventType) {
		return nil
	}
	event, err := r.store.Decode(env)
	if err != nil {
		return err
	}
	var c Changes
	if err := p.Project(env, event, &c); err != nil {
		return err
	}
	if d, ok := eventstore.Deferred(ctx); ok && r.failHook == nil {
		// Written with the batch's other events just before the offset moves: a failure
		// there rolls the whole batch back and the next runs event by event below.
		pend.add(r, p, d, c.ops, env.OccurredAt)
		return nil
	}
	stmts, err := r.schema.plan(c.ops, live)
	if err != nil {
		return err
	}
	b := &pgx.Batch{}
	b.Queue(`SAVEPOINT projection_event`)
	for _, st := range stmts {
		b.Queue(st.sql, st.args...)
	}
	b.Queue(checkpointSQL, p.Name(), env.OccurredAt, 1)
	if r.failHook == nil {
		b.Queue(`RELEASE SAVEPOINT projection_event`) // one round trip per event
	}
	err = tx.SendBatch(ctx, b).Close()
	if err == nil && r.failHook != nil {
		if err = r.failHook(ctx, tx, p, env); err == nil {
			_, err = tx.Exec(ctx, `RELEASE SAVEPOINT projection_event`)
		}
	}
	if err != nil {
		err = fmt.Errorf("projection %s, event %s at %s: %w", p.Name(), env.EventType, env.Position,
			eventstore.RollbackEvent(ctx, tx, "projection_event", err))
	}
	return err
}

// pending collects a projection's changes in the subscriber transaction that defers
// them, to be planned together when it sends its batch: one statement per shape of
// change for the whole batch (as in a rebuild), and one checkpoint counting its events.
type pending struct {
	at      *eventstore.Deferral
	changes *batchChanges
}

type batchChanges struct {
	ops    []op
	events int64
	last   time.Time
}

func (p *pending) add(r *Runner, proj Projection, d *eventstore.Deferral, ops []op, at time.Time) {
	if p.at != d {
		c := &batchChanges{}
		p.at, p.changes = d, c
		d.OnSend(func(b *pgx.Batch) error {
			stmts, err := r.schema.plan(c.ops, live)
			if err != nil {
				return err
			}
			for _, st := range stmts {
				b.Queue(st.sql, st.args...)
			}
			b.Queue(checkpointSQL, proj.Name(), c.last, c.events)
			return nil
		})
	}
	p.changes.ops = append(p.changes.ops, ops...)
	p.changes.events++
	p.changes.last = at
}

// recordError leaves a stalled projection's error where every replica's status sees it.
func (r *Runner) recordError(ctx context.Context, p Projection, env eventstore.Envelope, failure error) {
	_, err := r.pool.Exec(ctx, `INSERT INTO projection_checkpoints (name, last_error, last_error_at, error_position)
		VALUES ($1, $2, clock_timestamp(), $3)
		ON CONFLICT (name) DO UPDATE SET last_error = EXCLUDED.last_error,
			last_error_at = EXCLUDED.last_error_at, error_position = EXCLUDED.error_position`,
		p.Name(), failure.Error(), env.Position.String())
	if err != nil {
		r.cfg.Logger.Error("record projection error", "projection", p.Name(), "err", err)
	}
}

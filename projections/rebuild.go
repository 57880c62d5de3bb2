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

// ErrRebuildRunning is returned for a rebuild of a projection that is being rebuilt;
// the error is a *RebuildRunningError naming it.
var ErrRebuildRunning = errors.New("a rebuild is already running")

type RebuildRunningError struct{ Projection string }

func (e *RebuildRunningError) Error() string {
	return fmt.Sprintf("projection %s: %v", e.Projection, ErrRebuildRunning)
}

func (e *RebuildRunningError) Is(target error) bool { return target == ErrRebuildRunning }

// shadowSuffix names the tables a rebuild fills before they replace the live ones.
const shadowSuffix = "__rebuild"

func shadow(table string) string { return table + shadowSuffix }

// Progress of a rebuild; Done counts the log's events the slowest projection has gone
// through (every event, whether or not it handles it).
type Progress struct {
	Projections []string
	Phase       string // "building", "switching", "done"
	Done, Total int64
	Elapsed     time.Duration
	Rate        float64       // events per second
	ETA         time.Duration // 0 once done
}

// RebuildConfig tunes a rebuild.
type RebuildConfig struct {
	// PageSize is how many events one page read returns and one transaction per
	// projection writes (default 5000).
	PageSize int
	// Progress, when set, is called after every page and at each phase.
	Progress func(Progress)
	// LockTimeout bounds the switch's wait for readers of the live table (default 5 s);
	// the switch is retried after one.
	LockTimeout time.Duration
	Logger      *slog.Logger
}

func (c *RebuildConfig) setDefaults() {
	if c.PageSize <= 0 {
		c.PageSize = 5000
	}
	if c.LockTimeout <= 0 {
		c.LockTimeout = 5 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Rebuild rebuilds projections from position zero into shadow tables, catches them up
// to the head and switches each in atomically. The live tables serve reads
// throughout; a rebuild that dies leaves them untouched and only shadow tables behind,
// which the next one replaces. A rebuild of a projection already being rebuilt (by any
// process) is refused with ErrRebuildRunning.
func Rebuild(ctx context.Context, pool *pgxpool.Pool, store *eventstore.Store, ps []Projection, cfg RebuildConfig) error {
	cfg.setDefaults()
	release, err := lockRebuilds(ctx, pool, ps)
	if err != nil {
		return err
	}
	defer release()
	rb := &rebuild{pool: pool, store: store, cfg: cfg, started: time.Now()}
	for _, p := range ps {
		rb.builders = append(rb.builders, &builder{p: p})
		rb.names = append(rb.names, p.Name())
	}
	err = rb.run(ctx, ps)
	rb.record(ctx, err)
	return err
}

func (rb *rebuild) run(ctx context.Context, ps []Projection) error {
	s, err := loadSchema(ctx, rb.pool, ps)
	if err != nil {
		return err
	}
	if err := createShadows(ctx, rb.pool, ps); err != nil {
		return err
	}
	rb.schema = s
	for _, b := range rb.builders {
		b.schema = s
	}
	if rb.total, err = rb.store.CountAfter(ctx, eventstore.Position{}); err != nil {
		return err
	}
	rb.report("building")
	if err := rb.build(ctx); err != nil {
		return err
	}
	rb.report("switching")
	for _, b := range rb.builders {
		if err := rb.switchIn(ctx, b); err != nil {
			return err
		}
	}
	rb.report("done")
	return nil
}

// record keeps how the rebuild ended, for each of its projections, once its progress
// row is gone: a rebuild that was stopped or failed is recorded too, with its error.
func (rb *rebuild) record(ctx context.Context, failure error) {
	var msg *string
	if failure != nil {
		m := failure.Error()
		msg = &m
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	b := &pgx.Batch{}
	rb.mu.Lock()
	for _, bd := range rb.builders {
		b.Queue(`INSERT INTO projection_rebuild_results (name, started_at, finished_at, events_done, error)
			VALUES ($1, $2, clock_timestamp(), $3, $4)
			ON CONFLICT (name) DO UPDATE SET started_at = EXCLUDED.started_at, finished_at = EXCLUDED.finished_at,
				events_done = EXCLUDED.events_done, error = EXCLUDED.error`, bd.p.Name(), rb.started, bd.shown, msg)
	}
	rb.mu.Unlock()
	if err := rb.pool.SendBatch(ctx, b).Close(); err != nil {
		rb.cfg.Logger.Error("record the rebuild's result", "projections", rb.names, "err", err)
	}
}

// lockRebuilds takes a session advisory lock per projection on one connection, which
// it holds until release. A killed rebuild's session ends, and its locks with it.
func lockRebuilds(ctx context.Context, pool *pgxpool.Pool, ps []Projection) (func(), error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	release := func() {
		// The unlock answers once the locks are free, so a rebuild that starts next finds
		// them free; closing the session then releases every lock it still holds, whatever
		// state it is in, but only once the server has seen it go.
		unlock, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_, _ = conn.Exec(unlock, `SELECT pg_advisory_unlock_all()`)
		_ = conn.Conn().Close(unlock)
		conn.Release()
	}
	for _, p := range ps {
		var ok bool
		if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(hashtextextended($1, 0))`,
			"projection-rebuild:"+p.Name()).Scan(&ok); err != nil {
			release()
			return nil, fmt.Errorf("lock rebuild of %s: %w", p.Name(), err)
		}
		if !ok {
			release()
			return nil, &RebuildRunningError{Projection: p.Name()}
		}
	}
	return release, nil
}

// createShadows makes fresh shadow tables shaped as the live ones, dropping what a
// killed rebuild left behind.
func createShadows(ctx context.Context, pool *pgxpool.Pool, ps []Projection) error {
	b := &pgx.Batch{}
	for _, p := range ps {
		for _, t := range p.Tables() {
			b.Queue(`DROP TABLE IF EXISTS ` + pgx.Identifier{shadow(t)}.Sanitize())
			b.Queue(`CREATE TABLE ` + pgx.Identifier{shadow(t)}.Sanitize() + ` (LIKE ` + pgx.Identifier{t}.Sanitize() + ` INCLUDING ALL)`)
		}
	}
	if err := pool.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("create shadow tables: %w", err)
	}
	return nil
}

type rebuild struct {
	pool     *pgxpool.Pool
	store    *eventstore.Store
	schema   *schema
	cfg      RebuildConfig
	builders []*builder
	names    []string
	started  time.Time
	mu       sync.Mutex
	total    int64
}

// builder folds the log into one projection's shadow tables.
type builder struct {
	p           Projection
	schema      *schema
	pos         eventstore.Position
	done        int64 // events gone through
	shown       int64 // done as of the last committed page, under rebuild.mu
	applied     int64 // events handled
	lastEventAt time.Time
	changes     Changes
}

// page is one read of the log, decoded once for every projection.
type page struct {
	envs   []eventstore.Envelope
	events []any
}

// build pages through the log from zero, each projection writing on its own connection,
// until a page comes back short: the head as it was then.
func (rb *rebuild) build(ctx context.Context) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	feeds := make([]chan page, len(rb.builders))
	var wg sync.WaitGroup
	for i, b := range rb.builders {
		feeds[i] = make(chan page, 2)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for pg := range feeds[i] {
				if err := rb.apply(ctx, b, pg); err != nil {
					cancel(err)
					for range feeds[i] {
					}
					return
				}
				rb.mu.Lock()
				b.shown = b.done
				rb.mu.Unlock()
				rb.report("building")
			}
		}()
	}
	err := rb.read(ctx, eventstore.Position{}, func(pg page) error {
		for _, f := range feeds {
			select {
			case f <- pg:
			case <-ctx.Done():
				return context.Cause(ctx)
			}
		}
		return nil
	})
	for _, f := range feeds {
		close(f)
	}
	wg.Wait()
	if err == nil {
		err = context.Cause(ctx)
	}
	return err
}

// read pages through the log after pos, decoding what some projection handles.
func (rb *rebuild) read(ctx context.Context, pos eventstore.Position, each func(page) error) error {
	for {
		envs, err := rb.store.ReadAll(ctx, pos, rb.cfg.PageSize)
		if err != nil {
			return err
		}
		if len(envs) == 0 {
			return nil
		}
		pg := page{envs: envs, events: make([]any, len(envs))}
		for i, env := range envs {
			for _, b := range rb.builders {
				if b.p.Handles(env.EventType) {
					if pg.events[i], err = rb.store.Decode(env); err != nil {
						return fmt.Errorf("rebuild: event %s at %s: %w", env.EventType, env.Position, err)
					}
					break
				}
			}
		}
		if err := each(pg); err != nil {
			return err
		}
		if len(envs) < rb.cfg.PageSize {
			return nil
		}
		pos = envs[len(envs)-1].Position
	}
}

// apply writes one page into a projection's shadow tables in one transaction, with the
// rebuild's progress, so any replica's status can show it.
func (rb *rebuild) apply(ctx context.Context, b *builder, pg page) error {
	return pgx.BeginFunc(ctx, rb.pool, func(tx pgx.Tx) error { return rb.applyTx(ctx, tx, b, pg) })
}

func (rb *rebuild) applyTx(ctx context.Context, tx pgx.Tx, b *builder, pg page) error {
	stmts, err := b.project(pg)
	if err != nil {
		return err
	}
	batch := &pgx.Batch{}
	for _, st := range stmts {
		batch.Queue(st.sql, st.args...)
	}
	batch.Queue(`INSERT INTO projection_rebuilds (name, position, events_done, events_total, started_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, clock_timestamp())
		ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position, events_done = EXCLUDED.events_done,
			events_total = EXCLUDED.events_total, started_at = EXCLUDED.started_at, updated_at = EXCLUDED.updated_at`,
		b.p.Name(), b.pos.String(), b.done, rb.totalAtLeast(b.done), rb.started)
	if err := tx.SendBatch(ctx, batch).Close(); err != nil {
		return fmt.Errorf("rebuild %s up to %s: %w", b.p.Name(), b.pos, err)
	}
	return nil
}

// project records the changes of a page's events and plans them against the shadows.
func (b *builder) project(pg page) ([]statement, error) {
	b.changes.reset()
	for i, env := range pg.envs {
		if !b.p.Handles(env.EventType) {
			continue
		}
		if err := b.p.Project(env, pg.events[i], &b.changes); err != nil {
			return nil, fmt.Errorf("rebuild %s: event %s at %s: %w", b.p.Name(), env.EventType, env.Position, err)
		}
		b.applied++
		b.lastEventAt = env.OccurredAt
	}
	if n := len(pg.envs); n > 0 {
		b.done += int64(n)
		b.pos = pg.envs[n-1].Position
	}
	return b.schema.plan(b.changes.ops, shadow)
}

// totalAtLeast keeps the total ahead of what is done: the log grows while we read.
func (rb *rebuild) totalAtLeast(done int64) int64 {
	rb.mu.Lock()
	defer rb.mu.Unlock()
	rb.total = max(rb.total, done)
	return rb.total
}

func (rb *rebuild) report(phase string) {
	if rb.cfg.Progress == nil {
		return
	}
	rb.mu.Lock()
	defer rb.mu.Unlock()
	done := int64(-1)
	for _, b := range rb.builders {
		if d := b.shown; done < 0 || d < done {
			done = d
		}
	}
	rb.total = max(rb.total, done)
	elapsed := time.Since(rb.started)
	p := Progress{Projections: rb.names, Phase: phase, Done: done, Total: rb.total, Elapsed: elapsed}
	if s := elapsed.Seconds(); s > 0 {
		p.Rate = float64(done) / s
	}
	if p.Rate > 0 && phase == "building" {
		p.ETA = time.Duration(float64(rb.total-done) / p.Rate * float64(time.Second))
	}
	rb.cfg.Progress(p)
}

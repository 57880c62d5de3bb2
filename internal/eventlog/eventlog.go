// Package eventlog binds the domain to the event store: a codec with every domain
// event registered, and the domain's Store port over the log.
package eventlog

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"sync"
	"sync/atomic"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/supermock/engine/domain"
	"github.com/supermock/engine/eventstore"
)

// Codec returns an event store codec that knows every domain event and their personal
// fields.
func Codec() (*eventstore.Codec, error) {
	codec := eventstore.NewCodec()
	for _, t := range domain.EventTypes() {
		if err := codec.Register(t.Name, t.SchemaVersion, t.New()); err != nil {
			return nil, err
		}
	}
	codec.DeclarePersonal(personal)
	return codec, nil
}

// personal names the personal fields of a domain event for the codec.
func personal(event any) (string, []string) {
	e, ok := event.(domain.Event)
	if !ok {
		return "", nil
	}
	subject, fields := domain.PersonalFields(e)
	if len(fields) == 0 {
		return "", nil
	}
	return subject.String(), fields
}

// processMasterKey is the master key of stores given none (tests, tools): data keys
// wrapped under it are readable for the life of the process only.
var processMasterKey = sync.OnceValue(func() []byte {
	key := make([]byte, eventstore.MasterKeySize)
	_, _ = rand.Read(key)
	return key
})

// Store is the domain's Store on the log.
type Store struct {
	pool  *pgxpool.Pool
	log   *eventstore.Store
	folds *folds
}

var _ domain.Store = (*Store)(nil)

// Option tunes New.
type Option func(*options)

type options struct {
	logger     *slog.Logger
	masterKeys [][]byte
}

// WithLogger sends the log's own messages (watermill's) to logger; without it they
// are dropped.
func WithLogger(logger *slog.Logger) Option { return func(o *options) { o.logger = logger } }

// WithMasterKeys wraps the users' data keys under the first key, reading those wrapped
// under the others too (a rotation). Without it the store uses a key of the process.
func WithMasterKeys(keys ...[]byte) Option { return func(o *options) { o.masterKeys = keys } }

// New returns the domain store over the log in pool.
func New(pool *pgxpool.Pool, opts ...Option) (*Store, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	codec, err := Codec()
	if err != nil {
		return nil, err
	}
	var logger watermill.LoggerAdapter
	if o.logger != nil {
		logger = eventstore.WatermillLogger(o.logger)
	}
	if len(o.masterKeys) == 0 {
		o.masterKeys = [][]byte{processMasterKey()}
	}
	keys, err := eventstore.NewKeyring(pool, o.masterKeys[0], o.masterKeys[1:]...)
	if err != nil {
		return nil, err
	}
	log := eventstore.New(pool, codec, logger)
	log.EncryptWith(keys)
	return &Store{pool: pool, log: log, folds: newFolds()}, nil
}

// EraseKey deletes the user's data key: their personal fields read as erased from then
// on, here at once and in other processes once their cache of keys forgets it.
func (s *Store) EraseKey(ctx context.Context, userID uuid.UUID) error {
	err := s.log.Keys().Erase(ctx, userID.String())
	s.folds.erase("", nil)
	return err
}

var _ domain.DataKeys = (*Store)(nil)

// Pool is the database the log lives in.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Log is the event store underneath.
func (s *Store) Log() *eventstore.Store { return s.log }

// Load reads a stream and decodes its events.
func (s *Store) Load(ctx context.Context, stream string) ([]domain.Event, int64, error) {
	events, err := s.read(ctx, s.pool, stream, 0)
	return events, int64(len(events)), err
}

// Fold returns the aggregate of stream at its version: of a stream folded before, the
// kept aggregate with only the events appended since folded in.
func (s *Store) Fold(ctx context.Context, stream string, empty domain.Snapshot) (domain.Snapshot, error) {
	return s.fold(ctx, s.pool, stream, empty, true)
}

// fold reads the events of stream after the aggregate the folds keep, through q;
// committed says q sees only committed events, whose aggregate the folds may then keep.
func (s *Store) fold(ctx context.Context, q eventstore.Querier, stream string, empty domain.Snapshot, committed bool) (domain.Snapshot, error) {
	if ahead, ok := ctx.Value(readAheadKey{}).(*readAhead); ok && committed {
		if from, generation, envs, ok := ahead.take(stream, empty); ok {
			return s.advance(stream, from, generation, envs, true)
		}
	}
	kept, generation, _ := s.folds.known(stream, empty)
	envs, err := s.log.ReadStreamAfter(ctx, q, stream, kept.Version())
	if err != nil {
		return nil, err
	}
	return s.advance(stream, kept, generation, envs, committed)
}

// advance folds kept, the aggregate the folds kept of stream under generation, by envs,
// the stream's events after it; committed says they are committed, and the folds may
// then keep the result. It returns the caller's copy to decide on.
func (s *Store) advance(stream string, kept domain.Snapshot, generation uint64, envs []eventstore.Envelope, committed bool) (domain.Snapshot, error) {
	events, err := s.decode(stream, kept.Version(), envs)
	if err != nil {
		return nil, err
	}
	next := kept.Advance(events, kept.Version()+int64(len(events)))
	if !committed || len(events) == 0 {
		return next, nil
	}
	if erases(events) {
		s.folds.erase(stream, next)
	} else {
		s.folds.keep(stream, next, generation)
	}
	return next.Advance(nil, next.Version()), nil
}

// ReadAhead queues in b the read of stream after the aggregate the folds keep of it
// (all of it if they keep none), for a caller that knows which stream its request will
// fold and sends b anyway (the session check of an API request). Once b's results are
// read, the function it returns gives a context whose next Fold of stream folds what
// the read got instead of reading the log again; the Folds after it, a command's retry
// among them, read the log as always.
func (s *Store) ReadAhead(b *pgx.Batch, stream string) func(context.Context) (context.Context, error) {
	ahead := &readAhead{stream: stream}
	var after int64
	var kept bool
	if ahead.from, ahead.generation, kept = s.folds.known(stream, nil); kept {
		after = ahead.from.Version()
	}
	read := s.log.QueueStreamRead(b, stream, after)
	return func(ctx context.Context) (context.Context, error) {
		var err error
		if ahead.envs, err = read.Envelopes(ctx); err != nil {
			return ctx, err
		}
		return context.WithValue(ctx, readAheadKey{}, ahead), nil
	}
}

type readAheadKey struct{}

// readAhead is what a request read of its stream ahead of its first Fold: the events
// after from, the aggregate the folds kept under generation (nil: the whole stream).
type readAhead struct {
	stream     string
	from       domain.Snapshot
	generation uint64
	envs       []eventstore.Envelope
	taken      atomic.Bool
}

// take hands what was read ahead to a Fold of stream into empty's kind, once.
func (a *readAhead) take(stream string, empty domain.Snapshot) (from domain.Snapshot, generation uint64, envs []eventstore.Envelope, ok bool) {
	from = a.from
	if from == nil {
		from = empty
	}
	if a.stream != stream || reflect.TypeOf(from) != reflect.TypeOf(empty) || a.taken.Swap(true) {
		return nil, 0, nil, false
	}
	return from, a.generation, a.envs, true
}

// read decodes the events of stream after version through q.
func (s *Store) read(ctx context.Context, q eventstore.Querier, stream string, version int64) ([]domain.Event, error) {
	envs, err := s.log.ReadStreamAfter(ctx, q, stream, version)
	if err != nil {
		return nil, err
	}
	return s.decode(stream, version, envs)
}

// decode decodes envs, the events of stream after version.
func (s *Store) decode(stream string, version int64, envs []eventstore.Envelope) ([]domain.Event, error) {
	events := make([]domain.Event, 0, len(envs))
	for _, env := range envs {
		if env.StreamVersion != version+int64(len(events))+1 {
			return nil, fmt.Errorf("event %s of %s has version %d after %d", env.EventID, stream, env.StreamVersion, version+int64(len(events)))
		}
		decoded, err := s.log.Decode(env)
		if err != nil {
			return nil, err
		}
		event, ok := decoded.(domain.Event)
		if !ok {
			return nil, fmt.Errorf("event %s of %s: %T is not a domain event", env.EventID, stream, decoded)
		}
		events = append(events, event)
	}
	return events, nil
}

// Append writes the changes in a transaction of its own.
func (s *Store) Append(ctx context.Context, meta domain.Meta, changes ...domain.Change) (string, error) {
	pos, err := s.log.AppendCommitted(ctx, logMeta(meta), streamAppends(changes)...)
	if err = s.appended(changes, err); err != nil {
		return "", err
	}
	return pos.String(), nil
}

// AppendTx writes the changes inside tx, for callers that commit other rows with them
// (the matchmaker's offset). A version conflict is both eventstore.ErrConcurrency and
// domain.ErrConcurrency.
func (s *Store) AppendTx(ctx context.Context, tx pgx.Tx, meta domain.Meta, changes ...domain.Change) (eventstore.Position, error) {
	pos, err := s.log.Append(ctx, tx, logMeta(meta), streamAppends(changes)...)
	return pos, s.appended(changes, err)
}

func logMeta(meta domain.Meta) eventstore.Meta {
	return eventstore.Meta{Actor: meta.Actor, CorrelationID: meta.CorrelationID, CausationID: meta.CausationID, OccurredAt: meta.OccurredAt}
}

func streamAppends(changes []domain.Change) []eventstore.StreamAppend {
	appends := make([]eventstore.StreamAppend, len(changes))
	for i, c := range changes {
		events := make([]any, len(c.Events))
		for k, e := range c.Events {
			events[k] = e
		}
		appends[i] = eventstore.StreamAppend{StreamID: c.Stream, Expected: eventstore.Exact(c.Expected), Events: events}
	}
	return appends
}

// appended is err of an append of changes, a version conflict marked as the domain's
// too; an erasure among the changes empties the folds.
func (s *Store) appended(changes []domain.Change, err error) error {
	if errors.Is(err, eventstore.ErrConcurrency) {
		return fmt.Errorf("%w: %w", domain.ErrConcurrency, err)
	}
	for _, c := range changes {
		if erases(c.Events) {
			s.folds.erase("", nil)
		}
	}
	return err
}

// In is the domain's Store inside tx: loads see what tx wrote, and each append runs in
// a savepoint, so a conflict undoes only that append and the command can retry in the
// same transaction.
func (s *Store) In(tx pgx.Tx) domain.Store { return txStore{store: s, tx: tx} }

type txStore struct {
	store *Store
	tx    pgx.Tx
}

func (t txStore) Load(ctx context.Context, stream string) ([]domain.Event, int64, error) {
	events, err := t.store.read(ctx, t.tx, stream, 0)
	return events, int64(len(events)), err
}

func (t txStore) Fold(ctx context.Context, stream string, empty domain.Snapshot) (domain.Snapshot, error) {
	return t.store.fold(ctx, t.tx, stream, empty, false)
}

func (t txStore) Append(ctx context.Context, meta domain.Meta, changes ...domain.Change) (string, error) {
	var pos eventstore.Position
	err := pgx.BeginFunc(ctx, t.tx, func(savepoint pgx.Tx) error {
		var err error
		pos, err = t.store.AppendTx(ctx, savepoint, meta, changes...)
		return err
	})
	if err != nil {
		return "", err
	}
	return pos.String(), nil
}

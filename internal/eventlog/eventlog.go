// Package eventlog binds the domain to the event store: a codec with every domain
// event registered, and the domain's Store port over the log.
package eventlog

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"sync"

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
	pool    *pgxpool.Pool
	log     *eventstore.Store
	history *history
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
	return &Store{pool: pool, log: log, history: newHistory()}, nil
}

// EraseKey deletes the user's data key: their personal fields read as erased from then
// on, here at once and in other processes once their cache of keys forgets it.
func (s *Store) EraseKey(ctx context.Context, userID uuid.UUID) error {
	return s.log.Keys().Erase(ctx, userID.String())
}

var _ domain.DataKeys = (*Store)(nil)

// Pool is the database the log lives in.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Log is the event store underneath.
func (s *Store) Log() *eventstore.Store { return s.log }

// Load reads a stream and decodes its events; of a stream loaded before, only the
// events appended since.
func (s *Store) Load(ctx context.Context, stream string) ([]domain.Event, int64, error) {
	return s.load(ctx, s.pool, stream, true)
}

// load reads the events of stream after those the history keeps, through q; committed
// says q sees only committed events, which the history may then keep.
func (s *Store) load(ctx context.Context, q eventstore.Querier, stream string, committed bool) ([]domain.Event, int64, error) {
	events := s.history.known(stream)
	envs, err := s.log.ReadStreamAfter(ctx, q, stream, int64(len(events)))
	if err != nil {
		return nil, 0, err
	}
	for _, env := range envs {
		if env.StreamVersion != int64(len(events))+1 {
			return nil, 0, fmt.Errorf("event %s of %s has version %d after %d", env.EventID, stream, env.StreamVersion, len(events))
		}
		decoded, err := s.log.Decode(env)
		if err != nil {
			return nil, 0, err
		}
		event, ok := decoded.(domain.Event)
		if !ok {
			return nil, 0, fmt.Errorf("event %s of %s: %T is not a domain event", env.EventID, stream, decoded)
		}
		events = append(events, event)
	}
	if committed && len(envs) > 0 {
		s.history.keep(stream, events)
	}
	return events, int64(len(events)), nil
}

// Append writes the changes in a transaction of its own.
func (s *Store) Append(ctx context.Context, meta domain.Meta, changes ...domain.Change) (string, error) {
	var pos eventstore.Position
	err := s.log.InTx(ctx, func(tx pgx.Tx) error {
		var err error
		pos, err = s.AppendTx(ctx, tx, meta, changes...)
		return err
	})
	if err != nil {
		return "", err
	}
	return pos.String(), nil
}

// AppendTx writes the changes inside tx, for callers that commit other rows with them
// (the matchmaker's offset). A version conflict is both eventstore.ErrConcurrency and
// domain.ErrConcurrency.
func (s *Store) AppendTx(ctx context.Context, tx pgx.Tx, meta domain.Meta, changes ...domain.Change) (eventstore.Position, error) {
	appends := make([]eventstore.StreamAppend, len(changes))
	for i, c := range changes {
		events := make([]any, len(c.Events))
		for k, e := range c.Events {
			events[k] = e
		}
		appends[i] = eventstore.StreamAppend{StreamID: c.Stream, Expected: eventstore.Exact(c.Expected), Events: events}
	}
	pos, err := s.log.Append(ctx, tx, eventstore.Meta{
		Actor: meta.Actor, CorrelationID: meta.CorrelationID, CausationID: meta.CausationID, OccurredAt: meta.OccurredAt,
	}, appends...)
	if errors.Is(err, eventstore.ErrConcurrency) {
		return pos, fmt.Errorf("%w: %w", domain.ErrConcurrency, err)
	}
	return pos, err
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
	return t.store.load(ctx, t.tx, stream, false)
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

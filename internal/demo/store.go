package demo

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/supermock/engine/domain"
	"github.com/supermock/engine/internal/eventlog"
)

// memStore is the domain's Store for a generator that is the log's only writer: it
// serves loads from memory (a simulated month needs no round trip per load) and writes
// every append through to the log, many commands per transaction. Expected versions are
// checked in memory and again by the log.
type memStore struct {
	pool       *pgxpool.Pool
	log        *eventlog.Store
	streams    map[string][]domain.Event
	tx         pgx.Tx
	inTx       int
	flushEvery int
	events     int
	broken     error // the failure that ended the history
}

func newMemStore(pool *pgxpool.Pool, log *eventlog.Store, flushEvery int) (*memStore, error) {
	if log == nil {
		var err error
		if log, err = eventlog.New(pool); err != nil {
			return nil, err
		}
	}
	return &memStore{pool: pool, log: log, streams: map[string][]domain.Event{}, flushEvery: flushEvery}, nil
}

func (s *memStore) Load(_ context.Context, stream string) ([]domain.Event, int64, error) {
	events := s.streams[stream]
	return events, int64(len(events)), nil
}

func (s *memStore) Fold(ctx context.Context, stream string, empty domain.Snapshot) (domain.Snapshot, error) {
	events, version, err := s.Load(ctx, stream)
	return empty.Advance(events, version), err
}

func (s *memStore) Append(ctx context.Context, meta domain.Meta, changes ...domain.Change) (string, error) {
	if s.broken != nil {
		return "", s.broken
	}
	n := 0
	for _, c := range changes {
		if got := int64(len(s.streams[c.Stream])); got != c.Expected {
			return "", fmt.Errorf("%w: stream %s at %d, expected %d", domain.ErrConcurrency, c.Stream, got, c.Expected)
		}
		n += len(c.Events)
	}
	if s.tx == nil {
		tx, err := s.pool.Begin(ctx)
		if err != nil {
			return "", err
		}
		s.tx = tx
	}
	pos, err := s.log.AppendTx(ctx, s.tx, meta, changes...)
	if err != nil {
		// The events since the last flush are gone from the log but not from memory:
		// this store serves nothing more.
		_ = s.tx.Rollback(ctx)
		s.tx = nil
		s.broken = fmt.Errorf("the demo history stopped: %w", err)
		return "", s.broken
	}
	for _, c := range changes {
		s.streams[c.Stream] = append(s.streams[c.Stream], c.Events...)
	}
	s.events += n
	if s.inTx += n; s.inTx >= s.flushEvery {
		if err := s.flush(ctx); err != nil {
			return "", err
		}
	}
	return pos.String(), nil
}

// flush commits what was appended since the last flush.
func (s *memStore) flush(ctx context.Context) error {
	if s.tx == nil {
		return nil
	}
	err := s.tx.Commit(ctx)
	s.tx, s.inTx = nil, 0
	if err != nil {
		return fmt.Errorf("commit demo events: %w", err)
	}
	s.log.Log().Committed()
	return nil
}

func (s *memStore) close(ctx context.Context) {
	if s.tx != nil {
		_ = s.tx.Rollback(ctx)
		s.tx = nil
	}
}

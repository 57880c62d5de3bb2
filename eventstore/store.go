// Package eventstore is the engine's log: one PostgreSQL table written and read through
// watermill-sql, with streams, expected versions and a global order. It knows no event
// types of its own; a Codec registered by the application maps names to Go types.
package eventstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

const (
	eventsTable  = `watermill_events`
	offsetsTable = `watermill_offsets_events`
)

// Store appends to and reads from the log.
type Store struct {
	pool    *pgxpool.Pool
	codec   *Codec
	schema  SchemaAdapter
	offsets wsql.DefaultPostgreSQLOffsetsAdapter
	logger  watermill.LoggerAdapter
	commits *commits
	states  groupStates
	keys    *Keyring
	pages   sync.Pool // *heldPage, ScanAll's copies of pages whose keys it reads
}

// New returns a store over pool that encodes and decodes events with codec.
func New(pool *pgxpool.Pool, codec *Codec, logger watermill.LoggerAdapter) *Store {
	if logger == nil {
		logger = watermill.NopLogger{}
	}
	return &Store{pool: pool, codec: codec, logger: logger, commits: newCommits(pool, logger)}
}

// InTx runs fn in a transaction of its own and commits it. The commit of what fn
// appended wakes the log's subscribers at once; a transaction committed by other means
// wakes them at their safety poll, unless its committer calls Committed.
func (s *Store) InTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	var conn *pgx.Conn
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		conn = tx.Conn()
		return fn(tx)
	})
	s.commits.ended(conn, err == nil)
	return err
}

// Committed wakes the log's subscribers, here and in other processes, after a commit
// of appended events that did not go through InTx.
func (s *Store) Committed() { s.commits.signal() }

// WatchCommits keeps this process listening for other processes' commits while ctx
// lives and returns next: a channel closed at the next commit to the log after the call,
// or when notifications may have been lost. A waiter takes it, looks, then waits on it.
func (s *Store) WatchCommits(ctx context.Context) (next func() <-chan struct{}) {
	context.AfterFunc(ctx, s.commits.hold())
	return s.commits.committed.wait
}

// StreamAppend is what one append writes to one stream.
type StreamAppend struct {
	StreamID string
	Expected ExpectedVersion
	Events   []any
}

// Append writes the events of every stream inside tx, which the caller owns and
// commits: all of them or, if any stream is not at its expected version, none (the
// caller must roll tx back on error). It returns the position of the last event written.
func (s *Store) Append(ctx context.Context, tx pgx.Tx, meta Meta, appends ...StreamAppend) (Position, error) {
	msgs, seals, err := s.messages(ctx, meta, appends)
	if err != nil {
		return Position{}, err
	}
	for _, p := range seals {
		msg := msgs[p.msg]
		if msg.Payload, err = s.sealPayload(ctx, tx, msg.UUID, p.subject, p.fields, msg.Payload); err != nil {
			return Position{}, fmt.Errorf("append to %s: %w", msg.Metadata.Get(MetaStreamID), err)
		}
	}
	s.commits.appended(tx.Conn())
	if err := s.resolveAny(ctx, tx, appends, msgs); err != nil {
		return Position{}, err
	}
	exec := &returningExec{Tx: wsql.TxFromPgx(tx), tx: tx}
	publisher, err := wsql.NewPublisher(exec, wsql.PublisherConfig{SchemaAdapter: s.schema}, s.logger)
	if err != nil {
		return Position{}, fmt.Errorf("append: %w", err)
	}
	if err := publisher.Publish(Topic, msgs...); err != nil {
		if conflict := s.conflict(ctx, tx, err, appends); conflict != nil {
			return Position{}, conflict
		}
		return Position{}, fmt.Errorf("append: %w", err)
	}
	if err := recordActor(ctx, tx, meta.Actor, exec.last); err != nil {
		return Position{}, fmt.Errorf("append: record the actor's position: %w", err)
	}
	return exec.last, nil
}

// messages validates the appends and turns them into watermill messages before any
// I/O, so bad input writes nothing, and names the personal fields to encrypt. Versions
// start at the expected one; streams appended with Any are renumbered by resolveAny.
func (s *Store) messages(ctx context.Context, meta Meta, appends []StreamAppend) ([]*message.Message, []sealing, error) {
	if len(appends) == 0 {
		return nil, nil, fmt.Errorf("%w: nothing to append", ErrInvalidEvent)
	}
	occurred := meta.OccurredAt
	if occurred.IsZero() {
		occurred = time.Now()
	}
	actor := meta.Actor
	if actor == "" {
		actor = ActorSystem
	}
	seen := make(map[string]bool, len(appends))
	var msgs []*message.Message
	var seals []sealing
	for _, a := range appends {
		if strings.TrimSpace(a.StreamID) == "" {
			return nil, nil, fmt.Errorf("%w: empty stream id", ErrInvalidEvent)
		}
		if seen[a.StreamID] {
			return nil, nil, fmt.Errorf("%w: stream %s appears twice in one append", ErrInvalidEvent, a.StreamID)
		}
		seen[a.StreamID] = true
		if len(a.Events) == 0 {
			return nil, nil, fmt.Errorf("%w: no events for stream %s", ErrInvalidEvent, a.StreamID)
		}
		for i, event := range a.Events {
			name, schemaVersion, payload, err := s.codec.Encode(event)
			if err != nil {
				return nil, nil, fmt.Errorf("append to %s: %w", a.StreamID, err)
			}
			id, err := uuid.NewV7()
			if err != nil {
				return nil, nil, fmt.Errorf("event id: %w", err)
			}
			env := Envelope{
				EventID:       id.String(),
				StreamID:      a.StreamID,
				StreamVersion: a.Expected.version + int64(i) + 1,
				EventType:     name,
				SchemaVersion: schemaVersion,
				OccurredAt:    occurred,
				CorrelationID: meta.CorrelationID,
				CausationID:   meta.CausationID,
				Actor:         actor,
			}
			msg := message.NewMessage(env.EventID, payload)
			msg.Metadata = env.metadata()
			msg.SetContext(ctx)
			if subject, fields := s.codec.personalFields(event); len(fields) > 0 {
				seals = append(seals, sealing{msg: len(msgs), subject: subject, fields: fields})
			}
			msgs = append(msgs, msg)
		}
	}
	return msgs, seals, nil
}

// resolveAny numbers the events of streams appended with Any after the stream's current
// version. A transaction-scoped advisory lock on the stream makes Any appends to one
// stream wait for each other instead of failing.
func (s *Store) resolveAny(ctx context.Context, tx pgx.Tx, appends []StreamAppend, msgs []*message.Message) error {
	first := 0
	for _, a := range appends {
		if a.Expected.kind == expectAny {
			var current int64
			batch := &pgx.Batch{}
			batch.Queue(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, a.StreamID)
			batch.Queue(`SELECT coalesce(max(stream_version), 0) FROM `+eventsTable+` WHERE stream_id = $1`, a.StreamID).
				QueryRow(func(row pgx.Row) error { return row.Scan(&current) })
			if err := tx.SendBatch(ctx, batch).Close(); err != nil {
				return fmt.Errorf("append to %s: read current version: %w", a.StreamID, err)
			}
			for i := range a.Events {
				msgs[first+i].Metadata.Set(MetaStreamVersion, strconv.FormatInt(current+int64(i)+1, 10))
			}
		}
		first += len(a.Events)
	}
	return nil
}

// conflict turns a broken stream constraint into a *ConcurrencyError naming the first
// stream whose version is not the expected one. The insert ran in a savepoint, so the
// versions are read on the caller's own connection after rolling back to it: reading
// them on another connection of the pool would wait for one that a crowd of failed
// appends may hold, and a bounded wait fails on a busy machine.
func (s *Store) conflict(ctx context.Context, tx pgx.Tx, err error, appends []StreamAppend) error {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return nil
	}
	isVersion := (pgErr.Code == "23505" && strings.HasSuffix(pgErr.ConstraintName, "_stream_version_key")) ||
		(pgErr.Code == "23514" && strings.HasSuffix(pgErr.ConstraintName, "_stream_check"))
	if !isVersion {
		return nil
	}
	streams := make([]string, len(appends))
	for i, a := range appends {
		streams[i] = a.StreamID
	}
	versions, verr := streamVersions(ctx, tx, streams)
	if verr != nil {
		return fmt.Errorf("%w: one of the streams %v (their versions are unreadable: %v)", ErrConcurrency, streams, verr)
	}
	var found *ConcurrencyError
	for _, a := range appends {
		c := &ConcurrencyError{Stream: a.StreamID, Expected: a.Expected, Actual: versions[a.StreamID]}
		if !a.Expected.Matches(c.Actual) {
			return c
		}
		if found == nil {
			found = c
		}
	}
	// Every stream matches now: the writer that got in the way has rolled back since.
	return found
}

// appendSavepoint is set right before the insert, in the same round trip, so that a
// conflict can be named inside the caller's transaction.
const appendSavepoint = "eventstore_append"

// streamVersions rolls tx back to the append's savepoint and reads the current
// versions; in READ COMMITTED the read sees the writer that won. (Not one batch: pgx
// prepares a batch's queries before running any, and the transaction is still aborted.)
func streamVersions(ctx context.Context, tx pgx.Tx, streams []string) (map[string]int64, error) {
	if _, err := tx.Exec(ctx, `ROLLBACK TO SAVEPOINT `+appendSavepoint); err != nil {
		return nil, err
	}
	rows, err := tx.Query(ctx, `SELECT stream_id, max(stream_version) FROM `+eventsTable+`
		WHERE stream_id = ANY($1) GROUP BY stream_id`, streams)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	versions := make(map[string]int64, len(streams))
	for rows.Next() {
		var stream string
		var v int64
		if err := rows.Scan(&stream, &v); err != nil {
			return nil, err
		}
		versions[stream] = v
	}
	return versions, rows.Err()
}

// returningExec runs the publisher's insert as a query, to read back the position of
// the rows it wrote from the insert's RETURNING clause.
type returningExec struct {
	wsql.Tx
	tx   pgx.Tx
	last Position
}

type rowsAffected int64

func (r rowsAffected) RowsAffected() (int64, error) { return int64(r), nil }

func (e *returningExec) ExecContext(ctx context.Context, query string, args ...any) (wsql.Result, error) {
	var n int64
	batch := &pgx.Batch{}
	batch.Queue(`SAVEPOINT ` + appendSavepoint)
	batch.Queue(query, args...).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var txID wsql.XID8
			var offset int64
			if err := rows.Scan(&txID, &offset); err != nil {
				return err
			}
			if p := (Position{TxID: uint64(txID), Offset: offset}); e.last.Less(p) {
				e.last = p
			}
			n++
		}
		return rows.Err()
	})
	if err := e.tx.SendBatch(ctx, batch).Close(); err != nil {
		return nil, err
	}
	return rowsAffected(n), nil
}

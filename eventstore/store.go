// Package eventstore is the engine's log: one PostgreSQL table written and read through
// watermill-sql, with streams, expected versions and a global order. It knows no event
// types of its own; a Codec registered by the application maps names to Go types.
package eventstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
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
	if err := s.prepare(ctx, tx, appends, msgs, seals); err != nil {
		return Position{}, err
	}
	s.commits.appended(tx.Conn())
	b := &pgx.Batch{}
	b.Queue(`SAVEPOINT ` + appendSavepoint)
	var last Position
	if err := s.queueInsert(b, meta.Actor, msgs, &last); err != nil {
		return Position{}, err
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		if !versionConflict(err) {
			return Position{}, fmt.Errorf("append: %w", err)
		}
		if _, rbErr := tx.Exec(ctx, `ROLLBACK TO SAVEPOINT `+appendSavepoint); rbErr != nil {
			return Position{}, unreadableConflict(appends, rbErr)
		}
		return Position{}, s.conflict(ctx, tx, appends)
	}
	return last, nil
}

// AppendCommitted writes the events of every stream in a transaction of its own and
// commits it: all of them or, if any stream is not at its expected version, none. When
// nothing has to be read first (no personal field to seal, no stream appended with
// Any), the insert and the actor's position go in one round trip as the implicit
// transaction of a pipeline, with no BEGIN or COMMIT of their own; otherwise in InTx.
func (s *Store) AppendCommitted(ctx context.Context, meta Meta, appends ...StreamAppend) (Position, error) {
	msgs, seals, err := s.messages(ctx, meta, appends)
	if err != nil {
		return Position{}, err
	}
	if len(seals) > 0 || slices.ContainsFunc(appends, func(a StreamAppend) bool { return a.Expected.kind == expectAny }) {
		var last Position
		err := s.InTx(ctx, func(tx pgx.Tx) error {
			var err error
			last, err = s.Append(ctx, tx, meta, appends...)
			return err
		})
		return last, err
	}
	b := &pgx.Batch{}
	var last Position
	if err := s.queueInsert(b, meta.Actor, msgs, &last); err != nil {
		return Position{}, err
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return Position{}, fmt.Errorf("append: %w", err)
	}
	defer conn.Release()
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		if !versionConflict(err) {
			return Position{}, fmt.Errorf("append: %w", err)
		}
		return Position{}, s.conflict(ctx, conn, appends) // the pipeline has rolled back
	}
	s.commits.signal()
	return last, nil
}

// prepare seals the personal fields of msgs and numbers the events of streams appended
// with Any, inside tx.
func (s *Store) prepare(ctx context.Context, tx pgx.Tx, appends []StreamAppend, msgs []*message.Message, seals []sealing) error {
	for _, p := range seals {
		msg := msgs[p.msg]
		var err error
		if msg.Payload, err = s.sealPayload(ctx, tx, msg.UUID, p.subject, p.fields, msg.Payload); err != nil {
			return fmt.Errorf("append to %s: %w", msg.Metadata.Get(MetaStreamID), err)
		}
	}
	return s.resolveAny(ctx, tx, appends, msgs)
}

// queueInsert queues the insert of msgs, in the schema adapter's one statement whose
// RETURNING sets last to the position of the newest row, and the actor's move to it.
func (s *Store) queueInsert(b *pgx.Batch, actor string, msgs []*message.Message, last *Position) error {
	insert, err := s.schema.InsertQuery(wsql.InsertQueryParams{Topic: Topic, Msgs: msgs})
	if err != nil {
		return fmt.Errorf("append: %w", err)
	}
	b.Queue(insert.Query, insert.Args...).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var txID wsql.XID8
			var offset int64
			if err := rows.Scan(&txID, &offset); err != nil {
				return err
			}
			if p := (Position{TxID: uint64(txID), Offset: offset}); last.Less(p) {
				*last = p
			}
		}
		return rows.Err()
	})
	queueActor(b, actor)
	return nil
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

// versionConflict says whether err is the insert breaking a stream's version constraint.
func versionConflict(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	return (pgErr.Code == "23505" && strings.HasSuffix(pgErr.ConstraintName, "_stream_version_key")) ||
		(pgErr.Code == "23514" && strings.HasSuffix(pgErr.ConstraintName, "_stream_check"))
}

// conflict is the *ConcurrencyError of an insert that broke a stream's version
// constraint, naming the first stream whose version is not the expected one. The
// versions are read through q, the append's own connection once the insert is undone:
// reading them on another connection of the pool would wait for one that a crowd of
// failed appends may hold, and a bounded wait fails on a busy machine.
func (s *Store) conflict(ctx context.Context, q Querier, appends []StreamAppend) error {
	versions, err := streamVersions(ctx, q, streamIDs(appends))
	if err != nil {
		return unreadableConflict(appends, err)
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

func unreadableConflict(appends []StreamAppend, err error) error {
	return fmt.Errorf("%w: one of the streams %v (their versions are unreadable: %v)", ErrConcurrency, streamIDs(appends), err)
}

func streamIDs(appends []StreamAppend) []string {
	streams := make([]string, len(appends))
	for i, a := range appends {
		streams[i] = a.StreamID
	}
	return streams
}

// appendSavepoint is set right before the insert, in the same round trip, so that a
// conflict can be named inside the caller's transaction.
const appendSavepoint = "eventstore_append"

// streamVersions reads the current versions of streams; in READ COMMITTED the read
// sees the writer that won.
func streamVersions(ctx context.Context, q Querier, streams []string) (map[string]int64, error) {
	rows, err := q.Query(ctx, `SELECT stream_id, max(stream_version) FROM `+eventsTable+`
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

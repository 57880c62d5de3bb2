package eventstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/jackc/pgx/v5"
)

const envelopeColumns = `transaction_id, "offset", uuid, payload, metadata, stream_id, stream_version, event_type, created_at`

// Querier runs a query: a pool, a connection or a transaction.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// ReadStream returns every event of one stream in version order; a stream with no
// event is empty, not an error.
func (s *Store) ReadStream(ctx context.Context, streamID string) ([]Envelope, error) {
	return s.ReadStreamWith(ctx, s.pool, streamID)
}

// ReadStreamWith is ReadStream through q, e.g. a transaction that must see its own
// appends.
func (s *Store) ReadStreamWith(ctx context.Context, q Querier, streamID string) ([]Envelope, error) {
	return s.ReadStreamAfter(ctx, q, streamID, 0)
}

// ReadStreamAfter is ReadStreamWith for the events after version only: a reader that
// keeps the earlier ones reads just what was appended since.
func (s *Store) ReadStreamAfter(ctx context.Context, q Querier, streamID string, version int64) ([]Envelope, error) {
	rows, err := q.Query(ctx, streamAfter, streamID, version)
	if err != nil {
		return nil, fmt.Errorf("read stream %s: %w", streamID, err)
	}
	envs, err := s.scanEnvelopes(ctx, q, rows, 0)
	if err != nil {
		return nil, fmt.Errorf("read stream %s: %w", streamID, err)
	}
	return envs, nil
}

const streamAfter = `SELECT ` + envelopeColumns + ` FROM ` + eventsTable + `
	WHERE stream_id = $1 AND stream_version > $2 ORDER BY stream_version`

// StreamRead is ReadStreamAfter sent in a batch of the caller's, so that it shares a
// round trip with the batch's other queries.
type StreamRead struct {
	store  *Store
	stream string
	sealed []Envelope
	err    error
	read   bool
}

// QueueStreamRead queues in b the read of stream's events after version; once b's
// results are read, the StreamRead's Envelopes returns them.
func (s *Store) QueueStreamRead(b *pgx.Batch, streamID string, version int64) *StreamRead {
	r := &StreamRead{store: s, stream: streamID}
	b.Queue(streamAfter, streamID, version).Query(func(rows pgx.Rows) error {
		r.sealed, r.err = scanSealed(rows, 0, s.codec)
		r.read = true
		return r.err
	})
	return r
}

// Envelopes returns the events the read got, their personal fields decrypted (a key
// the store does not hold yet is read from the pool).
func (r *StreamRead) Envelopes(ctx context.Context) ([]Envelope, error) {
	if !r.read {
		return nil, fmt.Errorf("read stream %s: its batch was not read", r.stream)
	}
	if r.err == nil {
		r.err = r.store.revealAll(ctx, r.store.pool, r.sealed)
	}
	if r.err != nil {
		return nil, fmt.Errorf("read stream %s: %w", r.stream, r.err)
	}
	return r.sealed, nil
}

// ReadStreamPage returns up to limit events of one stream after version, in version
// order, and the stream's version, 0 for a stream with no event.
func (s *Store) ReadStreamPage(ctx context.Context, streamID string, after int64, limit int) ([]Envelope, int64, error) {
	var version int64
	if err := s.pool.QueryRow(ctx, `SELECT COALESCE(max(stream_version), 0) FROM `+eventsTable+`
		WHERE stream_id = $1`, streamID).Scan(&version); err != nil {
		return nil, 0, fmt.Errorf("read stream %s: %w", streamID, err)
	}
	rows, err := s.pool.Query(ctx, `SELECT `+envelopeColumns+` FROM `+eventsTable+`
		WHERE stream_id = $1 AND stream_version > $2 ORDER BY stream_version LIMIT $3`, streamID, after, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("read stream %s: %w", streamID, err)
	}
	envs, err := s.scanEnvelopes(ctx, s.pool, rows, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("read stream %s: %w", streamID, err)
	}
	return envs, version, nil
}

// ReadAll returns up to limit events after the position, in log order. It never reads
// past the oldest transaction that may still commit, so a reader that pages on from the
// last position it got never skips an event, whatever order writers commit in.
func (s *Store) ReadAll(ctx context.Context, after Position, limit int) ([]Envelope, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("%w: page size %d", ErrInvalidEvent, limit)
	}
	envs := make([]Envelope, 0, limit)
	_, err := s.ScanAll(ctx, after, limit, func(e *StoredEvent) error {
		env, err := e.envelope()
		if err != nil {
			return fmt.Errorf("read after %s: %w", after, err)
		}
		envs = append(envs, env)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return envs, nil
}

// ReadStreamsBetween returns up to limit events of the given streams that lie after
// after and at or before upTo, in log order: what a reader of a few streams missed
// between two positions. upTo must be a position page readers could see (ReadAll's or
// Head's), so that no older transaction can still add an event below it.
func (s *Store) ReadStreamsBetween(ctx context.Context, streams []string, after, upTo Position, limit int) ([]Envelope, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("%w: page size %d", ErrInvalidEvent, limit)
	}
	rows, err := s.pool.Query(ctx, `SELECT `+envelopeColumns+` FROM `+eventsTable+`
		WHERE stream_id = ANY($1)
			AND (transaction_id, "offset") > ($2::text::xid8, $3)
			AND (transaction_id, "offset") <= ($4::text::xid8, $5)
		ORDER BY transaction_id, "offset"
		LIMIT $6`, streams, strconv.FormatUint(after.TxID, 10), after.Offset,
		strconv.FormatUint(upTo.TxID, 10), upTo.Offset, limit)
	if err != nil {
		return nil, fmt.Errorf("read %d streams after %s: %w", len(streams), after, err)
	}
	envs, err := s.scanEnvelopes(ctx, s.pool, rows, 0)
	if err != nil {
		return nil, fmt.Errorf("read %d streams after %s: %w", len(streams), after, err)
	}
	return envs, nil
}

// Head is the position of the last event readers may see now.
func (s *Store) Head(ctx context.Context) (Position, error) {
	return s.position(ctx, `SELECT transaction_id, "offset" FROM `+eventsTable+`
		WHERE transaction_id < pg_snapshot_xmin(pg_current_snapshot())
		ORDER BY transaction_id DESC, "offset" DESC LIMIT 1`)
}

// scanEnvelopes reads rows of envelopeColumns, which q returned; the envelopes it
// returns have their personal fields decrypted, once the rows are closed: a key lookup
// then takes the connection that read them, never a second one.
func (s *Store) scanEnvelopes(ctx context.Context, q Querier, rows pgx.Rows, capacity int) ([]Envelope, error) {
	envs, err := scanSealed(rows, capacity, s.codec)
	if err != nil {
		return nil, err
	}
	return envs, s.revealAll(ctx, q, envs)
}

// revealAll decrypts the personal fields of envs in place, reading missing keys
// through q.
func (s *Store) revealAll(ctx context.Context, q Querier, envs []Envelope) error {
	for i := range envs {
		var err error
		if envs[i].Payload, err = s.reveal(ctx, q, []byte(envs[i].EventID), envs[i].Payload, nil); err != nil {
			return err
		}
	}
	return nil
}

// scanSealed reads rows of envelopeColumns as they are stored.
func scanSealed(rows pgx.Rows, capacity int, codec *Codec) ([]Envelope, error) {
	defer rows.Close()
	envs := make([]Envelope, 0, capacity)
	for rows.Next() {
		var (
			env      Envelope
			txID     wsql.XID8
			payload  []byte
			metadata []byte
			stream   *string
			version  *int64
			typ      *string
		)
		if err := rows.Scan(&txID, &env.Position.Offset, &env.EventID, &payload, &metadata, &stream, &version, &typ, &env.RecordedAt); err != nil {
			return nil, err
		}
		env.Position.TxID = uint64(txID)
		env.RecordedAt = env.RecordedAt.UTC()
		var md storedMetadata
		if fast := (storedBytes{}); metadataFields(metadata, fast.set) {
			md = fast.strings()
		} else if err := json.Unmarshal(metadata, &md); err != nil {
			return nil, fmt.Errorf("%w: metadata of %s: %v", ErrInvalidEvent, env.EventID, err)
		}
		if err := env.readMetadata(md); err != nil {
			return nil, fmt.Errorf("event %s: %w", env.EventID, err)
		}
		if stream == nil || version == nil || typ == nil || *stream != env.StreamID || *version != env.StreamVersion || *typ != env.EventType {
			return nil, fmt.Errorf("%w: columns of %s disagree with its metadata", ErrInvalidEvent, env.EventID)
		}
		if !codec.Known(env.EventType) {
			return nil, fmt.Errorf("event %s of type %q: %w", env.EventID, env.EventType, ErrUnknownEventType)
		}
		env.Payload = payload
		envs = append(envs, env)
	}
	return envs, rows.Err()
}

// Decode returns the event of env as its registered Go type, upcast to the current
// schema version, with its personal fields decrypted (or erased).
func (s *Store) Decode(env Envelope) (any, error) {
	payload := env.Payload
	if Sealed(payload) {
		ctx, cancel := context.WithTimeout(context.Background(), revealTimeout)
		defer cancel()
		var err error
		if payload, err = s.reveal(ctx, s.pool, []byte(env.EventID), payload, nil); err != nil {
			return nil, err
		}
	}
	return s.codec.Decode(env.EventType, env.SchemaVersion, payload)
}

// LastCommitted is the position of the newest committed event, whether or not page
// readers may see it yet (an older transaction still open hides it from them).
func (s *Store) LastCommitted(ctx context.Context) (Position, error) {
	return s.position(ctx, `SELECT transaction_id, "offset" FROM `+eventsTable+`
		ORDER BY transaction_id DESC, "offset" DESC LIMIT 1`)
}

// GroupPosition is the position up to which a consumer group has consumed the log; the
// zero position when it has not started.
func (s *Store) GroupPosition(ctx context.Context, group string) (Position, error) {
	return s.position(ctx, `SELECT last_processed_transaction_id, coalesce(offset_acked, 0) FROM `+offsetsTable+`
		WHERE consumer_group = $1`, group)
}

func (s *Store) position(ctx context.Context, query string, args ...any) (Position, error) {
	var txID wsql.XID8
	var offset int64
	err := s.pool.QueryRow(ctx, query, args...).Scan(&txID, &offset)
	if errors.Is(err, pgx.ErrNoRows) {
		return Position{}, nil
	}
	if err != nil {
		return Position{}, fmt.Errorf("read a position: %w", err)
	}
	return Position{TxID: uint64(txID), Offset: offset}, nil
}

// Sequence is the number of events at or before p in the log order, so the n-th event
// of the log has sequence n: one increasing integer per position that every replay
// gives the same, as the order of what readers see never changes. p should be a
// position readers have seen (a cursor the log handed out).
func (s *Store) Sequence(ctx context.Context, p Position) (int64, error) {
	if p == (Position{}) {
		return 0, nil
	}
	var n int64
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM `+eventsTable+`
		WHERE (transaction_id, "offset") <= ($1::text::xid8, $2)`, strconv.FormatUint(p.TxID, 10), p.Offset).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("sequence of %s: %w", p, err)
	}
	return n, nil
}

// CountEvents counts the committed events of the given types, or every one when none is
// given, whether or not page readers may see them yet.
func (s *Store) CountEvents(ctx context.Context, eventTypes ...string) (int64, error) {
	var n int64
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM `+eventsTable+`
		WHERE coalesce(cardinality($1::text[]), 0) = 0 OR event_type = ANY($1)`, eventTypes).Scan(&n); err != nil {
		return 0, fmt.Errorf("count events: %w", err)
	}
	return n, nil
}

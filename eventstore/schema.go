package eventstore

import (
	stdsql "database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
)

// Topic is the one watermill topic of the engine: one table holds every event in one
// global order, so the stream uniqueness constraint covers every stream.
const Topic = "events"

// defaultBatchSize is the subscriber's batch when none is set, as in watermill-sql.
const defaultBatchSize = 100

// SchemaAdapter is watermill-sql's Postgres schema with the stream columns: it writes
// stream_id, stream_version and event_type out of the message metadata, checks the
// expected version inside the insert itself, and selects with a keyset row comparison
// that walks the primary key instead of scanning the backlog.
type SchemaAdapter struct {
	wsql.DefaultPostgreSQLSchema
	// BatchSize is how many events a subscriber reads per transaction (default 100).
	BatchSize int
	// Types, when set, are the event types the subscriber delivers: of a batch's other
	// events only the last leaves the database, so the group's offset moves past them.
	Types []string
}

// SchemaInitializingQueries creates a table of the same shape as the migrated
// watermill_events; the engine's own table comes from migrations, this serves other
// topics (the conformance suite).
func (s SchemaAdapter) SchemaInitializingQueries(params wsql.SchemaInitializingQueriesParams) ([]wsql.Query, error) {
	table := s.MessagesTable(params.Topic)
	name := strings.Trim(table, `"`)
	return []wsql.Query{{Query: `
		CREATE TABLE IF NOT EXISTS ` + table + ` (
			"offset" BIGSERIAL,
			uuid VARCHAR(36) NOT NULL,
			created_at TIMESTAMPTZ NOT NULL DEFAULT statement_timestamp(),
			payload ` + s.PayloadColumnType(params.Topic) + ` DEFAULT NULL,
			metadata JSON DEFAULT NULL,
			transaction_id xid8 NOT NULL,
			stream_id TEXT,
			stream_version BIGINT,
			event_type TEXT,
			PRIMARY KEY (transaction_id, "offset"),
			CONSTRAINT "` + name + `_stream_version_key" UNIQUE (stream_id, stream_version),
			CONSTRAINT "` + name + `_stream_check" CHECK ((stream_id IS NULL) = (stream_version IS NULL))
		)`}}, nil
}

// InsertQuery writes all messages in one statement; the events of one stream must be
// consecutive and in version order (Append builds them so). A message's stream_version is the
// version it will have; the first message of each stream in the batch carries the
// expected-version check: its version is taken from the row before it, so a stream that
// has moved past the expectation hits the unique constraint, and one that has not
// reached it yields NULL and fails the check constraint. Both become ErrConcurrency in Append. RETURNING gives Append the
// position of what it wrote without another round trip.
func (s SchemaAdapter) InsertQuery(params wsql.InsertQueryParams) (wsql.Query, error) {
	table := s.MessagesTable(params.Topic)
	var b strings.Builder
	b.WriteString(`INSERT INTO ` + table + ` (uuid, payload, metadata, transaction_id, stream_id, stream_version, event_type) VALUES `)
	args := make([]any, 0, len(params.Msgs)*6)
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	// JSON goes as text so that pgx's simple protocol works too; BYTEA must stay bytes.
	binaryPayload := strings.EqualFold(s.PayloadColumnType(params.Topic), "BYTEA")
	prevStream, prevVersion := "", int64(0)
	for i, msg := range params.Msgs {
		metadata, err := json.Marshal(msg.Metadata)
		if err != nil {
			return wsql.Query{}, fmt.Errorf("marshal metadata of message %s: %w", msg.UUID, err)
		}
		if i > 0 {
			b.WriteByte(',')
		}
		var payload any = string(msg.Payload)
		if binaryPayload {
			payload = []byte(msg.Payload)
		}
		b.WriteString("(" + arg(msg.UUID) + "," + arg(payload) + "," + arg(string(metadata)) + ",pg_current_xact_id(),")

		stream := msg.Metadata.Get(MetaStreamID)
		if stream == "" {
			// A plain watermill message outside any stream.
			b.WriteString("NULL,NULL,NULL)")
			continue
		}
		version, err := strconv.ParseInt(msg.Metadata.Get(MetaStreamVersion), 10, 64)
		if err != nil || version < 1 {
			return wsql.Query{}, fmt.Errorf("%w: message %s has stream version %q", ErrInvalidEvent, msg.UUID, msg.Metadata.Get(MetaStreamVersion))
		}
		streamArg := arg(stream)
		switch {
		case version == 1 || (stream == prevStream && version == prevVersion+1):
			b.WriteString(streamArg + "," + arg(version))
		default:
			b.WriteString(streamArg + ",(SELECT e.stream_version + 1 FROM " + table + " e WHERE e.stream_id = " + streamArg +
				" AND e.stream_version = " + arg(version-1) + ")")
		}
		b.WriteString("," + arg(msg.Metadata.Get(MetaEventType)) + ")")
		prevStream, prevVersion = stream, version
	}
	b.WriteString(` RETURNING transaction_id, "offset"`)
	return wsql.Query{Query: b.String(), Args: args}, nil
}

// SelectQuery reads the next batch after the group's last acked position. The position
// is written as scalar subqueries so the planner turns them into parameters of an index
// condition on the primary key; rows of transactions that may still commit before
// others are invisible, so no event is ever skipped. With Types, the batch is read the
// same and filtered on its way out: its last row always goes, to move the offset.
func (s SchemaAdapter) SelectQuery(params wsql.SelectQueryParams) (wsql.Query, error) {
	next, err := params.OffsetsAdapter.NextOffsetQuery(wsql.NextOffsetQueryParams{
		Topic:         params.Topic,
		ConsumerGroup: params.ConsumerGroup,
	})
	if err != nil {
		return wsql.Query{}, err
	}
	batch := s.BatchSize
	if batch <= 0 {
		batch = defaultBatchSize
	}
	columns := `m."offset", m.transaction_id, m.uuid, m.payload, m.metadata, m.created_at`
	if len(s.Types) > 0 {
		columns += `, m.event_type`
	}
	rows := `SELECT ` + columns + `
		FROM ` + s.MessagesTable(params.Topic) + ` m
		WHERE (m.transaction_id, m."offset") > (
				(SELECT last_processed_transaction_id FROM last_processed),
				(SELECT offset_acked FROM last_processed))
			AND m.transaction_id < pg_snapshot_xmin(pg_current_snapshot())
		ORDER BY m.transaction_id, m."offset"
		LIMIT ` + strconv.Itoa(batch)
	if len(s.Types) == 0 {
		return wsql.Query{Query: `WITH last_processed AS (` + next.Query + `) ` + rows, Args: next.Args}, nil
	}
	query := `WITH last_processed AS (` + next.Query + `)
		SELECT "offset", transaction_id, uuid, payload, metadata, created_at FROM (
			SELECT b.*, row_number() OVER (ORDER BY transaction_id DESC, "offset" DESC) AS from_end
			FROM (` + rows + `) b) w
		WHERE event_type = ANY($` + strconv.Itoa(len(next.Args)+1) + `) OR from_end = 1
		ORDER BY transaction_id, "offset"`
	return wsql.Query{Query: query, Args: append(slices.Clip(next.Args), s.Types)}, nil
}

// UnmarshalMessage reads a row of SelectQuery and adds its position and its append's
// time to the message metadata, so consumers can keep checkpoints, measure lag and
// pass the envelope on whole.
func (s SchemaAdapter) UnmarshalMessage(params wsql.UnmarshalMessageParams) (wsql.Row, error) {
	var (
		r        wsql.Row
		txID     wsql.XID8
		recorded time.Time
	)
	if err := params.Row.Scan(&r.Offset, &txID, &r.UUID, &r.Payload, &r.Metadata, &recorded); err != nil {
		return wsql.Row{}, fmt.Errorf("could not scan message row: %w", err)
	}
	r.Msg = message.NewMessage(string(r.UUID), r.Payload)
	if r.Metadata != nil {
		// Every group reads every event: the metadata the append writes (a flat object
		// of plain strings) is read without encoding/json; anything else falls back to it.
		md := make(message.Metadata, 12)
		if !metadataFields(r.Metadata, func(key, value []byte) { md[string(key)] = string(value) }) {
			md = nil
			if err := json.Unmarshal(r.Metadata, &md); err != nil {
				return wsql.Row{}, fmt.Errorf("could not unmarshal metadata as JSON: %w", err)
			}
		}
		r.Msg.Metadata = md
	}
	r.ExtraData = map[string]any{"transaction_id": txID}
	r.Msg.Metadata.Set(MetaPosition, Position{TxID: uint64(txID), Offset: r.Offset}.String())
	r.Msg.Metadata.Set(MetaRecordedAt, formatTime(recorded))
	return r, nil
}

// SubscribeIsolationLevel is READ COMMITTED: a batch's select is one statement, whose
// own snapshot bounds it below pg_snapshot_xmin, so no row is skipped; and handlers
// that read streams and append in the batch's transaction (the matchmaker) must see
// what other writers committed meanwhile to retry a conflict with success.
func (s SchemaAdapter) SubscribeIsolationLevel() stdsql.IsolationLevel {
	return stdsql.LevelReadCommitted
}

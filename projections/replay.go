package projections

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/supermock/engine/domain"
	"github.com/supermock/engine/eventstore"
)

// ReplayFilter selects events of the log; zero fields select everything. Since and
// Until bound occurred_at, the time of the fact, not when it was recorded.
type ReplayFilter struct {
	After   eventstore.Position // exclusive: resume from the last position you got
	Since   time.Time           // occurred_at ≥ Since
	Until   time.Time           // occurred_at < Until
	Types   []string
	Streams []string
}

func (f ReplayFilter) match(e *eventstore.StoredEvent) (bool, error) {
	if len(f.Types) > 0 && !slices.ContainsFunc(f.Types, func(t string) bool { return t == string(e.EventType) }) {
		return false, nil
	}
	if len(f.Streams) > 0 && !slices.ContainsFunc(f.Streams, func(s string) bool { return s == string(e.StreamID) }) {
		return false, nil
	}
	if f.Since.IsZero() && f.Until.IsZero() {
		return true, nil
	}
	at, err := time.Parse(time.RFC3339Nano, string(e.OccurredAt))
	if err != nil {
		return false, fmt.Errorf("%w: occurred_at %q of %s", eventstore.ErrInvalidEvent, e.OccurredAt, e.EventID)
	}
	return (f.Since.IsZero() || !at.Before(f.Since)) && (f.Until.IsZero() || at.Before(f.Until)), nil
}

// ReplayQuery is a replay's filter as people write it, on the command line or in a
// query string.
type ReplayQuery struct {
	After, Since, Until string
	Types, Streams      []string
}

// FilterError is a filter value a replay cannot use: it names the filter, echoes the
// value and says what would do. It wraps eventstore.ErrUnknownEventType for a type
// the log does not know, and eventstore.ErrBadCursor for a cursor.
type FilterError struct {
	Field, Value, Reason string
	Err                  error
}

func (e *FilterError) Error() string { return fmt.Sprintf("%s %q: %s", e.Field, e.Value, e.Reason) }
func (e *FilterError) Unwrap() error { return e.Err }

// dateLayout is a day without a time, read as its midnight in UTC.
const dateLayout = "2006-01-02"

// Parse checks every value of the query and returns the filter; the first value that
// does not do is a *FilterError.
func (q ReplayQuery) Parse() (ReplayFilter, error) {
	var f ReplayFilter
	var err error
	if f.After, err = eventstore.ParsePosition(q.After); err != nil {
		return f, &FilterError{Field: "after", Value: q.After, Reason: "not a cursor the log handed out (<transaction id>-<offset>)", Err: err}
	}
	for _, t := range []struct {
		field, value string
		dst          *time.Time
	}{{"since", q.Since, &f.Since}, {"until", q.Until, &f.Until}} {
		if t.value == "" {
			continue
		}
		if *t.dst, err = ParseTime(t.value); err != nil {
			return f, &FilterError{Field: t.field, Value: t.value,
				Reason: "not an RFC 3339 time (2025-03-05T09:30:00Z) nor a date (2025-03-05, midnight UTC)"}
		}
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		return f, &FilterError{Field: "until", Value: q.Until, Reason: "not after since " + q.Since + ": no event can match"}
	}
	known := EventTypeNames()
	for _, t := range q.Types {
		if !slices.Contains(known, t) {
			return f, &FilterError{Field: "type", Value: t, Err: eventstore.ErrUnknownEventType,
				Reason: "unknown event type; the log knows " + strings.Join(known, ", ")}
		}
	}
	f.Types, f.Streams = q.Types, q.Streams
	return f, nil
}

// ParseTime reads a time as the filters take it: RFC 3339, or a date for its midnight
// in UTC.
func ParseTime(s string) (time.Time, error) {
	if t, err := time.Parse(dateLayout, s); err == nil {
		return t, nil
	}
	return time.Parse(time.RFC3339Nano, s)
}

// EventTypeNames are the names of every event type of the log, sorted.
func EventTypeNames() []string {
	var names []string
	for _, t := range domain.EventTypes() {
		names = append(names, t.Name)
	}
	slices.Sort(names)
	return names
}

// Replay formats.
const (
	FormatNDJSON = "ndjson"
	FormatCSV    = "csv"
)

// ErrBadFormat is returned for a format Replay does not write: ndjson and csv are its
// own; parquet is ReplayParquet's.
var ErrBadFormat = errors.New("unknown replay format")

// ReplayedEvent is one line of an NDJSON replay; a CSV replay has the same columns.
// Sequence numbers the events of the log from 1 in log order, the same in every
// replay; the events of one stream read alone have none.
type ReplayedEvent struct {
	Position      string          `json:"position"`
	Sequence      int64           `json:"sequence,omitempty"`
	EventID       string          `json:"event_id"`
	StreamID      string          `json:"stream_id"`
	StreamVersion int64           `json:"stream_version"`
	EventType     string          `json:"event_type"`
	SchemaVersion int             `json:"schema_version"`
	OccurredAt    string          `json:"occurred_at"`
	RecordedAt    string          `json:"recorded_at"`
	CorrelationID string          `json:"correlation_id"`
	CausationID   string          `json:"causation_id"`
	Actor         string          `json:"actor"`
	Payload       json.RawMessage `json:"payload"`
}

var csvHeader = []string{"position", "sequence", "event_id", "stream_id", "stream_version", "event_type", "schema_version",
	"occurred_at", "recorded_at", "correlation_id", "causation_id", "actor", "payload"}

// ReplayResult says how far a replay got: Last is the cursor to resume after.
type ReplayResult struct {
	Events int64
	Last   eventstore.Position
}

// Replay writes the events the filter selects, in log order, up to the head of the log
// as it is when the replay reaches it. The output depends only on the log, so two
// replays of the same history are byte for byte the same. It reads pages with the
// direct page reader, never through a consumer group.
func Replay(ctx context.Context, store *eventstore.Store, w io.Writer, f ReplayFilter, format string) (ReplayResult, error) {
	out := bufio.NewWriterSize(w, 1<<16)
	var write func(*eventstore.StoredEvent, int64) error
	var cw *csv.Writer
	switch format {
	case FormatNDJSON, "":
		var line []byte
		write = func(e *eventstore.StoredEvent, seq int64) error {
			line = appendNDJSON(line[:0], e, seq)
			_, err := out.Write(line)
			return err
		}
	case FormatCSV:
		cw = csv.NewWriter(out)
		if err := cw.Write(csvHeader); err != nil {
			return ReplayResult{}, err
		}
		write = func(e *eventstore.StoredEvent, seq int64) error {
			row := []string{e.Position.String(), strconv.FormatInt(seq, 10), string(e.EventID), string(e.StreamID),
				strconv.FormatInt(e.StreamVersion, 10), string(e.EventType), strconv.Itoa(e.SchemaVersion), string(e.OccurredAt),
				e.RecordedAt.Format(time.RFC3339Nano), string(e.CorrelationID), string(e.CausationID), string(e.Actor),
				string(compactPayload(e.Payload))}
			for i := range row {
				row[i] = csvCell(row[i])
			}
			return cw.Write(row)
		}
	default:
		return ReplayResult{}, fmt.Errorf("%w: %q", ErrBadFormat, format)
	}
	res, err := scanReplay(ctx, store, f, func(e *eventstore.StoredEvent, seq int64) error {
		if err := write(e, seq); err != nil {
			return fmt.Errorf("replay: %w", err)
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	if cw != nil {
		cw.Flush()
		if err := cw.Error(); err != nil {
			return res, fmt.Errorf("replay: %w", err)
		}
	}
	if err := out.Flush(); err != nil {
		return res, fmt.Errorf("replay: %w", err)
	}
	return res, nil
}

// scanReplay calls write for every event the filter selects, in log order, with its
// sequence, up to the head of the log as the scan reaches it.
func scanReplay(ctx context.Context, store *eventstore.Store, f ReplayFilter, write func(*eventstore.StoredEvent, int64) error) (ReplayResult, error) {
	// Pages large enough that the server streams while the replay writes: a page the
	// socket's buffers can take whole leaves the server idle while it is drained,
	// and a page of 5 000 read at 0.85 of one streamed SELECT, one of 20 000 at 0.95.
	// A page whose data keys are not cached is held in memory until they are read.
	const pageSize = 20000
	seq, err := store.Sequence(ctx, f.After)
	if err != nil {
		return ReplayResult{}, err
	}
	res := ReplayResult{Last: f.After}
	pos := f.After
	for {
		n, err := store.ScanAll(ctx, pos, pageSize, func(e *eventstore.StoredEvent) error {
			pos = e.Position
			seq++ // every event of the log counts, selected or not
			ok, err := f.match(e)
			if !ok || err != nil {
				return err
			}
			if err := write(e, seq); err != nil {
				return err
			}
			res.Events++
			res.Last = e.Position
			return nil
		})
		if err != nil || n < pageSize {
			return res, err
		}
	}
}

// csvCell keeps a spreadsheet from running a cell as a formula: one that starts with
// = + - @, a tab or a carriage return gets a leading apostrophe, which spreadsheets
// show as text. The log may hold such text from clients (correlation ids of older
// versions, for one).
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// Replayed is the replay form of an envelope.
func Replayed(env eventstore.Envelope) ReplayedEvent {
	return ReplayedEvent{
		Position: env.Position.String(), EventID: env.EventID, StreamID: env.StreamID,
		StreamVersion: env.StreamVersion, EventType: env.EventType, SchemaVersion: env.SchemaVersion,
		OccurredAt: env.OccurredAt.UTC().Format(time.RFC3339Nano), RecordedAt: env.RecordedAt.UTC().Format(time.RFC3339Nano),
		CorrelationID: env.CorrelationID, CausationID: env.CausationID, Actor: env.Actor, Payload: env.Payload,
	}
}

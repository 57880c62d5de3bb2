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

	"github.com/supermock/engine/eventstore"
)

// ReplayFilter selects events of the log; zero fields select everything.
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

// Replay formats.
const (
	FormatNDJSON = "ndjson"
	FormatCSV    = "csv"
)

// ErrBadFormat is returned for a replay format other than ndjson and csv.
var ErrBadFormat = errors.New("unknown replay format")

// ReplayedEvent is one line of an NDJSON replay; a CSV replay has the same columns.
type ReplayedEvent struct {
	Position      string          `json:"position"`
	EventID       string          `json:"event_id"`
	StreamID      string          `json:"stream_id"`
	StreamVersion int64           `json:"stream_version"`
	EventType     string          `json:"event_type"`
	SchemaVersion int             `json:"schema_version"`
	OccurredAt    string          `json:"occurred_at"`
	CorrelationID string          `json:"correlation_id"`
	CausationID   string          `json:"causation_id"`
	Actor         string          `json:"actor"`
	Payload       json.RawMessage `json:"payload"`
}

var csvHeader = []string{"position", "event_id", "stream_id", "stream_version", "event_type", "schema_version",
	"occurred_at", "correlation_id", "causation_id", "actor", "payload"}

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
	const pageSize = 5000
	out := bufio.NewWriterSize(w, 1<<16)
	var write func(*eventstore.StoredEvent) error
	var cw *csv.Writer
	switch format {
	case FormatNDJSON, "":
		var line []byte
		write = func(e *eventstore.StoredEvent) error {
			line = appendNDJSON(line[:0], e)
			_, err := out.Write(line)
			return err
		}
	case FormatCSV:
		cw = csv.NewWriter(out)
		if err := cw.Write(csvHeader); err != nil {
			return ReplayResult{}, err
		}
		write = func(e *eventstore.StoredEvent) error {
			row := []string{e.Position.String(), string(e.EventID), string(e.StreamID), strconv.FormatInt(e.StreamVersion, 10),
				string(e.EventType), strconv.Itoa(e.SchemaVersion), string(e.OccurredAt), string(e.CorrelationID),
				string(e.CausationID), string(e.Actor), string(compactPayload(e.Payload))}
			for i := range row {
				row[i] = csvCell(row[i])
			}
			return cw.Write(row)
		}
	default:
		return ReplayResult{}, fmt.Errorf("%w: %q", ErrBadFormat, format)
	}
	res := ReplayResult{Last: f.After}
	pos := f.After
	for {
		n, err := store.ScanAll(ctx, pos, pageSize, func(e *eventstore.StoredEvent) error {
			pos = e.Position
			ok, err := f.match(e)
			if !ok || err != nil {
				return err
			}
			if err := write(e); err != nil {
				return fmt.Errorf("replay: %w", err)
			}
			res.Events++
			res.Last = e.Position
			return nil
		})
		if err != nil {
			return res, err
		}
		if n < pageSize {
			break
		}
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
		OccurredAt: env.OccurredAt.UTC().Format(time.RFC3339Nano), CorrelationID: env.CorrelationID,
		CausationID: env.CausationID, Actor: env.Actor, Payload: env.Payload,
	}
}

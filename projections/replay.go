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

func (f ReplayFilter) match(env eventstore.Envelope) bool {
	return (f.Since.IsZero() || !env.OccurredAt.Before(f.Since)) &&
		(f.Until.IsZero() || env.OccurredAt.Before(f.Until)) &&
		(len(f.Types) == 0 || slices.Contains(f.Types, env.EventType)) &&
		(len(f.Streams) == 0 || slices.Contains(f.Streams, env.StreamID))
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
	var write func(ReplayedEvent) error
	var cw *csv.Writer
	switch format {
	case FormatNDJSON, "":
		enc := json.NewEncoder(out)
		enc.SetEscapeHTML(false)
		write = func(e ReplayedEvent) error { return enc.Encode(e) }
	case FormatCSV:
		cw = csv.NewWriter(out)
		if err := cw.Write(csvHeader); err != nil {
			return ReplayResult{}, err
		}
		write = func(e ReplayedEvent) error {
			payload, err := json.Marshal(e.Payload) // compact, as in NDJSON
			if err != nil {
				return err
			}
			return cw.Write([]string{e.Position, e.EventID, e.StreamID, strconv.FormatInt(e.StreamVersion, 10),
				e.EventType, strconv.Itoa(e.SchemaVersion), e.OccurredAt, e.CorrelationID, e.CausationID, e.Actor, string(payload)})
		}
	default:
		return ReplayResult{}, fmt.Errorf("%w: %q", ErrBadFormat, format)
	}
	res := ReplayResult{Last: f.After}
	pos := f.After
	for {
		page, err := store.ReadAll(ctx, pos, pageSize)
		if err != nil {
			return res, err
		}
		for _, env := range page {
			pos = env.Position
			if !f.match(env) {
				continue
			}
			if err := write(Replayed(env)); err != nil {
				return res, fmt.Errorf("replay: %w", err)
			}
			res.Events++
			res.Last = env.Position
		}
		if len(page) < pageSize {
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

// Replayed is the replay form of an envelope.
func Replayed(env eventstore.Envelope) ReplayedEvent {
	return ReplayedEvent{
		Position: env.Position.String(), EventID: env.EventID, StreamID: env.StreamID,
		StreamVersion: env.StreamVersion, EventType: env.EventType, SchemaVersion: env.SchemaVersion,
		OccurredAt: env.OccurredAt.UTC().Format(time.RFC3339Nano), CorrelationID: env.CorrelationID,
		CausationID: env.CausationID, Actor: env.Actor, Payload: env.Payload,
	}
}

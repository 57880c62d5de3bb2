package eventstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
)

// The metadata keys of an envelope, as stored in the message metadata.
const (
	MetaEventID       = "event_id"
	MetaStreamID      = "stream_id"
	MetaStreamVersion = "stream_version"
	MetaEventType     = "event_type"
	MetaSchemaVersion = "schema_version"
	MetaOccurredAt    = "occurred_at"
	MetaCorrelationID = "correlation_id"
	MetaCausationID   = "causation_id"
	MetaActor         = "actor"
	// MetaPosition and MetaRecordedAt are added by the readers and never stored: the
	// row's place in the log and the time of its insert (the row's created_at).
	MetaPosition   = "position"
	MetaRecordedAt = "recorded_at"
)

// ActorSystem is the actor of events that no user caused.
const ActorSystem = "system"

// ErrInvalidEvent is returned for an append or a stored row that breaks the envelope's
// rules (empty stream id, no events, missing metadata).
var ErrInvalidEvent = errors.New("invalid event")

// Envelope is one stored event with everything known about it.
type Envelope struct {
	Position      Position
	EventID       string
	StreamID      string
	StreamVersion int64
	EventType     string
	SchemaVersion int
	// OccurredAt is when the fact happened, by the clock of whoever decided it (a
	// command's clock, the matchmaker's or the expiry's now, a demo's simulated time);
	// RecordedAt is when the database inserted the row.
	OccurredAt    time.Time
	RecordedAt    time.Time
	CorrelationID string
	CausationID   string
	Actor         string
	Payload       json.RawMessage
}

// Meta is what an append says about the events it writes besides their payloads.
type Meta struct {
	CorrelationID string
	CausationID   string
	Actor         string
	// OccurredAt is the time of the fact by the deciding clock; it defaults to the time
	// of the append.
	OccurredAt time.Time
}

func (e Envelope) metadata() message.Metadata {
	return message.Metadata{
		MetaEventID:       e.EventID,
		MetaStreamID:      e.StreamID,
		MetaStreamVersion: strconv.FormatInt(e.StreamVersion, 10),
		MetaEventType:     e.EventType,
		MetaSchemaVersion: strconv.Itoa(e.SchemaVersion),
		MetaOccurredAt:    formatTime(e.OccurredAt),
		MetaCorrelationID: e.CorrelationID,
		MetaCausationID:   e.CausationID,
		MetaActor:         e.Actor,
	}
}

// Message is the envelope as a watermill message, the way the log's subscribers
// deliver it: the payload as stored, the append's metadata, the position and
// recorded_at. EnvelopeFromMessage reads it back.
func (e Envelope) Message() *message.Message {
	msg := message.NewMessage(e.EventID, message.Payload(e.Payload))
	msg.Metadata = e.metadata()
	msg.Metadata.Set(MetaPosition, e.Position.String())
	if !e.RecordedAt.IsZero() {
		msg.Metadata.Set(MetaRecordedAt, formatTime(e.RecordedAt))
	}
	return msg
}

// EnvelopeFromMessage reads an envelope out of a message delivered by a subscriber of
// the log.
func EnvelopeFromMessage(msg *message.Message) (Envelope, error) {
	md := msg.Metadata
	pos, err := ParsePosition(md.Get(MetaPosition))
	if err != nil {
		return Envelope{}, fmt.Errorf("message %s: %w", msg.UUID, err)
	}
	env := Envelope{Position: pos, EventID: msg.UUID, Payload: json.RawMessage(msg.Payload)}
	if err := env.readMetadata(storedMetadata{
		StreamID: md.Get(MetaStreamID), StreamVersion: md.Get(MetaStreamVersion), EventType: md.Get(MetaEventType),
		SchemaVersion: md.Get(MetaSchemaVersion), OccurredAt: md.Get(MetaOccurredAt), CorrelationID: md.Get(MetaCorrelationID),
		CausationID: md.Get(MetaCausationID), Actor: md.Get(MetaActor),
	}); err != nil {
		return Envelope{}, fmt.Errorf("message %s: %w", msg.UUID, err)
	}
	if recorded := md.Get(MetaRecordedAt); recorded != "" {
		if env.RecordedAt, err = time.Parse(time.RFC3339Nano, recorded); err != nil {
			return Envelope{}, fmt.Errorf("message %s: %w: recorded_at %q", msg.UUID, ErrInvalidEvent, recorded)
		}
	}
	return env, nil
}

// formatTime is the envelope's form of a time: RFC 3339 in UTC.
func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// storedMetadata is the envelope part of a row's metadata, decoded into fixed fields:
// several times cheaper than a map.
type storedMetadata struct {
	StreamID      string `json:"stream_id"`
	StreamVersion string `json:"stream_version"`
	EventType     string `json:"event_type"`
	SchemaVersion string `json:"schema_version"`
	OccurredAt    string `json:"occurred_at"`
	CorrelationID string `json:"correlation_id"`
	CausationID   string `json:"causation_id"`
	Actor         string `json:"actor"`
}

func (e *Envelope) readMetadata(md storedMetadata) error {
	e.StreamID = md.StreamID
	e.EventType = md.EventType
	if e.StreamID == "" || e.EventType == "" {
		return fmt.Errorf("%w: metadata lacks stream id or event type", ErrInvalidEvent)
	}
	var err error
	if e.StreamVersion, err = strconv.ParseInt(md.StreamVersion, 10, 64); err != nil {
		return fmt.Errorf("%w: stream version %q", ErrInvalidEvent, md.StreamVersion)
	}
	if e.SchemaVersion, err = strconv.Atoi(md.SchemaVersion); err != nil {
		return fmt.Errorf("%w: schema version %q", ErrInvalidEvent, md.SchemaVersion)
	}
	if e.OccurredAt, err = time.Parse(time.RFC3339Nano, md.OccurredAt); err != nil {
		return fmt.Errorf("%w: occurred_at %q", ErrInvalidEvent, md.OccurredAt)
	}
	e.CorrelationID = md.CorrelationID
	e.CausationID = md.CausationID
	e.Actor = md.Actor
	return nil
}

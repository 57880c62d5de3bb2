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
	// MetaPosition is added by the readers and never stored.
	MetaPosition = "position"
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
	OccurredAt    time.Time
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
	// OccurredAt defaults to the time of the append.
	OccurredAt time.Time
}

func (e Envelope) metadata() message.Metadata {
	return message.Metadata{
		MetaEventID:       e.EventID,
		MetaStreamID:      e.StreamID,
		MetaStreamVersion: strconv.FormatInt(e.StreamVersion, 10),
		MetaEventType:     e.EventType,
		MetaSchemaVersion: strconv.Itoa(e.SchemaVersion),
		MetaOccurredAt:    e.OccurredAt.UTC().Format(time.RFC3339Nano),
		MetaCorrelationID: e.CorrelationID,
		MetaCausationID:   e.CausationID,
		MetaActor:         e.Actor,
	}
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
	if err := env.readMetadata(md); err != nil {
		return Envelope{}, fmt.Errorf("message %s: %w", msg.UUID, err)
	}
	return env, nil
}

func (e *Envelope) readMetadata(md map[string]string) error {
	e.StreamID = md[MetaStreamID]
	e.EventType = md[MetaEventType]
	if e.StreamID == "" || e.EventType == "" {
		return fmt.Errorf("%w: metadata lacks stream id or event type", ErrInvalidEvent)
	}
	var err error
	if e.StreamVersion, err = strconv.ParseInt(md[MetaStreamVersion], 10, 64); err != nil {
		return fmt.Errorf("%w: stream version %q", ErrInvalidEvent, md[MetaStreamVersion])
	}
	if e.SchemaVersion, err = strconv.Atoi(md[MetaSchemaVersion]); err != nil {
		return fmt.Errorf("%w: schema version %q", ErrInvalidEvent, md[MetaSchemaVersion])
	}
	if e.OccurredAt, err = time.Parse(time.RFC3339Nano, md[MetaOccurredAt]); err != nil {
		return fmt.Errorf("%w: occurred_at %q", ErrInvalidEvent, md[MetaOccurredAt])
	}
	e.CorrelationID = md[MetaCorrelationID]
	e.CausationID = md[MetaCausationID]
	e.Actor = md[MetaActor]
	return nil
}

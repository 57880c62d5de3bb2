package http

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/supermock/engine/domain"
	"github.com/supermock/engine/internal/jsontime"
	"github.com/supermock/engine/projections"
)

// exportResponse is everything the engine holds about the caller: the events of their
// streams and of their interviews' streams, decrypted, and their rows of the read
// tables. Personal fields of other people (a partner's comment, a partner's reason for
// cancelling) read as null: they are not the caller's data.
type exportResponse struct {
	UserID     string                               `json:"user_id"`
	ExportedAt jsontime.Time                        `json:"exported_at"`
	Streams    []exportedStream                     `json:"streams"`
	Tables     map[string][]projections.ExportedRow `json:"tables"`
}

type exportedStream struct {
	StreamID string          `json:"stream_id"`
	Events   []exportedEvent `json:"events"`
}

type exportedEvent struct {
	Position      string          `json:"position"`
	StreamVersion int64           `json:"stream_version"`
	EventType     string          `json:"event_type"`
	OccurredAt    jsontime.Time   `json:"occurred_at"`
	Actor         string          `json:"actor"`
	Payload       json.RawMessage `json:"payload"`
}

// exportMe answers GET /api/me/export, after the read tables have applied the caller's
// own writes.
func (s *server) exportMe(c *fiber.Ctx) error {
	if err := s.awaitFresh(c, projections.ExportOf.Groups()); err != nil {
		return err
	}
	ctx, me := c.UserContext(), sessionOf(c)
	out := exportResponse{UserID: me.UserID.String(), ExportedAt: jsontime.Of(s.Now())}
	streams := []string{domain.UserStream(me.UserID), domain.TelegramStream(me.TelegramID)}
	for i := 0; i < len(streams); i++ {
		events, interviews, err := s.exportStream(ctx, me.UserID, streams[i])
		if err != nil {
			return err
		}
		out.Streams = append(out.Streams, exportedStream{StreamID: streams[i], Events: events})
		for _, id := range interviews {
			streams = append(streams, domain.InterviewStream(id))
		}
	}
	tables, err := projections.ExportOf.Run(ctx, s.Pool, me.UserID)
	if err != nil {
		return err
	}
	out.Tables = tables
	return c.JSON(out)
}

// exportStream decodes one stream's events for the user, and names the interviews the
// user's own stream was matched into.
func (s *server) exportStream(ctx context.Context, me uuid.UUID, stream string) ([]exportedEvent, []uuid.UUID, error) {
	envs, err := s.Store.Log().ReadStream(ctx, stream)
	if err != nil {
		return nil, nil, err
	}
	events := make([]exportedEvent, 0, len(envs))
	var interviews []uuid.UUID
	for _, env := range envs {
		decoded, err := s.Store.Log().Decode(env)
		if err != nil {
			return nil, nil, err
		}
		event, ok := decoded.(domain.Event)
		if !ok {
			return nil, nil, fmt.Errorf("event %s: %T is not a domain event", env.EventID, decoded)
		}
		if m, ok := event.(domain.MatchMade); ok && stream == domain.UserStream(me) {
			interviews = append(interviews, m.InterviewID)
		}
		payload, err := ownFields(event, me)
		if err != nil {
			return nil, nil, err
		}
		events = append(events, exportedEvent{Position: env.Position.String(), StreamVersion: env.StreamVersion,
			EventType: env.EventType, OccurredAt: jsontime.Of(env.OccurredAt), Actor: env.Actor, Payload: payload})
	}
	return events, interviews, nil
}

// ownFields is the event's JSON with the personal fields of anyone but me as null.
func ownFields(event domain.Event, me uuid.UUID) (json.RawMessage, error) {
	payload, err := json.Marshal(event)
	if err != nil {
		return nil, err
	}
	subject, fields := domain.PersonalFields(event)
	if len(fields) == 0 || subject == me {
		return payload, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(payload, &obj); err != nil {
		return nil, err
	}
	for _, f := range fields {
		if _, ok := obj[f]; ok {
			obj[f] = json.RawMessage(`null`)
		}
	}
	return json.Marshal(obj)
}

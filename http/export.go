package http

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/supermock/engine/domain"
	"github.com/supermock/engine/projections"
)

// exportResponse is everything the engine holds about the caller: the events of their
// streams and of their interviews' streams, decrypted, and their rows of the read
// tables. Personal fields of other people (a partner's comment, a partner's reason for
// cancelling) read as null: they are not the caller's data.
type exportResponse struct {
	UserID     string                       `json:"user_id"`
	ExportedAt time.Time                    `json:"exported_at"`
	Streams    []exportedStream             `json:"streams"`
	Tables     map[string][]json.RawMessage `json:"tables"`
}

type exportedStream struct {
	StreamID string          `json:"stream_id"`
	Events   []exportedEvent `json:"events"`
}

type exportedEvent struct {
	Position      string          `json:"position"`
	StreamVersion int64           `json:"stream_version"`
	EventType     string          `json:"event_type"`
	OccurredAt    time.Time       `json:"occurred_at"`
	Actor         string          `json:"actor"`
	Payload       json.RawMessage `json:"payload"`
}

// exportTables selects the caller's ($1) rows of each read table as JSON, without the
// columns that hold someone else's personal data.
var exportTables = []struct{ name, sql string }{
	{"users", `SELECT to_jsonb(t) FROM users t WHERE user_id = $1`},
	{"selected_professions", `SELECT to_jsonb(t) FROM selected_professions t WHERE user_id = $1 ORDER BY rank`},
	{"user_form_data", `SELECT to_jsonb(t) FROM user_form_data t WHERE user_id = $1`},
	{"interview_queue", `SELECT to_jsonb(t) FROM interview_queue t WHERE user_id = $1 ORDER BY joined_at, entry_id`},
	{"interviews", `SELECT CASE WHEN cancelled_by = $1 THEN to_jsonb(t) ELSE to_jsonb(t) - 'cancel_reason' END
		FROM interviews t WHERE $1 IN (candidate_id, interviewer_id) ORDER BY scheduled_at, interview_id`},
	{"interview_sessions", `SELECT to_jsonb(s) FROM interview_sessions s JOIN interviews i USING (interview_id)
		WHERE $1 IN (i.candidate_id, i.interviewer_id) ORDER BY s.scheduled_at, s.interview_id`},
	{"feedback", `SELECT CASE WHEN from_user_id = $1 THEN to_jsonb(t) ELSE to_jsonb(t) - 'comment' END
		FROM feedback t WHERE $1 IN (from_user_id, to_user_id) ORDER BY submitted_at, from_user_id`},
	{"notifications", `SELECT to_jsonb(t) FROM notifications t WHERE user_id = $1 ORDER BY sent_at, notification_id`},
}

// exportMe answers GET /api/me/export, after the read tables have applied the caller's
// own writes.
func (s *server) exportMe(c *fiber.Ctx) error {
	groups := make([]string, 0, len(projections.All()))
	for _, p := range projections.All() {
		groups = append(groups, projections.Group(p.Name()))
	}
	if err := s.awaitFresh(c, groups); err != nil {
		return err
	}
	ctx, me := c.UserContext(), sessionOf(c)
	out := exportResponse{UserID: me.UserID.String(), ExportedAt: s.Now().UTC(), Tables: map[string][]json.RawMessage{}}
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
	for _, t := range exportTables {
		rows, err := s.Pool.Query(ctx, t.sql, me.UserID)
		if err != nil {
			return fmt.Errorf("export %s: %w", t.name, err)
		}
		list := []json.RawMessage{}
		for rows.Next() {
			var row json.RawMessage
			if err := rows.Scan(&row); err != nil {
				rows.Close()
				return fmt.Errorf("export %s: %w", t.name, err)
			}
			list = append(list, row)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("export %s: %w", t.name, err)
		}
		out.Tables[t.name] = list
	}
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
			EventType: env.EventType, OccurredAt: env.OccurredAt.UTC(), Actor: env.Actor, Payload: payload})
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

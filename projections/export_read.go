package projections

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/supermock/engine/internal/jsontime"
)

// ExportedRow is one row of a read table as a user's export shows it, by column name; times
// are in the API's one format and ids in their text form.
type ExportedRow map[string]any

// exportTable selects a user's ($1) rows of one read table; drop names the column of a
// row that holds someone else's personal data, given the user.
type exportTable struct {
	name, sql string
	drop      func(r ExportedRow, user string) string
}

var exportTables = []exportTable{
	{name: "users", sql: `SELECT * FROM users WHERE user_id = $1`},
	{name: "selected_professions", sql: `SELECT * FROM selected_professions WHERE user_id = $1 ORDER BY rank`},
	{name: "user_form_data", sql: `SELECT * FROM user_form_data WHERE user_id = $1`},
	{name: "interview_queue", sql: `SELECT * FROM interview_queue WHERE user_id = $1 ORDER BY joined_at, entry_id`},
	{name: "interviews", sql: `SELECT * FROM interviews WHERE $1 IN (candidate_id, interviewer_id) ORDER BY scheduled_at, interview_id`,
		drop: func(r ExportedRow, user string) string { return unless(r["cancelled_by"] == user, "cancel_reason") }},
	{name: "interview_sessions", sql: `SELECT s.* FROM interview_sessions s JOIN interviews i USING (interview_id)
		WHERE $1 IN (i.candidate_id, i.interviewer_id) ORDER BY s.scheduled_at, s.interview_id`},
	{name: "feedback", sql: `SELECT * FROM feedback WHERE $1 IN (from_user_id, to_user_id) ORDER BY submitted_at, from_user_id`,
		drop: func(r ExportedRow, user string) string { return unless(r["from_user_id"] == user, "comment") }},
	{name: "notifications", sql: `SELECT * FROM notifications WHERE user_id = $1 ORDER BY sent_at, notification_id`},
}

func unless(own bool, column string) string {
	if own {
		return ""
	}
	return column
}

// ExportOf reads a user's rows of every read table, by table, without the columns of
// those rows that hold someone else's personal data (a partner's comment or reason).
var ExportOf = reading(exportRows, Users, SelectedProfessions, UserFormData, InterviewQueue,
	Interviews, InterviewSessions, Feedback, Notifications)

func exportRows(ctx context.Context, db DB, user uuid.UUID) (map[string][]ExportedRow, error) {
	out := make(map[string][]ExportedRow, len(exportTables))
	for _, t := range exportTables {
		rows, err := db.Query(ctx, t.sql, user)
		if err != nil {
			return nil, fmt.Errorf("export %s: %w", t.name, err)
		}
		list := []ExportedRow{}
		for rows.Next() {
			values, err := rows.Values()
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("export %s: %w", t.name, err)
			}
			r := make(ExportedRow, len(values))
			for i, f := range rows.FieldDescriptions() {
				r[f.Name] = exported(values[i])
			}
			if t.drop != nil {
				delete(r, t.drop(r, user.String()))
			}
			list = append(list, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("export %s: %w", t.name, err)
		}
		out[t.name] = list
	}
	return out, nil
}

// exported is a column's value as JSON should show it.
func exported(v any) any {
	switch v := v.(type) {
	case time.Time:
		return jsontime.Of(v)
	case [16]byte:
		return uuid.UUID(v).String()
	}
	return v
}

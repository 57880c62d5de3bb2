package projections

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/supermock/engine/domain"
	"github.com/supermock/engine/internal/jsontime"
)

// Entry is one queue entry of a user.
type Entry struct {
	ID          string        `json:"id"`
	Role        string        `json:"role" enum:"interview-role"`
	Profession  string        `json:"profession" enum:"profession"`
	Language    string        `json:"language" enum:"language"`
	WindowStart jsontime.Time `json:"window_start"`
	WindowEnd   jsontime.Time `json:"window_end"`
	Status      string        `json:"status" enum:"entry-status"`
	InterviewID *uuid.UUID    `json:"interview_id" doc:"the interview, once matched"`
	JoinedAt    jsontime.Time `json:"joined_at"`
}

// EntriesQuery asks for a user's entries, of one status or ("") all.
type EntriesQuery struct {
	UserID uuid.UUID
	Status domain.EntryStatus
}

// EntryQuery asks for one entry of a user.
type EntryQuery struct {
	UserID, EntryID uuid.UUID
}

// Entries reads a user's entries in the order they joined.
var Entries = reading(entries, InterviewQueue)

// EntryOf reads one; somebody else's or an unknown one is domain.ErrQueueEntryNotFound.
var EntryOf = reading(entryOf, InterviewQueue)

const entryColumns = `SELECT entry_id::text, role, profession, language, window_start, window_end, status,
	interview_id, joined_at FROM interview_queue`

func entries(ctx context.Context, db DB, q EntriesQuery) ([]Entry, error) {
	rows, err := db.Query(ctx, entryColumns+` WHERE user_id = $1 AND ($2 = '' OR status = $2)
		ORDER BY joined_at, position_tx, position_offset`, q.UserID, string(q.Status))
	if err != nil {
		return nil, err
	}
	list, err := pgx.CollectRows(rows, scanEntry)
	return nonNil(list), err
}

func entryOf(ctx context.Context, db DB, q EntryQuery) (Entry, error) {
	return one(ctx, db, domain.ErrQueueEntryNotFound, scanEntry,
		entryColumns+` WHERE user_id = $1 AND entry_id = $2`, q.UserID, q.EntryID)
}

func scanEntry(r pgx.CollectableRow) (Entry, error) {
	var e Entry
	err := r.Scan(&e.ID, &e.Role, &e.Profession, &e.Language, &e.WindowStart, &e.WindowEnd, &e.Status,
		&e.InterviewID, &e.JoinedAt)
	return e, err
}

// QueueStat counts waiting entries of one profession, language and role.
type QueueStat struct {
	Profession string `json:"profession" enum:"profession"`
	Language   string `json:"language" enum:"language"`
	Role       string `json:"role" enum:"interview-role"`
	Waiting    int    `json:"waiting"`
}

// StatsQuery filters the counts by profession and language ("" for any); entries
// count while an interview of Duration still fits their window at Now.
type StatsQuery struct {
	Now                  time.Time
	Duration             time.Duration
	Profession, Language string
}

// Stats counts the waiting entries that can still hold an interview.
var Stats = reading(stats, InterviewQueue)

func stats(ctx context.Context, db DB, q StatsQuery) ([]QueueStat, error) {
	rows, err := db.Query(ctx, `SELECT profession, language, role, count(*)::int
		FROM interview_queue
		WHERE status = 'waiting' AND window_end - greatest(window_start, $1) >= $2
			AND ($3 = '' OR profession = $3) AND ($4 = '' OR language = $4)
		GROUP BY profession, language, role ORDER BY profession, language, role`,
		q.Now.UTC(), q.Duration, q.Profession, q.Language)
	if err != nil {
		return nil, err
	}
	list, err := pgx.CollectRows(rows, pgx.RowToStructByPos[QueueStat])
	return nonNil(list), err
}

// Slot is an hour at which Waiting entries of the counterpart role can take an
// interview.
type Slot struct {
	Start   jsontime.Time `json:"start"`
	End     jsontime.Time `json:"end"`
	Waiting int           `json:"waiting"`
}

// SlotsQuery asks for the UTC hour starts from From to To at which an interview of
// Duration fits the window of a waiting entry of Role (the counterpart), profession and
// language, not counting the entries of Except (the asker).
type SlotsQuery struct {
	From, To   time.Time
	Duration   time.Duration
	Role       domain.InterviewRole
	Profession domain.Profession
	Language   domain.Language
	Except     uuid.UUID
}

// Slots reads those hours, with how many entries each holds.
var Slots = reading(slots, InterviewQueue)

func slots(ctx context.Context, db DB, q SlotsQuery) ([]Slot, error) {
	rows, err := db.Query(ctx, `SELECT h, count(*)::int
		FROM generate_series($1::timestamptz, $2::timestamptz, interval '1 hour') AS h
		JOIN interview_queue q ON q.window_start <= h AND q.window_end >= h + $3::interval
		WHERE q.status = 'waiting' AND q.role = $4 AND q.profession = $5 AND q.language = $6 AND q.user_id <> $7
		GROUP BY h ORDER BY h`,
		q.From, q.To, q.Duration, string(q.Role), string(q.Profession), string(q.Language), q.Except)
	if err != nil {
		return nil, err
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Slot, error) {
		var sl Slot
		err := r.Scan(&sl.Start, &sl.Waiting)
		sl.End = jsontime.Of(sl.Start.Add(q.Duration))
		return sl, err
	})
	return nonNil(list), err
}

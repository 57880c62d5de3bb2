package projections

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/supermock/engine/domain"
	"github.com/supermock/engine/internal/jsontime"
	"github.com/supermock/engine/internal/keyset"
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

// EntryOfUser is the entry as its user's aggregate holds it, in the shape the read
// table gives: what a command on the entry answers without waiting for the table.
func EntryOfUser(e domain.UserEntry) Entry {
	out := Entry{ID: e.ID.String(), Role: string(e.Role), Profession: string(e.Profession), Language: string(e.Language),
		WindowStart: jsontime.Of(e.Window.Start), WindowEnd: jsontime.Of(e.Window.End), Status: string(e.Status),
		JoinedAt: jsontime.Of(e.JoinedAt)}
	if e.InterviewID != uuid.Nil {
		out.InterviewID = &e.InterviewID
	}
	return out
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

// WaitingGroup counts the waiting entries of one profession, language and role, with
// when the oldest of them joined.
type WaitingGroup struct {
	Profession     string        `json:"profession"`
	Language       string        `json:"language"`
	Role           string        `json:"role"`
	Waiting        int           `json:"waiting"`
	OldestJoinedAt jsontime.Time `json:"oldest_joined_at"`
}

// ExpiringEntry is a waiting entry whose window can no longer hold an interview from
// ExpiresAt on.
type ExpiringEntry struct {
	Entry
	UserID    string        `json:"user_id"`
	Username  string        `json:"username"`
	ExpiresAt jsontime.Time `json:"expires_at"`
}

// WaitingQuery asks, at Now, for the waiting entries and a page of the ones that expire
// (an interview of Duration no longer fits) within Within.
type WaitingQuery struct {
	Now              time.Time
	Duration, Within time.Duration
	keyset.Page
}

// Waiting is the queue as an operator sees it.
type Waiting struct {
	Groups        []WaitingGroup  `json:"groups"`
	Expiring      []ExpiringEntry `json:"expiring"`
	ExpiringTotal int             `json:"expiring_total" doc:"how many expire in all, on every page"`
	Next          *string         `json:"next" doc:"the after of the next page of expiring; null on the last"`
}

// WaitingOf reads the waiting entries by profession, language and role, and those
// about to expire, soonest first.
var WaitingOf = reading(waiting, InterviewQueue, Users)

func waiting(ctx context.Context, db DB, q WaitingQuery) (Waiting, error) {
	var out Waiting
	rows, err := db.Query(ctx, `SELECT profession, language, role, count(*)::int, min(joined_at)
		FROM interview_queue WHERE status = 'waiting'
		GROUP BY profession, language, role ORDER BY count(*) DESC, profession, language, role`)
	if err != nil {
		return out, err
	}
	if out.Groups, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (WaitingGroup, error) {
		var g WaitingGroup
		err := r.Scan(&g.Profession, &g.Language, &g.Role, &g.Waiting, &g.OldestJoinedAt)
		return g, err
	}); err != nil {
		return out, err
	}
	at, id, after, err := keyset.Key(q.After)
	if err != nil {
		return out, err
	}
	if err := db.QueryRow(ctx, `SELECT count(*)::int FROM interview_queue q
		WHERE `+expiringWhere, q.Now.UTC(), q.Duration, q.Within).Scan(&out.ExpiringTotal); err != nil {
		return out, err
	}
	rows, err = db.Query(ctx, `SELECT q.entry_id::text, q.role, q.profession, q.language, q.window_start, q.window_end,
			q.status, q.interview_id, q.joined_at, q.user_id::text, coalesce(u.username, ''), q.window_end - $2::interval
		FROM interview_queue q LEFT JOIN users u ON u.user_id = q.user_id
		WHERE `+expiringWhere+` AND (NOT $4 OR (q.window_end, q.entry_id) > ($5, $6))
		ORDER BY q.window_end, q.entry_id LIMIT $7`, q.Now.UTC(), q.Duration, q.Within, after, at, id, q.Limit+1)
	if err != nil {
		return out, err
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ExpiringEntry, error) {
		var e ExpiringEntry
		err := r.Scan(&e.ID, &e.Role, &e.Profession, &e.Language, &e.WindowStart, &e.WindowEnd, &e.Status,
			&e.InterviewID, &e.JoinedAt, &e.UserID, &e.Username, &e.ExpiresAt)
		return e, err
	})
	out.Expiring, out.Next = keyset.Cut(list, q.Limit, func(e ExpiringEntry) (time.Time, string) { return e.WindowEnd.Time, e.ID })
	return out, err
}

// expiringWhere is a waiting entry that an interview of $2 no longer fits from before
// $1 + $3 on.
const expiringWhere = `q.status = 'waiting' AND q.window_end - $2::interval <= $1::timestamptz + $3::interval`

package projections

import (
	"context"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Page bounds a list: at most Limit rows after the cursor After ("" for the first
// page). The list answers Next, the cursor of its following page, nil on the last.
type Page struct {
	Limit int
	After string
}

// ErrBadPageCursor is an After that no list handed out.
var ErrBadPageCursor = errors.New("malformed page cursor")

// A page cursor is opaque to clients: the sort key of the last row, a time and an id.
func pageCursor(at time.Time, id string) *string {
	c := base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(at.UnixMicro(), 10) + "." + id))
	return &c
}

// pageKey reads a cursor back; ok is false for the first page.
func pageKey(cursor string) (at time.Time, id uuid.UUID, ok bool, err error) {
	if cursor == "" {
		return time.Time{}, uuid.Nil, false, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return time.Time{}, uuid.Nil, false, ErrBadPageCursor
	}
	micros, rest, found := strings.Cut(string(raw), ".")
	n, err := strconv.ParseInt(micros, 10, 64)
	if !found || err != nil {
		return time.Time{}, uuid.Nil, false, ErrBadPageCursor
	}
	if id, err = uuid.Parse(rest); err != nil {
		return time.Time{}, uuid.Nil, false, ErrBadPageCursor
	}
	return time.UnixMicro(n).UTC(), id, true, nil
}

// cut keeps a page of rows fetched with one row to spare, and names the next page.
func cut[T any](rows []T, limit int, key func(T) (time.Time, string)) ([]T, *string) {
	if len(rows) <= limit {
		return nonNil(rows), nil
	}
	rows = rows[:limit]
	return rows, pageCursor(key(rows[limit-1]))
}

// nonNil makes an empty list [] rather than null in JSON.
func nonNil[T any](list []T) []T {
	if list == nil {
		return []T{}
	}
	return list
}

// one reads the single row a query names, and notFound when there is none.
func one[T any](ctx context.Context, db DB, notFound error, scan pgx.RowToFunc[T], sql string, args ...any) (T, error) {
	rows, err := db.Query(ctx, sql, args...)
	if err != nil {
		var zero T
		return zero, err
	}
	v, err := pgx.CollectExactlyOneRow(rows, scan)
	if errors.Is(err, pgx.ErrNoRows) {
		return v, notFound
	}
	return v, err
}

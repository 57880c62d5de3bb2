// Package keyset pages lists by their sort key: a page is the rows after the key of
// the last row of the page before, so a row added or removed meanwhile never shifts
// another one into a page twice or out of every page.
package keyset

import (
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Page bounds a list: at most Limit rows after the cursor After ("" for the first
// page). The list answers Next, the cursor of its following page, nil on the last.
type Page struct {
	Limit int
	After string
}

// ErrBadCursor is an After that no list handed out.
var ErrBadCursor = errors.New("malformed page cursor")

// Cursor is opaque to clients: the sort key of the last row, a time and an id.
func Cursor(at time.Time, id string) *string {
	c := base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(at.UnixMicro(), 10) + "." + id))
	return &c
}

// Key reads a cursor back; ok is false for the first page.
func Key(cursor string) (at time.Time, id uuid.UUID, ok bool, err error) {
	if cursor == "" {
		return time.Time{}, uuid.Nil, false, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return time.Time{}, uuid.Nil, false, ErrBadCursor
	}
	micros, rest, found := strings.Cut(string(raw), ".")
	n, err := strconv.ParseInt(micros, 10, 64)
	if !found || err != nil {
		return time.Time{}, uuid.Nil, false, ErrBadCursor
	}
	if id, err = uuid.Parse(rest); err != nil {
		return time.Time{}, uuid.Nil, false, ErrBadCursor
	}
	return time.UnixMicro(n).UTC(), id, true, nil
}

// Cut keeps a page of rows fetched with one row to spare (Limit+1), and names the next
// page; an empty page is [] rather than null in JSON.
func Cut[T any](rows []T, limit int, key func(T) (time.Time, string)) ([]T, *string) {
	if len(rows) <= limit {
		if rows == nil {
			return []T{}, nil
		}
		return rows, nil
	}
	rows = rows[:limit]
	return rows, Cursor(key(rows[limit-1]))
}

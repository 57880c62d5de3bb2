// Package jsontime is the one time format of the engine's API: RFC 3339 in UTC with
// milliseconds, such as 2026-12-01T18:00:00.000Z, whatever the zone and precision of
// the time it holds.
package jsontime

import (
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
)

// Layout is the format every time of the API is written in.
const Layout = "2006-01-02T15:04:05.000Z"

// Time is a time.Time that marshals in Layout. It reads any RFC 3339 time, and scans
// from a PostgreSQL timestamptz.
type Time struct{ time.Time }

// Of holds t in UTC.
func Of(t time.Time) Time { return Time{t.UTC()} }

// OrNil is nil for the zero time, for fields that are null until something happens.
func OrNil(t time.Time) *Time {
	if t.IsZero() {
		return nil
	}
	v := Of(t)
	return &v
}

// String is t in Layout.
func (t Time) String() string { return t.UTC().Format(Layout) }

// MarshalJSON writes t in Layout.
func (t Time) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, len(Layout)+2)
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, Layout)
	return append(b, '"'), nil
}

// UnmarshalJSON reads an RFC 3339 time of any precision and offset.
func (t *Time) UnmarshalJSON(b []byte) error {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return fmt.Errorf("jsontime: %s is not an RFC 3339 string", b)
	}
	v, err := time.Parse(time.RFC3339Nano, string(b[1:len(b)-1]))
	if err != nil {
		return err
	}
	*t = Of(v)
	return nil
}

// ScanTimestamptz lets pgx scan a timestamptz column into a Time.
func (t *Time) ScanTimestamptz(v pgtype.Timestamptz) error {
	if !v.Valid {
		return fmt.Errorf("jsontime: cannot scan NULL into a Time")
	}
	*t = Of(v.Time)
	return nil
}

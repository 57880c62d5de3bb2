package domain

import "time"

// Aggregate is what the Service and the matchmaker need from a decided aggregate to
// build the append: its stream, the version it was loaded at and what it recorded.
type Aggregate interface {
	Stream() string
	Version() int64
	Changes() []Event
}

// ChangesOf turns decided aggregates into one all-or-none append. Aggregates that
// recorded nothing are left out, so their versions are not checked.
func ChangesOf(aggs ...Aggregate) []Change {
	var out []Change
	for _, a := range aggs {
		if evs := a.Changes(); len(evs) > 0 {
			out = append(out, Change{Stream: a.Stream(), Expected: a.Version(), Events: evs})
		}
	}
	return out
}

// utc is how every recorded time is normalised: UTC, no monotonic reading, and
// microseconds, the precision of Postgres timestamps, so a time read back from a read
// table equals the one in the event.
func utc(t time.Time) time.Time {
	return t.UTC().Truncate(time.Microsecond)
}

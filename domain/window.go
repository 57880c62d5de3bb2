package domain

import (
	"fmt"
	"time"
)

const (
	// DefaultInterviewDuration is used when the configuration sets none.
	DefaultInterviewDuration = 60 * time.Minute
	// MinInterviewDuration and MaxInterviewDuration bound the configured length.
	MinInterviewDuration = 15 * time.Minute
	MaxInterviewDuration = 4 * time.Hour
	// MaxBookingAhead bounds how far ahead a window may start.
	MaxBookingAhead = 14 * 24 * time.Hour
	// MaxWindowLength bounds a window counted from its effective start.
	MaxWindowLength = 24 * time.Hour
	// asapStep and slotStep are the grids interviews start on (rule 3).
	asapStep = 5 * time.Minute
	slotStep = 30 * time.Minute
)

// Window is a span of availability in UTC, [Start, End). It is plain data shared with
// the matchmaker; the rules of rule 2 are checked by NewWindow when a user joins.
type Window struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// NewWindow validates a requested window at now (rule 2). A start in the past counts
// from now, so the returned window starts at max(start, now).
func NewWindow(start, end, now time.Time, duration time.Duration) (Window, error) {
	start, end, now = start.UTC(), end.UTC(), now.UTC()
	if !end.After(start) {
		return Window{}, ErrQueueWindowInvalid
	}
	if !end.After(now) {
		return Window{}, ErrQueueWindowInPast
	}
	if start.After(now.Add(MaxBookingAhead)) {
		return Window{}, ErrQueueWindowTooFar
	}
	w := Window{Start: later(start, now), End: end}
	switch length := w.End.Sub(w.Start); {
	case length < duration:
		return Window{}, fmt.Errorf("%w: %s is less than %s", ErrQueueWindowTooShort, length, duration)
	case length > MaxWindowLength:
		return Window{}, fmt.Errorf("%w: %s", ErrQueueWindowTooLong, length)
	}
	return w, nil
}

// Overlaps is true when the half-open spans share an instant; touching ends do not.
func (w Window) Overlaps(o Window) bool {
	return w.Start.Before(o.End) && o.Start.Before(w.End)
}

// FitsFrom says whether an interview of the given duration still fits in the window
// counting from now.
func (w Window) FitsFrom(now time.Time, duration time.Duration) bool {
	return w.End.Sub(later(w.Start, now)) >= duration
}

// ExpiresAt is the last instant at which an interview still fits; any later instant
// the window is expired (rule 6). Schedulers wake just after it.
func (w Window) ExpiresAt(duration time.Duration) time.Time {
	return w.End.Add(-duration)
}

// Expired is time-driven, never age-driven: the window can no longer hold an interview.
func (w Window) Expired(now time.Time, duration time.Duration) bool {
	return !w.FitsFrom(now, duration)
}

// Slot is when an interview takes place, [Start, End).
type Slot struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// SlotFor applies rule 3 to two windows at now. The interview starts at the first
// :00 or :30 (UTC) at or after the later start; when both windows are already open it
// starts at now rounded up to a multiple of 5 minutes (now itself when on the grid).
// It must end by the earlier end. The rounded start is never before now, so a slot
// that fits also means the windows overlap by the duration counting from now.
func SlotFor(a, b Window, now time.Time, duration time.Duration) (Slot, bool) {
	now = now.UTC()
	var start time.Time
	if !a.Start.After(now) && !b.Start.After(now) {
		start = ceil(now, asapStep)
	} else {
		start = ceil(later(a.Start, b.Start), slotStep)
	}
	end := start.Add(duration)
	if end.After(earlier(a.End, b.End)) {
		return Slot{}, false
	}
	return Slot{Start: start, End: end}, true
}

// ceil rounds t up to the grid of step counted from the zero time, which for steps
// dividing an hour is the UTC wall clock.
func ceil(t time.Time, step time.Duration) time.Time {
	down := t.Truncate(step)
	if down.Equal(t) {
		return down
	}
	return down.Add(step)
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

package eventstore

import (
	"errors"
	"fmt"
	"strconv"
)

// ErrConcurrency is returned when a stream's version is not the one an append expected.
// The error is a *ConcurrencyError naming the stream.
var ErrConcurrency = errors.New("concurrent modification")

type expectKind uint8

const (
	expectAny expectKind = iota
	expectNoStream
	expectExact
)

// ExpectedVersion is what an append requires of a stream's current version.
type ExpectedVersion struct {
	kind    expectKind
	version int64
}

var (
	// Any appends after whatever the stream holds.
	Any = ExpectedVersion{kind: expectAny}
	// NoStream requires that the stream has no event yet.
	NoStream = ExpectedVersion{kind: expectNoStream}
)

// Exact requires the stream to be at version v; Exact(0) is NoStream.
func Exact(v int64) ExpectedVersion {
	if v <= 0 {
		return NoStream
	}
	return ExpectedVersion{kind: expectExact, version: v}
}

// Matches reports whether a stream at version actual satisfies e.
func (e ExpectedVersion) Matches(actual int64) bool {
	switch e.kind {
	case expectNoStream:
		return actual == 0
	case expectExact:
		return actual == e.version
	default:
		return true
	}
}

func (e ExpectedVersion) String() string {
	switch e.kind {
	case expectNoStream:
		return "no stream"
	case expectExact:
		return strconv.FormatInt(e.version, 10)
	default:
		return "any"
	}
}

// ConcurrencyError says which stream did not have the expected version.
type ConcurrencyError struct {
	Stream   string
	Expected ExpectedVersion
	Actual   int64
}

func (e *ConcurrencyError) Error() string {
	return fmt.Sprintf("stream %s: expected version %s, actual %d: %v", e.Stream, e.Expected, e.Actual, ErrConcurrency)
}

// Is makes errors.Is(err, ErrConcurrency) true.
func (e *ConcurrencyError) Is(target error) bool { return target == ErrConcurrency }

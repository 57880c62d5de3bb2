package eventstore

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrBadCursor is returned for a cursor string that is not a position.
var ErrBadCursor = errors.New("malformed cursor")

// Position is a place in the global order of the log: the writing transaction's id,
// then the row's offset. The zero Position lies before every event.
type Position struct {
	TxID   uint64
	Offset int64
}

// String is the cursor form handed out by the API: "<transaction id>-<offset>".
func (p Position) String() string {
	return strconv.FormatUint(p.TxID, 10) + "-" + strconv.FormatInt(p.Offset, 10)
}

// Less reports whether p comes before q in the log.
func (p Position) Less(q Position) bool {
	if p.TxID != q.TxID {
		return p.TxID < q.TxID
	}
	return p.Offset < q.Offset
}

// ParsePosition reads a cursor made by Position.String. The empty string is the start.
func ParsePosition(s string) (Position, error) {
	if s == "" {
		return Position{}, nil
	}
	tx, off, ok := strings.Cut(s, "-")
	if !ok {
		return Position{}, fmt.Errorf("%w: %q", ErrBadCursor, s)
	}
	txID, err := strconv.ParseUint(tx, 10, 64)
	if err != nil {
		return Position{}, fmt.Errorf("%w: %q", ErrBadCursor, s)
	}
	offset, err := strconv.ParseInt(off, 10, 64)
	if err != nil || offset < 0 {
		return Position{}, fmt.Errorf("%w: %q", ErrBadCursor, s)
	}
	return Position{TxID: txID, Offset: offset}, nil
}

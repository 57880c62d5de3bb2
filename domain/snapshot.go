package domain

import (
	"context"
	"fmt"
)

// Snapshot is an aggregate folded to a version, which a store may keep between
// commands so that a load folds only the events appended after it.
type Snapshot interface {
	Version() int64
	// Advance returns a copy folded further by events, the stream's next ones, up to
	// version; the snapshot itself is left as it was, so a kept one is never changed
	// by a command.
	Advance(events []Event, version int64) Snapshot
}

// fold loads stream into an aggregate of empty's kind.
func fold[A Snapshot](ctx context.Context, store Store, stream string, empty A) (A, error) {
	snap, err := store.Fold(ctx, stream, empty)
	if err != nil {
		return empty, fmt.Errorf("load %s: %w", stream, err)
	}
	a, ok := snap.(A)
	if !ok {
		return empty, fmt.Errorf("load %s: folded into %T, not %T", stream, snap, empty)
	}
	return a, nil
}

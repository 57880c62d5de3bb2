package projections

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
)

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

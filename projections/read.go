package projections

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// DB runs the queries of a read: a pool, a connection or a transaction.
type DB interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Read is a query over read tables that names the projections whose tables it reads.
// A caller that must see a position of the log first waits for exactly those groups
// (Groups): the list lives with the query, so the two cannot drift apart.
type Read[A, R any] struct {
	groups []string
	run    func(ctx context.Context, db DB, arg A) (R, error)
}

// reading declares a read: its query and the projections it reads.
func reading[A, R any](run func(ctx context.Context, db DB, arg A) (R, error), reads ...func() Projection) Read[A, R] {
	groups := make([]string, len(reads))
	for i, p := range reads {
		groups[i] = Group(p().Name())
	}
	return Read[A, R]{groups: groups, run: run}
}

// Groups are the consumer groups of the projections the read reads.
func (r Read[A, R]) Groups() []string { return r.groups }

// Run runs the query.
func (r Read[A, R]) Run(ctx context.Context, db DB, arg A) (R, error) { return r.run(ctx, db, arg) }

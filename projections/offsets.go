package projections

import (
	"context"
	"errors"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/supermock/engine/eventstore"
)

// The position of a projection is its consumer group's row in the log's offsets table:
// the subscriber moves it in the transaction that writes the projection's rows, past
// the events the projection ignores too.

type queryRower interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// groupPosition is where a consumer group stands; zero before its first batch.
func groupPosition(ctx context.Context, db queryRower, group string) (eventstore.Position, error) {
	var tx string
	var off int64
	err := db.QueryRow(ctx, `SELECT last_processed_transaction_id::text, offset_acked
		FROM watermill_offsets_events WHERE consumer_group = $1`, group).Scan(&tx, &off)
	if errors.Is(err, pgx.ErrNoRows) {
		return eventstore.Position{}, nil
	}
	if err != nil {
		return eventstore.Position{}, err
	}
	txID, err := strconv.ParseUint(tx, 10, 64)
	return eventstore.Position{TxID: txID, Offset: off}, err
}

package eventstore

import (
	"context"
	"strconv"

	"github.com/jackc/pgx/v5"
)

const actorsTable = `log_actor_positions`

// recordActor keeps the newest position an actor appended at, in the append's own
// transaction, so that position is visible exactly when the events are. Concurrent
// appends of one actor queue on its row; the later position in the log wins.
func recordActor(ctx context.Context, tx pgx.Tx, actor string, at Position) error {
	if actor == "" || actor == ActorSystem {
		return nil
	}
	_, err := tx.Exec(ctx, `INSERT INTO `+actorsTable+` AS a (actor, transaction_id, "offset")
		VALUES ($1, $2::text::xid8, $3)
		ON CONFLICT (actor) DO UPDATE SET transaction_id = EXCLUDED.transaction_id, "offset" = EXCLUDED."offset"
		WHERE (a.transaction_id, a."offset") < (EXCLUDED.transaction_id, EXCLUDED."offset")`,
		actor, strconv.FormatUint(at.TxID, 10), at.Offset)
	return err
}

// ActorsPosition is the newest position any of the actors appended at; the zero
// Position when none of them ever appended.
func (s *Store) ActorsPosition(ctx context.Context, actors ...string) (Position, error) {
	return s.position(ctx, `SELECT transaction_id, "offset" FROM `+actorsTable+`
		WHERE actor = ANY($1) ORDER BY transaction_id DESC, "offset" DESC LIMIT 1`, actors)
}

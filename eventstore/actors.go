package eventstore

import (
	"context"

	"github.com/jackc/pgx/v5"
)

const actorsTable = `log_actor_positions`

// queueActor queues the move of actor's position to the newest event the append
// before it in b wrote, in the append's own transaction, so that position is visible
// exactly when the events are: the transaction's id and its session's last offset,
// which is the insert's newest row. Concurrent appends of one actor queue on its row;
// the later position in the log wins.
func queueActor(b *pgx.Batch, actor string) {
	if actor == "" || actor == ActorSystem {
		return
	}
	b.Queue(`INSERT INTO `+actorsTable+` AS a (actor, transaction_id, "offset")
		VALUES ($1, pg_current_xact_id(), currval('`+eventsTable+`_offset_seq'))
		ON CONFLICT (actor) DO UPDATE SET transaction_id = EXCLUDED.transaction_id, "offset" = EXCLUDED."offset"
		WHERE (a.transaction_id, a."offset") < (EXCLUDED.transaction_id, EXCLUDED."offset")`, actor)
}

// ActorsPosition is the newest position any of the actors appended at; the zero
// Position when none of them ever appended.
func (s *Store) ActorsPosition(ctx context.Context, actors ...string) (Position, error) {
	return s.position(ctx, `SELECT transaction_id, "offset" FROM `+actorsTable+`
		WHERE actor = ANY($1) ORDER BY transaction_id DESC, "offset" DESC LIMIT 1`, actors)
}

package eventstore

import (
	"context"
	"fmt"
	"strconv"

	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/jackc/pgx/v5"
)

const backfillTable = `data_key_backfill`

// Backfill is how far EncryptInPlace got.
type Backfill struct {
	Position  Position // the last event looked at
	Done      int64    // events looked at, over every run
	Encrypted int64    // events whose personal fields it encrypted
	Finished  bool
}

// EncryptInPlace encrypts the personal fields that a log written before encryption
// holds in clear. It goes through the log in order, a page per transaction that also
// moves its checkpoint, so an interrupted run resumes after the last page it
// committed; every id, position, version and metadata stays as it was, and so does
// every payload already encrypted. Events appended meanwhile are encrypted by their
// append. progress, when set, is told after each page; its error stops the run.
func (s *Store) EncryptInPlace(ctx context.Context, pageSize int, progress func(Backfill) error) (Backfill, error) {
	if s.keys == nil {
		return Backfill{}, fmt.Errorf("encrypt personal data: the store has no keyring")
	}
	if pageSize <= 0 {
		pageSize = 1000
	}
	for {
		var b Backfill
		var n int
		err := s.InTx(ctx, func(tx pgx.Tx) error {
			var err error
			if b, err = readBackfill(ctx, tx); err != nil {
				return err
			}
			if n, err = s.encryptPage(ctx, tx, &b, pageSize); err != nil {
				return err
			}
			b.Finished = n < pageSize
			_, err = tx.Exec(ctx, `UPDATE `+backfillTable+` SET transaction_id = $1::text::xid8, "offset" = $2,
				events_done = $3, events_encrypted = $4, finished_at = CASE WHEN $5 THEN now() END
				WHERE name = 'encrypt-personal-data'`,
				strconv.FormatUint(b.Position.TxID, 10), b.Position.Offset, b.Done, b.Encrypted, b.Finished)
			return err
		})
		if err != nil {
			return b, fmt.Errorf("encrypt personal data after %s: %w", b.Position, err)
		}
		if progress != nil {
			if err := progress(b); err != nil {
				return b, err
			}
		}
		if b.Finished {
			return b, nil
		}
	}
}

// readBackfill locks the checkpoint, making it on the first run: one run at a time.
func readBackfill(ctx context.Context, tx pgx.Tx) (Backfill, error) {
	var b Backfill
	var txID wsql.XID8
	batch := &pgx.Batch{}
	batch.Queue(`INSERT INTO ` + backfillTable + ` (name, transaction_id, "offset", events_done, events_encrypted)
		VALUES ('encrypt-personal-data', '0', 0, 0, 0) ON CONFLICT (name) DO NOTHING`)
	batch.Queue(`SELECT transaction_id, "offset", events_done, events_encrypted FROM ` + backfillTable + `
		WHERE name = 'encrypt-personal-data' FOR UPDATE`).QueryRow(func(row pgx.Row) error {
		return row.Scan(&txID, &b.Position.Offset, &b.Done, &b.Encrypted)
	})
	if err := tx.SendBatch(ctx, batch).Close(); err != nil {
		return Backfill{}, fmt.Errorf("read the checkpoint: %w", err)
	}
	b.Position.TxID = uint64(txID)
	return b, nil
}

type plainEvent struct {
	pos     Position
	id      string
	typ     string
	version int
	payload []byte
}

// encryptPage encrypts the events of one page after b.Position, advances b and returns
// how many events the page had.
func (s *Store) encryptPage(ctx context.Context, tx pgx.Tx, b *Backfill, pageSize int) (int, error) {
	rows, err := tx.Query(ctx, `SELECT transaction_id, "offset", uuid, event_type, metadata->>'schema_version', payload::text
		FROM `+eventsTable+` WHERE (transaction_id, "offset") > ($1::text::xid8, $2)
		ORDER BY transaction_id, "offset" LIMIT $3`, strconv.FormatUint(b.Position.TxID, 10), b.Position.Offset, pageSize)
	if err != nil {
		return 0, err
	}
	var page []plainEvent
	for rows.Next() {
		var e plainEvent
		var txID wsql.XID8
		var version, payload string
		if err := rows.Scan(&txID, &e.pos.Offset, &e.id, &e.typ, &version, &payload); err != nil {
			rows.Close()
			return 0, err
		}
		e.pos.TxID = uint64(txID)
		if e.version, err = strconv.Atoi(version); err != nil {
			rows.Close()
			return 0, fmt.Errorf("%w: schema version %q of %s", ErrInvalidEvent, version, e.id)
		}
		e.payload = []byte(payload)
		page = append(page, e)
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for _, e := range page {
		b.Position, b.Done = e.pos, b.Done+1
		if Sealed(e.payload) {
			continue
		}
		event, err := s.codec.Decode(e.typ, e.version, e.payload)
		if err != nil {
			return 0, fmt.Errorf("event %s: %w", e.id, err)
		}
		subject, fields := s.codec.personalFields(event)
		if len(fields) == 0 {
			continue
		}
		sealed, err := s.sealPayload(ctx, tx, e.id, subject, fields, e.payload)
		if err != nil {
			return 0, fmt.Errorf("event %s: %w", e.id, err)
		}
		if string(sealed) == string(e.payload) {
			continue // nothing personal was filled in
		}
		if _, err := tx.Exec(ctx, `UPDATE `+eventsTable+` SET payload = $1 WHERE transaction_id = $2::text::xid8 AND "offset" = $3`,
			string(sealed), strconv.FormatUint(e.pos.TxID, 10), e.pos.Offset); err != nil {
			return 0, err
		}
		b.Encrypted++
	}
	return len(page), nil
}

package testdb

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// ScanLog is the raw baseline of the log's read benchmarks: one streamed SELECT of every
// row in log order, with the columns the log's readers read (the insert time among
// them) scanned into raw values. It returns how many rows it read.
func ScanLog(ctx context.Context, pool *pgxpool.Pool) (int, error) {
	rows, err := pool.Query(ctx, `SELECT transaction_id, "offset", uuid, payload, metadata, stream_id, stream_version, event_type, created_at
		FROM watermill_events ORDER BY transaction_id, "offset"`)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var txID, id, payload, metadata, stream, typ []byte
	var offset, version int64
	var recorded time.Time
	n := 0
	for rows.Next() {
		if err := rows.Scan(&txID, &offset, &id, &payload, &metadata, &stream, &version, &typ, &recorded); err != nil {
			return n, err
		}
		n++
	}
	return n, rows.Err()
}

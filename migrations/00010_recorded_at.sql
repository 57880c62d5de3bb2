-- +goose Up
-- created_at is the append's time, read by the replays as recorded_at: an instant,
-- not a wall-clock reading in whatever zone the writing session had, and the insert's
-- own time rather than the start of its transaction. Rows written before are read in
-- the zone this migration runs in, which is the one they were written in unless the
-- server's TimeZone setting changed since.
ALTER TABLE watermill_events
    ALTER COLUMN created_at TYPE TIMESTAMPTZ USING created_at AT TIME ZONE current_setting('TimeZone'),
    ALTER COLUMN created_at SET DEFAULT statement_timestamp();

-- +goose Down
ALTER TABLE watermill_events
    ALTER COLUMN created_at TYPE TIMESTAMP USING created_at AT TIME ZONE current_setting('TimeZone'),
    ALTER COLUMN created_at SET DEFAULT CURRENT_TIMESTAMP;

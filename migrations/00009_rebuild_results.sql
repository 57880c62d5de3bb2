-- +goose Up
-- How each projection's last rebuild ended, so the console and any replica can show
-- its result and duration after its progress row is gone.
CREATE TABLE projection_rebuild_results (
    name         TEXT PRIMARY KEY,
    started_at   TIMESTAMPTZ NOT NULL,
    finished_at  TIMESTAMPTZ NOT NULL,
    events_done  BIGINT NOT NULL,
    error        TEXT -- NULL when it switched its tables in
);

-- +goose Down
DROP TABLE projection_rebuild_results;

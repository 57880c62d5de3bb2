-- +goose Up
-- The matchmaker's own state: the entries it saw join and not yet leave, in the log
-- order of the event that made them wait. Written in the matchmaker's consumer-group
-- transaction, with its offset and its appends.
CREATE TABLE matchmaker_waiting (
    entry_id        UUID PRIMARY KEY,
    user_id         UUID NOT NULL,
    role            TEXT NOT NULL,
    profession      TEXT NOT NULL,
    language        TEXT NOT NULL,
    window_start    TIMESTAMPTZ NOT NULL,
    window_end      TIMESTAMPTZ NOT NULL,
    position_tx     BIGINT NOT NULL,
    position_offset BIGINT NOT NULL
);
CREATE INDEX matchmaker_waiting_pool ON matchmaker_waiting (profession, language, role, position_tx, position_offset);
CREATE INDEX matchmaker_waiting_end ON matchmaker_waiting (window_end);

-- +goose Down
DROP TABLE matchmaker_waiting;

-- +goose Up
-- Answers to POST commands sent with an Idempotency-Key, so a retry gets the first
-- answer instead of running the command again. A row is claimed before the command
-- runs (status NULL while it is in flight) and completed after; answers of 5xx are
-- not kept (the row is deleted, the key free again).
CREATE TABLE idempotency_keys (
    owner          TEXT NOT NULL,        -- the user the key belongs to
    key            TEXT NOT NULL,
    request_hash   BYTEA NOT NULL,       -- SHA-256 of method, path and body
    status         INTEGER,              -- NULL while the first request is in flight
    body           BYTEA,
    event_position TEXT,                 -- the X-Event-Position of the answer
    claimed_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (owner, key)
);
CREATE INDEX idempotency_keys_claimed_idx ON idempotency_keys (claimed_at);

-- +goose Down
DROP TABLE idempotency_keys;

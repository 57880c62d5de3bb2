-- +goose Up
-- Where each actor's newest append lies in the log, written in the appending
-- transaction: a session reads its own writes on any replica by waiting for this
-- position, whatever it carries (cookie or Bearer). Appends of the system are not kept.
CREATE TABLE log_actor_positions (
    actor          TEXT PRIMARY KEY,
    transaction_id xid8 NOT NULL,
    "offset"       BIGINT NOT NULL
);

-- +goose Down
DROP TABLE log_actor_positions;

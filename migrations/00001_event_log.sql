-- +goose Up
-- The log: watermill-sql's Postgres layout plus the stream columns. Every event of the
-- system lives in this one table, so UNIQUE (stream_id, stream_version) guards every
-- stream. A row either belongs to a stream (both columns set) or to none.
CREATE TABLE watermill_events (
    "offset"        BIGSERIAL,
    uuid            VARCHAR(36) NOT NULL,
    created_at      TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    payload         JSON DEFAULT NULL,
    metadata        JSON DEFAULT NULL,
    transaction_id  xid8 NOT NULL,
    stream_id       TEXT,
    stream_version  BIGINT,
    event_type      TEXT,
    PRIMARY KEY (transaction_id, "offset"),
    CONSTRAINT watermill_events_stream_version_key UNIQUE (stream_id, stream_version),
    CONSTRAINT watermill_events_stream_check CHECK ((stream_id IS NULL) = (stream_version IS NULL))
);

CREATE TABLE watermill_offsets_events (
    consumer_group                VARCHAR(255) NOT NULL,
    offset_acked                  BIGINT,
    last_processed_transaction_id xid8 NOT NULL,
    PRIMARY KEY (consumer_group)
);

-- +goose Down
DROP TABLE watermill_offsets_events;
DROP TABLE watermill_events;

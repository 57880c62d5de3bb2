-- +goose Up
-- One data key per subject (a user), wrapped under the master key (DATA_KEY): the
-- personal fields of events are encrypted with it. Erasing a subject sets wrapped to
-- NULL and keeps the row as a tombstone, so no later append makes a new key for it.
CREATE TABLE data_keys (
    subject    TEXT PRIMARY KEY,
    wrapped    BYTEA,          -- nonce and AES-256-GCM ciphertext of the key; NULL once erased
    master_id  TEXT NOT NULL,  -- fingerprint of the master key that wrapped it
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    erased_at  TIMESTAMPTZ
);

-- Where encrypt-personal-data got to in a log written before encryption: one row,
-- written with each page it encrypts, so an interrupted run resumes there.
CREATE TABLE data_key_backfill (
    name             TEXT PRIMARY KEY,
    transaction_id   xid8 NOT NULL,
    "offset"         BIGINT NOT NULL,
    events_done      BIGINT NOT NULL,
    events_encrypted BIGINT NOT NULL,
    finished_at      TIMESTAMPTZ
);

-- +goose Down
DROP TABLE data_key_backfill;
DROP TABLE data_keys;

-- +goose Up
-- Sessions ended by logout, by token id (jti), kept until the token would have expired
-- anyway: every replica refuses such a token from the moment its row commits.
CREATE TABLE ended_sessions (
    token_id   TEXT PRIMARY KEY,
    user_id    UUID NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX ended_sessions_expires_idx ON ended_sessions (expires_at);

-- +goose Down
DROP TABLE ended_sessions;

-- +goose Up
-- Read tables: projections of the log (projections/). Each is written only by its
-- projection, in the same transaction as the projection's consumer-group offset. A
-- rebuild creates a shadow table LIKE the live one (INCLUDING ALL) and renames it in,
-- so these definitions are the only place a read table's shape is written down.
-- Times come from the events, never from now(): a rebuild yields identical rows.

CREATE TABLE users (
    user_id        UUID PRIMARY KEY,
    telegram_id    BIGINT NOT NULL UNIQUE,
    username       TEXT NOT NULL,
    first_name     TEXT NOT NULL,
    last_name      TEXT NOT NULL,
    photo_url      TEXT NOT NULL,
    role           TEXT NOT NULL,
    preferred_role TEXT NOT NULL,
    timezone       TEXT NOT NULL,
    no_show_count  INTEGER NOT NULL,
    registered_at  TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL
);

CREATE TABLE selected_professions (
    user_id     UUID NOT NULL,
    profession  TEXT NOT NULL,
    rank        SMALLINT NOT NULL, -- display order the user chose
    selected_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, profession)
);
CREATE INDEX selected_professions_profession_idx ON selected_professions (profession);

CREATE TABLE user_form_data (
    user_id      UUID PRIMARY KEY,
    profession   TEXT NOT NULL,
    country      TEXT NOT NULL,
    experience   TEXT NOT NULL,
    language     TEXT NOT NULL,
    email        TEXT,
    phone        TEXT,
    tools        JSONB NOT NULL,
    submitted_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE interview_queue (
    entry_id        UUID PRIMARY KEY,
    user_id         UUID NOT NULL,
    role            TEXT NOT NULL,
    profession      TEXT NOT NULL,
    language        TEXT NOT NULL,
    window_start    TIMESTAMPTZ NOT NULL,
    window_end      TIMESTAMPTZ NOT NULL,
    status          TEXT NOT NULL, -- waiting | matched | cancelled | expired
    interview_id    UUID,          -- while matched
    joined_at       TIMESTAMPTZ NOT NULL,
    -- The join's place in the log: the queue's fairness order (rule 4).
    position_tx     BIGINT NOT NULL,
    position_offset BIGINT NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
-- GET /api/queue: my entries.
CREATE INDEX interview_queue_user_idx ON interview_queue (user_id, joined_at);
-- GET /api/queue/stats and /api/slots: waiting entries by profession, language, role.
CREATE INDEX interview_queue_waiting_idx ON interview_queue (profession, language, role, window_start)
    WHERE status = 'waiting';

CREATE TABLE interviews (
    interview_id         UUID PRIMARY KEY,
    candidate_id         UUID NOT NULL,
    interviewer_id       UUID NOT NULL,
    candidate_entry_id   UUID NOT NULL,
    interviewer_entry_id UUID NOT NULL,
    profession           TEXT NOT NULL,
    language             TEXT NOT NULL,
    scheduled_at         TIMESTAMPTZ NOT NULL,
    duration_minutes     INTEGER NOT NULL,
    meeting_link         TEXT NOT NULL,
    status               TEXT NOT NULL, -- scheduled | in_progress | completed | cancelled | no_show
    matched_at           TIMESTAMPTZ NOT NULL,
    started_at           TIMESTAMPTZ,
    completed_at         TIMESTAMPTZ,
    cancelled_at         TIMESTAMPTZ,
    cancelled_by         UUID,
    cancel_reason        TEXT,
    absent_user_id       UUID,
    updated_at           TIMESTAMPTZ NOT NULL
);
-- GET /api/interviews: mine, as candidate or as interviewer.
CREATE INDEX interviews_candidate_idx ON interviews (candidate_id, scheduled_at);
CREATE INDEX interviews_interviewer_idx ON interviews (interviewer_id, scheduled_at);

-- What happened in the meeting itself: start, completion, a reported absence.
CREATE TABLE interview_sessions (
    interview_id        UUID PRIMARY KEY,
    scheduled_at        TIMESTAMPTZ NOT NULL,
    started_by          UUID,
    started_at          TIMESTAMPTZ,
    completed_by        UUID,
    completed_at        TIMESTAMPTZ,
    duration_seconds    INTEGER,
    no_show_reported_by UUID,
    absent_user_id      UUID,
    no_show_reported_at TIMESTAMPTZ,
    updated_at          TIMESTAMPTZ NOT NULL
);

CREATE TABLE feedback (
    interview_id UUID NOT NULL,
    from_user_id UUID NOT NULL,
    to_user_id   UUID NOT NULL,
    from_role    TEXT NOT NULL,
    rating       SMALLINT NOT NULL,
    skills       JSONB NOT NULL,
    comment      TEXT NOT NULL,
    submitted_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (interview_id, from_user_id)
);
-- Feedback a user received.
CREATE INDEX feedback_to_user_idx ON feedback (to_user_id, submitted_at);

CREATE TABLE notifications (
    notification_id UUID PRIMARY KEY,
    user_id         UUID NOT NULL,
    interview_id    UUID NOT NULL,
    kind            TEXT NOT NULL,
    title           TEXT NOT NULL,
    text            TEXT NOT NULL,
    sent_at         TIMESTAMPTZ NOT NULL,
    read_at         TIMESTAMPTZ
);
-- GET /api/notifications: my inbox, newest first; the unread badge.
CREATE INDEX notifications_user_idx ON notifications (user_id, sent_at DESC);
CREATE INDEX notifications_unread_idx ON notifications (user_id) WHERE read_at IS NULL;

-- One row per projection, written in the transaction that writes its rows. The
-- position proper is the consumer group's row in watermill_offsets_events, which the
-- subscriber moves in that same transaction (also past events the projection ignores).
CREATE TABLE projection_checkpoints (
    name            TEXT PRIMARY KEY,
    events_applied  BIGINT NOT NULL DEFAULT 0, -- events that changed (or could change) rows
    last_event_at   TIMESTAMPTZ,               -- occurred_at of the last applied event
    updated_at      TIMESTAMPTZ,               -- wall time of the last write
    rebuilt_at      TIMESTAMPTZ,
    last_error      TEXT,                      -- the last failure, cleared by the next success
    last_error_at   TIMESTAMPTZ,
    error_position  TEXT                       -- cursor of the event that failed
);

-- Progress of a running (or killed) rebuild, so any replica's status can show it.
CREATE TABLE projection_rebuilds (
    name            TEXT PRIMARY KEY,
    position        TEXT NOT NULL,
    events_done     BIGINT NOT NULL,
    events_total    BIGINT NOT NULL,
    started_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE projection_rebuilds;
DROP TABLE projection_checkpoints;
DROP TABLE notifications;
DROP TABLE feedback;
DROP TABLE interview_sessions;
DROP TABLE interviews;
DROP TABLE interview_queue;
DROP TABLE user_form_data;
DROP TABLE selected_professions;
DROP TABLE users;

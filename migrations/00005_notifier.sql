-- +goose Up
-- The notifier's own state. Its consumer group writes both tables in the transaction
-- that moves its offset; its scheduler and its senders write them in short
-- transactions of their own.

-- Interviews that still have a message to come, and when the domain says the next one
-- falls due (domain.Interview.NextNotificationAt). Rows go once nothing more is coming.
CREATE TABLE notifier_interviews (
    interview_id UUID PRIMARY KEY,
    next_due_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX notifier_interviews_due ON notifier_interviews (next_due_at);

-- The outbox: one row per message, keyed by domain.NotificationID, so a message is
-- planned once whoever plans it and however often. A sender commits 'sending' before
-- it calls Telegram: a row still 'sending' after a crash is never sent again.
--   pending  waiting for next_attempt_at (first try, or a retry after 429/5xx)
--   sending  claimed; the Telegram call is in flight (or its sender died during it)
--   sent     Telegram took it (telegram_message_id) and it is in the inbox
--   inbox    delivery is off (no TELEGRAM_TOKEN): in the inbox only
--   failed   Telegram refused it for good (403: the user blocked the bot); inbox only
--   unknown  its call never answered (crash, lost answer): not resent; inbox only
--   dropped  no longer due when its turn came (cancelled, stale, too late)
CREATE TABLE notifier_outbox (
    notification_id     UUID PRIMARY KEY,
    interview_id        UUID NOT NULL,
    user_id             UUID NOT NULL,
    kind                TEXT NOT NULL,
    due_at              TIMESTAMPTZ NOT NULL,
    status              TEXT NOT NULL DEFAULT 'pending' CHECK (status IN
                            ('pending', 'sending', 'sent', 'inbox', 'failed', 'unknown', 'dropped')),
    attempts            INT NOT NULL DEFAULT 0,
    next_attempt_at     TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    claimed_at          TIMESTAMPTZ,
    chat_id             BIGINT,
    title               TEXT,
    text                TEXT,
    telegram_message_id BIGINT,
    last_error          TEXT,
    created_at          TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    updated_at          TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX notifier_outbox_ready ON notifier_outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX notifier_outbox_sending ON notifier_outbox (claimed_at) WHERE status = 'sending';
CREATE INDEX notifier_outbox_interview ON notifier_outbox (interview_id) WHERE status = 'pending';

-- +goose Down
DROP TABLE notifier_outbox;
DROP TABLE notifier_interviews;

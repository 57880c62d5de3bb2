package notifier

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/supermock/engine/domain"
)

// job is one claimed outbox row with the message as rendered for its recipient.
type job struct {
	id, interviewID, userID uuid.UUID
	kind                    domain.NotificationKind
	attempts                int
	chatID                  int64
	msg                     message
	settled                 string // the status a settling write gave the row
}

// outcome is how a delivery ended; NotificationSent and the outbox row keep it.
type outcome struct {
	status    string // sent | inbox | failed | unknown
	messageID int64  // Telegram's, when it took the message
	reason    string // why Telegram does not have it, when it does not
}

// RunSender delivers the outbox with Config.Workers workers, and settles rows whose
// sender died mid-call, until ctx ends. A call in flight when ctx ends is finished and
// its outcome recorded before RunSender returns.
func (n *Notifier) RunSender(ctx context.Context) error {
	return n.sender.Run(ctx, func(ctx context.Context) error {
		var wg sync.WaitGroup
		for range n.cfg.Workers {
			wg.Go(func() { n.work(ctx) })
		}
		wg.Go(func() {
			for {
				if _, err := n.RecoverStale(ctx); err != nil && ctx.Err() == nil {
					n.sender.Failed(err)
					n.cfg.Logger.Error("notifier: recover interrupted deliveries", "err", err)
				}
				if sleep(ctx, n.lease()/3) != nil {
					return
				}
			}
		})
		wg.Wait()
		return ctx.Err()
	})
}

func (n *Notifier) work(ctx context.Context) {
	for n.gate.wait(ctx) == nil {
		found, err := n.SendNext(ctx)
		if err != nil && ctx.Err() == nil {
			n.sender.Failed(err)
			n.cfg.Logger.Error("notifier: send", "err", err)
		}
		if (!found || err != nil) && sleep(ctx, n.cfg.PollInterval) != nil {
			return
		}
	}
}

// SendNext handles the next ready outbox row, if any, and says whether there was one.
func (n *Notifier) SendNext(ctx context.Context) (bool, error) {
	j, found, err := n.claim(ctx)
	if err != nil || j == nil {
		return found, err
	}
	n.deliver(ctx, j)
	return true, nil
}

// claim takes the next ready row. What needs no Telegram call is settled at once (a
// message no longer due; every message while delivery is off); otherwise the row is
// committed as 'sending' before claim returns, so the call that follows is made once.
// Once begun, a claim is not cut by ctx (a commit the client gives up on may still
// land on the server, leaving a row 'sending' that no call follows): it runs under its
// own timeout, and a claim whose commit failed is put back in line.
func (n *Notifier) claim(ctx context.Context) (*job, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	claimCtx, cancel := n.bounded(ctx)
	defer cancel()
	j := &job{}
	var call bool
	err := pgx.BeginFunc(claimCtx, n.store.Pool(), func(tx pgx.Tx) error {
		var dueAt time.Time
		err := tx.QueryRow(claimCtx, `SELECT notification_id, interview_id, user_id, kind, due_at, attempts
			FROM notifier_outbox WHERE status = 'pending' AND next_attempt_at <= clock_timestamp()
			ORDER BY next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED`).
			Scan(&j.id, &j.interviewID, &j.userID, &j.kind, &dueAt, &j.attempts)
		if err != nil {
			return err
		}
		call, err = n.prepare(claimCtx, tx, j, dueAt)
		return err
	})
	// What follows a failed claim gets a timeout of its own: the claim's may be spent.
	after, cancelAfter := n.bounded(ctx)
	defer cancelAfter()
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, false, nil
	case err != nil && call:
		// Only the commit can have failed, and the server may have committed anyway.
		n.unclaim(after, j)
		return nil, true, fmt.Errorf("notification %s: claim: %w", j.id, err)
	case err != nil && j.id != uuid.Nil:
		// A row that cannot be prepared must not stay first in line for every worker.
		n.retryLater(after, j.id, j.attempts+1, n.backoff(j.attempts+1), err)
		return nil, true, fmt.Errorf("notification %s: %w", j.id, err)
	case err != nil:
		return nil, true, err
	case !call:
		settled.WithLabelValues(j.settled).Inc()
		return nil, true, nil
	}
	return j, true, nil
}

// unclaim puts a row whose claim may have committed back to 'pending', as it was: no
// call was made. The attempt count tells this claim from any later one.
func (n *Notifier) unclaim(ctx context.Context, j *job) {
	n.persist(ctx, j.id, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE notifier_outbox SET status = 'pending', attempts = $2 - 1,
			updated_at = clock_timestamp() WHERE notification_id = $1 AND status = 'sending' AND attempts = $2`,
			j.id, j.attempts)
		return err
	})
}

// bounded is ctx without its cancellation, bounded by the request timeout: for the
// writes that must not be cut halfway by a shutdown.
func (n *Notifier) bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), n.cfg.RequestTimeout)
}

// prepare decides on the claimed row inside the claim's transaction, and says whether
// a Telegram call is to follow.
func (n *Notifier) prepare(ctx context.Context, tx pgx.Tx, j *job, dueAt time.Time) (bool, error) {
	now := n.cfg.Clock.Now()
	iv, err := loadInterview(ctx, n.store.In(tx), j.interviewID)
	if err != nil {
		return false, err
	}
	// The consumer drops what a cancellation makes moot, but a scheduler may have
	// planned on an older stream: the domain has the last word, on the stream as it is.
	if !slices.ContainsFunc(iv.DueNotifications(now), func(d domain.Notification) bool { return d.ID == j.id }) {
		return false, n.drop(ctx, tx, j, "no longer due: sent, stale, or the interview moved on")
	}
	if dueAt.Before(now.Add(-n.cfg.MaxDelay)) {
		return false, n.drop(ctx, tx, j, "too late: due "+dueAt.UTC().Format(time.RFC3339))
	}
	u, err := loadUser(ctx, n.store.In(tx), j.userID)
	if err != nil {
		return false, err
	}
	if u.Erased() {
		return false, n.drop(ctx, tx, j, "the user's personal data was erased")
	}
	if j.msg, err = render(j.kind, iv, u, n.cfg.AppURL); err != nil {
		return false, err
	}
	if n.tg == nil || u.TelegramID() == 0 {
		return false, n.settle(ctx, tx, j, outcome{status: "inbox"})
	}
	_, err = tx.Exec(ctx, `UPDATE notifier_outbox SET status = 'sending', claimed_at = clock_timestamp(),
		attempts = attempts + 1, chat_id = $2, title = $3, text = $4, updated_at = clock_timestamp()
		WHERE notification_id = $1`, j.id, u.TelegramID(), j.msg.Title, j.msg.Text)
	if err != nil {
		return false, err
	}
	j.chatID, j.attempts = u.TelegramID(), j.attempts+1
	return true, nil
}

func (n *Notifier) drop(ctx context.Context, tx pgx.Tx, j *job, why string) error {
	j.settled = "dropped"
	_, err := tx.Exec(ctx, `UPDATE notifier_outbox SET status = 'dropped', last_error = $2,
		updated_at = clock_timestamp() WHERE notification_id = $1`, j.id, why)
	return err
}

// deliver makes the one Telegram call of a claimed row and records what came of it.
// Neither the call nor the record stops when ctx ends (both are bounded by the request
// timeout): an abandoned call would leave the message's fate unknown.
func (n *Notifier) deliver(ctx context.Context, j *job) {
	callCtx, cancel := n.bounded(ctx)
	messageID, err := n.tg.SendMessage(callCtx, j.chatID, j.msg.Text)
	cancel()
	answers.WithLabelValues(answerClass(err)).Inc()
	writeCtx, cancel := n.bounded(ctx)
	defer cancel()
	var refused *APIError
	switch {
	case err == nil:
		n.finish(writeCtx, j, outcome{status: "sent", messageID: messageID})
	case errors.As(err, &refused) && refused.Code == 429:
		// Telegram does not say whether its flood control is per chat or bot-wide:
		// the whole process waits, and this message goes first after the wait.
		wait := max(refused.RetryAfter, time.Second)
		n.gate.hold(wait)
		n.retryLater(writeCtx, j.id, j.attempts, wait, err)
	case errors.As(err, &refused) && refused.Code >= 500, errors.Is(err, ErrNotSent):
		// Per message: the others keep flowing while this one waits its turn.
		n.retryLater(writeCtx, j.id, j.attempts, n.backoff(j.attempts), err)
	case errors.As(err, &refused):
		// 403 (the user blocked the bot), 400 (no such chat): asking again cannot help.
		n.finish(writeCtx, j, outcome{status: "failed", reason: refused.Description})
	default:
		// The request left and no answer came: Telegram may have the message, and
		// sending it again could repeat it. Hold everything until Telegram answers.
		probing := n.gate.beginProbe()
		n.finish(writeCtx, j, outcome{status: "unknown", reason: "no answer from Telegram: " + err.Error()})
		if probing {
			n.probe(ctx)
		}
	}
	if err != nil {
		n.cfg.Logger.Warn("notifier: telegram call failed", "notification_id", j.id, "attempt", j.attempts, "err", err)
	}
}

// finish settles a row still 'sending'; one that recovery settled meanwhile is left.
func (n *Notifier) finish(ctx context.Context, j *job, o outcome) {
	err := n.persist(ctx, j.id, func(tx pgx.Tx) error {
		j.settled = ""
		var mine bool
		err := tx.QueryRow(ctx, `SELECT true FROM notifier_outbox
			WHERE notification_id = $1 AND status = 'sending' FOR UPDATE`, j.id).Scan(&mine)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		return n.settle(ctx, tx, j, o)
	})
	if err == nil && j.settled != "" {
		settled.WithLabelValues(j.settled).Inc()
	}
}

// retryLater puts a row back in line after wait.
func (n *Notifier) retryLater(ctx context.Context, id uuid.UUID, attempts int, wait time.Duration, cause error) {
	n.persist(ctx, id, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE notifier_outbox SET status = 'pending', attempts = $2,
			next_attempt_at = clock_timestamp() + $3::interval, last_error = $4, updated_at = clock_timestamp()
			WHERE notification_id = $1 AND status IN ('pending', 'sending')`, id, attempts, wait, cause.Error())
		return err
	})
}

// persist runs write in a transaction of its own, trying a few times: after a call,
// this write is what keeps the message from being sent again. It returns the last
// attempt's error.
func (n *Notifier) persist(ctx context.Context, id uuid.UUID, write func(pgx.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := n.store.Log().InTx(ctx, write)
		if err == nil {
			return nil
		}
		if attempt == 3 || sleep(ctx, time.Duration(attempt)*200*time.Millisecond) != nil {
			n.cfg.Logger.Error("notifier: outcome not recorded; the row stays as it was", "notification_id", id, "err", err)
			return err
		}
	}
}

// settle records the outcome: NotificationSent through the domain, so the message is in
// the inbox, and the row's final status, in tx.
func (n *Notifier) settle(ctx context.Context, tx pgx.Tx, j *job, o outcome) error {
	note := o.reason
	err := n.record(ctx, tx, j, o)
	if errors.Is(err, domain.ErrNotificationNotDue) {
		// The interview moved on during the call (cancelled, say): Telegram has it,
		// the inbox will not.
		note, err = "not in the inbox: the interview moved on during delivery", nil
	}
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `UPDATE notifier_outbox SET status = $2, telegram_message_id = NULLIF($3, 0),
		last_error = NULLIF($4, ''), title = $5, text = $6, updated_at = clock_timestamp()
		WHERE notification_id = $1`, j.id, o.status, o.messageID, note, j.msg.Title, j.msg.Text)
	if err == nil {
		j.settled = o.status
	}
	return err
}

// record appends the domain's NotificationSent for j. The domain decides whether it
// is recorded (it refuses a message the interview no longer calls for); the delivery
// fields, which it does not interpret, are filled in on the event it recorded.
func (n *Notifier) record(ctx context.Context, tx pgx.Tx, j *job, o outcome) error {
	store := n.store.In(tx)
	meta := domain.Meta{Actor: domain.SystemActor, CorrelationID: j.id.String()}
	for attempt := 1; ; attempt++ {
		iv, err := loadInterview(ctx, store, j.interviewID)
		if err != nil {
			return err
		}
		meta.OccurredAt = n.cfg.Clock.Now()
		if err := iv.RecordNotificationSent(j.id, j.msg.Text, meta.OccurredAt); err != nil {
			return err
		}
		changes := domain.ChangesOf(iv)
		if len(changes) == 0 {
			return nil // recorded before
		}
		for i, e := range changes[0].Events {
			if sent, ok := e.(domain.NotificationSent); ok {
				sent.Title, sent.TelegramMessageID, sent.TelegramError = j.msg.Title, o.messageID, o.reason
				changes[0].Events[i] = sent
			}
		}
		// A concurrent write to the stream (the user reading another message) only
		// means deciding again on the fresh stream; the append ran in a savepoint.
		if _, err = store.Append(ctx, meta, changes...); !errors.Is(err, domain.ErrConcurrency) || attempt == 5 {
			return err
		}
	}
}

// lease is how long a claim may last: a call is bounded by the request timeout and its
// outcome is written right after, so a row 'sending' for longer has lost its sender.
func (n *Notifier) lease() time.Duration { return 3 * n.cfg.RequestTimeout }

// RecoverStale settles the rows whose sender died during the call. Whether Telegram
// got those messages cannot be known, and sending again could repeat them: they are
// recorded 'unknown', never resent, and still reach the inbox. It says how many.
func (n *Notifier) RecoverStale(ctx context.Context) (int, error) {
	for count := 0; ; count++ {
		found := false
		err := n.store.Log().InTx(ctx, func(tx pgx.Tx) error {
			j := &job{}
			err := tx.QueryRow(ctx, `SELECT notification_id, interview_id, user_id, kind, title, text
				FROM notifier_outbox WHERE status = 'sending' AND claimed_at < clock_timestamp() - $1::interval
				LIMIT 1 FOR UPDATE SKIP LOCKED`, n.lease()).
				Scan(&j.id, &j.interviewID, &j.userID, &j.kind, &j.msg.Title, &j.msg.Text)
			if errors.Is(err, pgx.ErrNoRows) {
				return nil
			}
			if err != nil {
				return err
			}
			found = true
			return n.settle(ctx, tx, j, outcome{status: "unknown", reason: "the sender stopped during the Telegram call"})
		})
		if err != nil || !found {
			return count, err
		}
		settled.WithLabelValues("unknown").Inc()
	}
}

// backoff is the wait before the attempt after attempt: doubling from RetryBase up to
// RetryMax, each drawn from its upper half so that retries of many rows spread out.
func (n *Notifier) backoff(attempt int) time.Duration {
	d := n.cfg.RetryMax
	if attempt < 30 {
		d = min(n.cfg.RetryBase<<max(attempt-1, 0), n.cfg.RetryMax)
	}
	return d/2 + rand.N(d/2+1)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

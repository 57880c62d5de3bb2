// Package notifier tells people about their interviews through Telegram. Three parts
// share the outbox table, one row per message named by domain.NotificationID:
//
//   - a consumer of the log (group "notifier") that, after every event that changes
//     what an interview calls for, writes the messages the domain says are due into
//     the outbox and drops pending ones it no longer calls for (a cancelled
//     interview's reminders), in the transaction that moves its offset;
//   - a scheduler that does the same, driven by the clock, for interviews whose next
//     message falls due later (reminders, the feedback reminder);
//   - senders that claim rows (FOR UPDATE SKIP LOCKED, so replicas share the work),
//     commit 'sending' before calling Telegram, then append NotificationSent through
//     the domain and settle the row in one transaction.
//
// The domain (DueNotifications, NextNotificationAt, RecordNotificationSent) is the one
// place the rules live: the notifier only asks it what is due and when.
//
// No message is sent twice: a row leaves 'pending' for 'sending' in a committed
// transaction before its one sendMessage call, and a row found 'sending' is never sent
// again. What remains is one window per sender, from that commit to the commit of the
// outcome (one HTTP call, at most RequestTimeout, plus one short transaction): a crash
// in it, or an answer lost on the way back, leaves Telegram's copy unknown. Such a
// message is recorded 'unknown' and reaches the inbox, but is not retried.
package notifier

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/supermock/engine/domain"
	"github.com/supermock/engine/eventstore"
	"github.com/supermock/engine/internal/consumers"
	"github.com/supermock/engine/internal/eventlog"
)

// Group is the notifier's consumer group.
const Group = "notifier"

// Config of the notifier. Clock is required; the rest have defaults.
type Config struct {
	Token  string // TELEGRAM_TOKEN; empty turns delivery off: messages reach the inbox only
	APIURL string // TELEGRAM_API_URL; default https://api.telegram.org
	AppURL string // FRONTEND_URL, linked from the feedback messages; optional
	Clock  domain.Clock
	Logger *slog.Logger

	Workers        int           // concurrent senders per process; default 2
	PollInterval   time.Duration // a sender's wait when the outbox has nothing ready; default 500 ms
	PlanInterval   time.Duration // the scheduler's tick; default 5 s
	RequestTimeout time.Duration // one Telegram call; default 10 s
	RetryBase      time.Duration // first wait after a 5xx or an unsent request; default 1 s
	RetryMax       time.Duration // the longest such wait; default 5 min
	// MaxDelay drops a message due longer ago than this instead of sending it: a
	// cancellation notice from last month helps nobody. Default 48 h.
	MaxDelay time.Duration
}

func (c *Config) setDefaults() {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.APIURL == "" {
		c.APIURL = "https://api.telegram.org"
	}
	setDefault(&c.PollInterval, 500*time.Millisecond)
	setDefault(&c.PlanInterval, 5*time.Second)
	setDefault(&c.RequestTimeout, 10*time.Second)
	setDefault(&c.RetryBase, time.Second)
	setDefault(&c.RetryMax, 5*time.Minute)
	setDefault(&c.MaxDelay, 48*time.Hour)
	if c.Workers <= 0 {
		c.Workers = 2
	}
}

// Validate checks a Config after its defaults are set.
func (c Config) Validate() error {
	if c.Clock == nil {
		return errors.New("notifier: a clock is required")
	}
	return nil
}

func setDefault(d *time.Duration, def time.Duration) {
	if *d <= 0 {
		*d = def
	}
}

// Notifier delivers interview notifications.
type Notifier struct {
	store *eventlog.Store
	cfg   Config
	tg    *Telegram // nil: delivery is off
	gate  gate
	// scheduler and sender record themselves on a board when Report was called.
	scheduler, sender *consumers.Loop
}

// New returns a notifier over store.
func New(store *eventlog.Store, cfg Config) (*Notifier, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	n := &Notifier{store: store, cfg: cfg}
	if cfg.Token != "" {
		n.tg = NewTelegram(cfg.APIURL, cfg.Token, &http.Client{Timeout: cfg.RequestTimeout})
	}
	return n, nil
}

// Run runs the consumer, the scheduler and the senders until ctx ends or one of them
// fails for good.
func (n *Notifier) Run(ctx context.Context) error {
	parts := []func(context.Context) error{n.RunConsumer, n.RunScheduler, n.RunSender}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, len(parts))
	for _, run := range parts {
		go func() { errs <- run(runCtx) }()
	}
	var first error
	for range parts {
		if err := <-errs; err != nil && runCtx.Err() == nil {
			first = err
			cancel()
		}
	}
	if first != nil {
		return first
	}
	return ctx.Err()
}

// RunConsumer consumes the log until ctx ends.
func (n *Notifier) RunConsumer(ctx context.Context) error {
	return n.store.Log().Consume(ctx, eventstore.SubscriberConfig{
		// Messages may take a tenth of a second; a small batch keeps the group's
		// transaction, which holds every other group back, short.
		ConsumerGroup: Group, PollInterval: 100 * time.Millisecond, BatchSize: 20,
		// Most of the log: reading it would only cost time.
		Types: planned,
		Wants: func(env eventstore.Envelope) bool { return strings.HasPrefix(env.StreamID, interviewStreams) },
	}, n.handle, func(env eventstore.Envelope, err error) {
		n.cfg.Logger.Error("notifier: event not handled, it will be retried", "event_id", env.EventID, "type", env.EventType, "err", err)
	})
}

// interviewStreams is the prefix of the streams whose events change what is due.
var interviewStreams = strings.TrimSuffix(domain.InterviewStream(uuid.Nil), uuid.Nil.String())

// planned are the types of the events that change what is due; NotificationSent and
// NotificationRead change nothing still to come.
var planned = []string{
	domain.InterviewScheduled{}.EventType(), domain.InterviewStarted{}.EventType(), domain.InterviewCompleted{}.EventType(),
	domain.InterviewCancelled{}.EventType(), domain.NoShowReported{}.EventType(), domain.FeedbackSubmitted{}.EventType(),
}

func (n *Notifier) handle(ctx context.Context, tx pgx.Tx, env eventstore.Envelope) error {
	decoded, err := n.store.Log().Decode(env)
	if err != nil {
		return err
	}
	var id uuid.UUID
	switch e := decoded.(type) {
	case domain.InterviewScheduled:
		id = e.InterviewID
	case domain.InterviewStarted:
		id = e.InterviewID
	case domain.InterviewCompleted:
		id = e.InterviewID
	case domain.InterviewCancelled:
		id = e.InterviewID
	case domain.NoShowReported:
		id = e.InterviewID
	case domain.FeedbackSubmitted:
		id = e.InterviewID
	default:
		return nil // not planned
	}
	return n.plan(ctx, tx, id)
}

// Report puts the notifier's three parts on board: its consumer group, the scheduler
// (behind by the interviews whose next message is due and not planned) and the sender
// (behind by the messages ready and not sent). Call it before Run.
func (n *Notifier) Report(board *consumers.Board) {
	board.Group(Group)
	n.scheduler = board.Loop("notifier-scheduler", func(ctx context.Context) (int64, float64, error) {
		return consumers.ScanBacklog(n.store.Pool().QueryRow(ctx, `SELECT count(*), EXTRACT(EPOCH FROM $1::timestamptz - min(next_due_at))
			FROM notifier_interviews WHERE next_due_at <= $1`, n.cfg.Clock.Now()))
	})
	n.sender = board.Loop("notifier-sender", func(ctx context.Context) (int64, float64, error) {
		return consumers.ScanBacklog(n.store.Pool().QueryRow(ctx, `SELECT count(*), EXTRACT(EPOCH FROM clock_timestamp() - min(next_attempt_at))
			FROM notifier_outbox WHERE status = 'pending' AND next_attempt_at <= clock_timestamp()`))
	})
}

// RunScheduler plans the messages that fall due with time, every PlanInterval.
func (n *Notifier) RunScheduler(ctx context.Context) error {
	return n.scheduler.Run(ctx, func(ctx context.Context) error {
		ticker := time.NewTicker(n.cfg.PlanInterval)
		defer ticker.Stop()
		for {
			if _, err := n.PlanDue(ctx); err != nil && ctx.Err() == nil {
				n.scheduler.Failed(err)
				n.cfg.Logger.Error("notifier: plan due messages", "err", err)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-ticker.C:
			}
		}
	})
}

// PlanDue plans every interview whose next message is due by now and says how many it
// planned. Running it twice, or in two replicas at once, plans each message once.
func (n *Notifier) PlanDue(ctx context.Context) (int, error) {
	rows, err := n.store.Pool().Query(ctx, `SELECT interview_id FROM notifier_interviews
		WHERE next_due_at <= $1 ORDER BY next_due_at LIMIT 500`, n.cfg.Clock.Now())
	if err != nil {
		return 0, fmt.Errorf("due interviews: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return 0, fmt.Errorf("due interviews: %w", err)
	}
	for i, id := range ids {
		if err := pgx.BeginFunc(ctx, n.store.Pool(), func(tx pgx.Tx) error { return n.plan(ctx, tx, id) }); err != nil {
			return i, fmt.Errorf("plan interview %s: %w", id, err)
		}
	}
	return len(ids), nil
}

// plan writes into the outbox what the interview calls for now, drops pending rows it
// no longer calls for, and notes when its next message falls due.
func (n *Notifier) plan(ctx context.Context, tx pgx.Tx, id uuid.UUID) error {
	// One planner per interview at a time (the consumer, or a scheduler of any replica),
	// each loading the stream after the previous one committed: a plan made on a stream
	// read before a cancellation cannot land after the cancellation's plan.
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('notifier:' || $1::text, 0))`, id); err != nil {
		return err
	}
	iv, err := loadInterview(ctx, n.store.In(tx), id)
	if err != nil {
		return err
	}
	now := n.cfg.Clock.Now()
	due := iv.DueNotifications(now)
	ids, users, kinds, dueAt := make([]uuid.UUID, len(due)), make([]uuid.UUID, len(due)), make([]string, len(due)), make([]time.Time, len(due))
	for i, d := range due {
		ids[i], users[i], kinds[i], dueAt[i] = d.ID, d.UserID, string(d.Kind), d.DueAt
	}
	if _, err := tx.Exec(ctx, `INSERT INTO notifier_outbox (notification_id, interview_id, user_id, kind, due_at)
		SELECT d.id, $2, d.user_id, d.kind, d.due_at
		FROM unnest($1::uuid[], $3::uuid[], $4::text[], $5::timestamptz[]) AS d(id, user_id, kind, due_at)
		ON CONFLICT (notification_id) DO NOTHING`, ids, id, users, kinds, dueAt); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE notifier_outbox SET status = 'dropped', updated_at = clock_timestamp(),
			last_error = 'no longer due: the interview moved on'
		WHERE interview_id = $1 AND status = 'pending' AND notification_id <> ALL($2)`, id, ids); err != nil {
		return fmt.Errorf("drop stale messages: %w", err)
	}
	if next, ok := iv.NextNotificationAt(now); ok {
		_, err = tx.Exec(ctx, `INSERT INTO notifier_interviews (interview_id, next_due_at) VALUES ($1, $2)
			ON CONFLICT (interview_id) DO UPDATE SET next_due_at = EXCLUDED.next_due_at`, id, next)
	} else {
		_, err = tx.Exec(ctx, `DELETE FROM notifier_interviews WHERE interview_id = $1`, id)
	}
	return err
}

func loadInterview(ctx context.Context, store domain.Store, id uuid.UUID) (*domain.Interview, error) {
	return domain.FoldInterview(ctx, store, id)
}

func loadUser(ctx context.Context, store domain.Store, id uuid.UUID) (*domain.User, error) {
	return domain.FoldUser(ctx, store, id)
}

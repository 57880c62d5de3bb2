package matchmaker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/supermock/engine/domain"
	"github.com/supermock/engine/internal/consumers"
	"github.com/supermock/engine/internal/eventlog"
)

// Expirer retires waiting entries whose window can no longer fit an interview. It is
// driven by the clock and the windows, never by an entry's age. Running it twice, or in
// two processes at once, appends each expiry once: the domain records nothing for an
// entry that already left the queue, and expected versions settle a race.
type Expirer struct {
	store    *eventlog.Store
	svc      *domain.Service
	clock    domain.Clock
	duration time.Duration
	logger   *slog.Logger
	loop     *consumers.Loop // set by Report
}

// NewExpirer returns an expirer over store.
func NewExpirer(store *eventlog.Store, clock domain.Clock, duration time.Duration, logger *slog.Logger) (*Expirer, error) {
	svc, err := domain.NewService(store, domain.Config{Clock: clock, InterviewDuration: duration})
	if err != nil {
		return nil, err
	}
	return &Expirer{store: store, svc: svc, clock: clock, duration: duration, logger: logger}, nil
}

// Report puts the expiry on board, behind by the waiting entries that can no longer
// fit an interview. Call it before Run.
func (x *Expirer) Report(board *consumers.Board) {
	x.loop = board.Loop("expiry", func(ctx context.Context) (int64, float64, error) {
		return consumers.ScanBacklog(x.store.Pool().QueryRow(ctx, `SELECT count(*),
			EXTRACT(EPOCH FROM $1::timestamptz + $2::interval - min(window_end))
			FROM matchmaker_waiting WHERE window_end < $1::timestamptz + $2::interval`, x.clock.Now(), x.duration))
	})
}

// Run expires due entries every interval until ctx ends.
func (x *Expirer) Run(ctx context.Context, interval time.Duration) error {
	return x.loop.Run(ctx, func(ctx context.Context) error {
		ticker := time.NewTicker(interval)
		defer ticker.Stop()
		for {
			if n, err := x.ExpireDue(ctx); err != nil && ctx.Err() == nil {
				x.loop.Failed(err)
				x.logger.Error("expire queue entries", "err", err)
			} else if n > 0 {
				x.logger.Info("queue entries expired", "count", n)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-ticker.C:
			}
		}
	})
}

// ExpireDue appends QueueEntryExpired for every waiting entry that can no longer fit an
// interview now, and says how many it expired.
func (x *Expirer) ExpireDue(ctx context.Context) (int, error) {
	now := x.clock.Now()
	rows, err := x.store.Pool().Query(ctx, `SELECT user_id, entry_id FROM matchmaker_waiting
		WHERE window_end < $1::timestamptz + $2::interval ORDER BY window_end`, now, x.duration)
	if err != nil {
		return 0, fmt.Errorf("due entries: %w", err)
	}
	var due []domain.EntryRef
	for rows.Next() {
		var ref domain.EntryRef
		if err := rows.Scan(&ref.UserID, &ref.EntryID); err != nil {
			rows.Close()
			return 0, err
		}
		due = append(due, ref)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	expired := 0
	meta := domain.Meta{Actor: domain.SystemActor, CorrelationID: uuid.NewString()}
	for _, ref := range due {
		pos, err := x.svc.ExpireEntry(ctx, meta, ref.UserID, ref.EntryID)
		var refusal *domain.Error
		switch {
		case errors.As(err, &refusal):
			// Not due after all on fresh state (its user's clock view differs by the
			// instant between the query and now): the next round takes it.
		case err != nil:
			return expired, fmt.Errorf("expire entry %s: %w", ref.EntryID, err)
		case pos != "":
			expired++
		}
	}
	return expired, nil
}

package http

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/supermock/engine/domain"
)

// KeyPurge deletes Idempotency-Key rows past their lifetime, so the table holds about a
// day of keys. Each replica may run one: their deletes overlap harmlessly.
type KeyPurge struct {
	pool   *pgxpool.Pool
	clock  domain.Clock
	logger *slog.Logger
}

// NewKeyPurge purges the keys in pool by clock, the clock the API claims keys by.
func NewKeyPurge(pool *pgxpool.Pool, clock domain.Clock, logger *slog.Logger) *KeyPurge {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &KeyPurge{pool: pool, clock: clock, logger: logger}
}

// Run purges every interval until ctx ends; a purge that fails (the database away) is
// logged and tried again at the next tick.
func (p *KeyPurge) Run(ctx context.Context, interval time.Duration) error {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		if n, err := p.Purge(ctx); err != nil && ctx.Err() == nil {
			p.logger.Error("purge idempotency keys", "err", err)
		} else if n > 0 {
			p.logger.Info("idempotency keys purged", "count", n)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ticker.C:
		}
	}
}

// Purge deletes the keys claimed longer than their lifetime ago and says how many.
func (p *KeyPurge) Purge(ctx context.Context) (int64, error) {
	tag, err := p.pool.Exec(ctx, `DELETE FROM idempotency_keys WHERE claimed_at < $1`, p.clock.Now().Add(-keyLifetime))
	if err != nil {
		return 0, fmt.Errorf("delete old keys: %w", err)
	}
	return tag.RowsAffected(), nil
}

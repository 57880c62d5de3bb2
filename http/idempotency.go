package http

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"github.com/supermock/engine/domain"
)

const (
	maxIdempotencyKey = 255
	// keyLifetime is how long a key answers its first answer; older keys are free
	// again and the housekeeping job deletes them.
	keyLifetime = 24 * time.Hour
	localTx     = "idempotency-tx"
)

// idempotent makes a POST command with an Idempotency-Key run at most once per user
// and key. The claim, the command's events and its answer are one transaction: a
// command that did not run (a 5xx, a rollback, a database that went away) leaves no
// claim, and a retry runs it as soon as the database is back; a command that did run
// answers its first answer to every retry (Idempotent-Replayed: true). A retry while
// the first is in flight is 409 idempotency-key-in-use; the same key with another
// method, path or body is 422 idempotency-key-reused. 4xx answers are kept like 2xx,
// except those that ask for a retry.
func (s *server) idempotent(c *fiber.Ctx) error {
	key, ok, err := idempotencyKey(c)
	if err != nil {
		return err
	}
	if !ok {
		return c.Next()
	}
	owner := sessionOf(c).UserID.String()
	h := sha256.New()
	h.Write([]byte(c.Method() + " " + c.Path() + "\n"))
	h.Write(c.Body())
	hash := h.Sum(nil)

	ctx := c.UserContext()
	tx, err := s.Pool.Begin(ctx)
	if err != nil {
		return err
	}
	// Rolling back takes the claim away with whatever the command wrote; after a
	// commit it does nothing.
	defer func() { _ = tx.Rollback(ctx) }()
	// The lock is the transaction's: a retry never waits for the first request, and a
	// holder that died (its connection with it) holds nothing.
	var free bool
	if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0))`,
		"idempotency "+owner+" "+key).Scan(&free); err != nil {
		return err
	}
	if !free {
		return errIdempotencyInUse
	}
	// A key past its lifetime is free again; a row without an answer can only be a claim
	// an earlier version of the engine committed on its own, and is free too.
	now := s.Now()
	tag, err := tx.Exec(ctx, `INSERT INTO idempotency_keys (owner, key, request_hash, claimed_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (owner, key) DO UPDATE SET request_hash = EXCLUDED.request_hash, status = NULL, body = NULL,
			event_position = NULL, claimed_at = EXCLUDED.claimed_at
		WHERE idempotency_keys.claimed_at < $5 OR idempotency_keys.status IS NULL`,
		owner, key, hash, now, now.Add(-keyLifetime))
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return answerAgain(c, tx, owner, key, hash)
	}

	c.Locals(localTx, tx)
	err = c.Next()
	c.Locals(localTx, nil)
	if err != nil {
		if err := c.App().ErrorHandler(c, err); err != nil {
			return err
		}
	}
	status := c.Response().StatusCode()
	if status >= fiber.StatusInternalServerError || retryable(status, c.Response().Body()) {
		return nil
	}
	if _, err := tx.Exec(ctx, `UPDATE idempotency_keys SET status = $3, body = $4, event_position = $5
		WHERE owner = $1 AND key = $2`, owner, key, status, c.Response().Body(),
		nullIfEmpty(c.GetRespHeader(headerEventPosition))); err != nil {
		return dropAnswer(c, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return dropAnswer(c, err)
	}
	return nil
}

// dropAnswer replaces the command's answer by the error that kept it from being
// committed: the command did not run, as far as the client can know, and a retry
// finds out for sure.
func dropAnswer(c *fiber.Ctx, err error) error {
	c.Response().Header.Del(headerEventPosition)
	return err
}

// idempotencyKey reads the header: absent is no key; present, it is printable ASCII
// of 1 to 255 characters, once.
func idempotencyKey(c *fiber.Ctx) (string, bool, error) {
	values := c.Request().Header.PeekAll(headerIdempotencyKey)
	switch {
	case len(values) == 0:
		return "", false, nil
	case len(values) > 1:
		return "", false, invalidField(headerIdempotencyKey, "is sent more than once")
	case len(values[0]) == 0 || len(values[0]) > maxIdempotencyKey:
		return "", false, invalidField(headerIdempotencyKey, "must be 1 to 255 characters")
	}
	for _, b := range values[0] {
		if b < 0x20 || b > 0x7e {
			return "", false, invalidField(headerIdempotencyKey, "must be printable ASCII")
		}
	}
	return string(values[0]), true, nil
}

// service is what a command runs on: inside the request's idempotency transaction when
// it holds one, so the command's events commit with its claim and answer or not at all.
func (s *server) service(c *fiber.Ctx) *domain.Service {
	if tx, ok := c.Locals(localTx).(pgx.Tx); ok {
		return s.Service.With(TimeAppends(s.Store.In(tx)))
	}
	return s.Service
}

// querier is what a handler reads with, from the pool or a transaction.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// db is where a command reads: its idempotency transaction's connection when it holds
// one, so a command never holds one connection while it waits for a second.
func (s *server) db(c *fiber.Ctx) querier {
	if tx, ok := c.Locals(localTx).(pgx.Tx); ok {
		return tx
	}
	return s.Pool
}

// answerAgain answers a key whose command ran.
func answerAgain(c *fiber.Ctx, tx pgx.Tx, owner, key string, hash []byte) error {
	var (
		storedHash []byte
		status     int
		body       []byte
		position   *string
	)
	err := tx.QueryRow(c.UserContext(), `SELECT request_hash, status, body, event_position
		FROM idempotency_keys WHERE owner = $1 AND key = $2`, owner, key).Scan(&storedHash, &status, &body, &position)
	if err != nil {
		return err
	}
	if !bytes.Equal(storedHash, hash) {
		return errIdempotencyReused
	}
	if position != nil {
		c.Set(headerEventPosition, *position)
	}
	c.Set(headerReplayed, "true")
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Status(status).Send(body)
}

func nullIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// retryable answers say "try again": keeping them would answer every retry of the key
// with the same refusal, and the command would never run.
func retryable(status int, body []byte) bool {
	switch status {
	case fiber.StatusRequestTimeout, fiber.StatusTooManyRequests:
		return true
	case fiber.StatusConflict:
		var answer errorBody
		return json.Unmarshal(body, &answer) == nil && answer.Error.Code == errConcurrent.code
	}
	return false
}

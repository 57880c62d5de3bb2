package http

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"

	"github.com/gofiber/fiber/v2"
)

const maxIdempotencyKey = 255

// idempotent makes a POST command with an Idempotency-Key run at most once per user
// and key: the key is claimed before the command runs and the answer stored after, so
// a retry gets the first answer (Idempotent-Replayed: true). A retry while the first
// is in flight is 409 idempotency-key-in-use; the same key with another method, path
// or body is 422 idempotency-key-reused. 4xx answers are kept like 2xx; after a 5xx
// the key is released. A claim whose request died is free again after a minute, any
// key after 24 hours.
func (s *server) idempotent(c *fiber.Ctx) error {
	key := c.Get(headerIdempotencyKey)
	if key == "" {
		return c.Next()
	}
	if len(key) > maxIdempotencyKey {
		return invalidField(headerIdempotencyKey, "is longer than 255 characters")
	}
	owner := sessionOf(c).UserID.String()
	h := sha256.New()
	h.Write([]byte(c.Method() + " " + c.Path() + "\n"))
	h.Write(c.Body())
	hash := h.Sum(nil)

	ctx := c.UserContext()
	tag, err := s.Pool.Exec(ctx, `INSERT INTO idempotency_keys (owner, key, request_hash) VALUES ($1, $2, $3)
		ON CONFLICT (owner, key) DO UPDATE SET request_hash = EXCLUDED.request_hash, status = NULL, body = NULL,
			event_position = NULL, claimed_at = now()
		WHERE idempotency_keys.claimed_at < now() - interval '24 hours'
			OR (idempotency_keys.status IS NULL AND idempotency_keys.claimed_at < now() - interval '1 minute')`,
		owner, key, hash)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return s.answerAgain(c, owner, key, hash)
	}

	if err := c.Next(); err != nil {
		if err := c.App().ErrorHandler(c, err); err != nil {
			return err
		}
	}
	// The answer is kept even when the client went away meanwhile.
	ctx = context.WithoutCancel(ctx)
	status := c.Response().StatusCode()
	if status >= fiber.StatusInternalServerError || retryable(status, c.Response().Body()) {
		_, err = s.Pool.Exec(ctx, `DELETE FROM idempotency_keys WHERE owner = $1 AND key = $2`, owner, key)
	} else {
		_, err = s.Pool.Exec(ctx, `UPDATE idempotency_keys SET status = $3, body = $4, event_position = $5
			WHERE owner = $1 AND key = $2`, owner, key, status, c.Response().Body(), nullIfEmpty(c.GetRespHeader(headerEventPosition)))
	}
	if err != nil {
		// The command's answer stands; a retry meets the claim until it lapses.
		s.logger(c).Error("store idempotent answer", "key", key, "err", err)
	}
	return nil
}

// answerAgain answers a key somebody already claimed.
func (s *server) answerAgain(c *fiber.Ctx, owner, key string, hash []byte) error {
	var (
		storedHash []byte
		status     *int
		body       []byte
		position   *string
	)
	err := s.Pool.QueryRow(c.UserContext(), `SELECT request_hash, status, body, event_position
		FROM idempotency_keys WHERE owner = $1 AND key = $2`, owner, key).Scan(&storedHash, &status, &body, &position)
	switch {
	case errNoRows(err):
		return errIdempotencyInUse // released between the claim and this read
	case err != nil:
		return err
	case status == nil:
		return errIdempotencyInUse
	case !bytes.Equal(storedHash, hash):
		return errIdempotencyReused
	}
	if position != nil {
		c.Set(headerEventPosition, *position)
	}
	c.Set(headerReplayed, "true")
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Status(*status).Send(body)
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

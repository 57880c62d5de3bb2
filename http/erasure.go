package http

import (
	"context"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/supermock/engine/domain"
)

// eraseConfirmation is the sentence DELETE /api/me must carry, so no stray request
// (a client's bug, a replayed call) erases an account.
const eraseConfirmation = "erase my data"

var errErasureNotConfirmed = newError(fiber.StatusBadRequest, "erasure-not-confirmed",
	`to erase your data for good, send {"confirm":"`+eraseConfirmation+`"}`)

type eraseRequest struct {
	Confirm string `json:"confirm"`
}

type erasureResponse struct {
	UserID string `json:"user_id"`
	Erased bool   `json:"erased"`
}

// eraseMe erases the caller's personal data and ends their sessions.
func (s *server) eraseMe(c *fiber.Ctx) error {
	var req eraseRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if req.Confirm != eraseConfirmation {
		return errErasureNotConfirmed
	}
	me := sessionOf(c).UserID
	position, err := s.erase(c.UserContext(), s.meta(c), me, me)
	if err != nil {
		return err
	}
	s.setSessionCookie(c, "", 0)
	return answer(c, fiber.StatusOK, position, erasureResponse{UserID: me.String(), Erased: true})
}

// eraseUser is an admin's erasure of a user, on the user's request made elsewhere.
func (s *server) eraseUser(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	position, err := s.erase(c.UserContext(), s.meta(c), id, sessionOf(c).UserID)
	if err != nil {
		return err
	}
	return answer(c, fiber.StatusOK, position, erasureResponse{UserID: id.String(), Erased: true})
}

// erase deletes the user's data key and records the erasure (the domain does both, key
// first), then ends every session of theirs and drops the answers kept for their
// Idempotency-Keys, which may quote what they wrote. Read tables clear their personal
// columns as they apply the erasure.
func (s *server) erase(ctx context.Context, meta domain.Meta, userID, by uuid.UUID) (string, error) {
	position, err := s.Service.ErasePersonalData(ctx, meta, userID, by)
	if err != nil {
		return "", err
	}
	if err := s.endAllSessions(ctx, userID); err != nil {
		return "", err
	}
	if _, err := s.Pool.Exec(ctx, `DELETE FROM idempotency_keys WHERE owner = $1`, userID.String()); err != nil {
		return "", err
	}
	return position, nil
}

package domain

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
)

// ErrUserErased refuses every command of a user whose personal data was erased, and
// their logins: the account is gone for good, while its history stays in the log.
var ErrUserErased = newError(KindForbidden, "user-erased", "this account's personal data was erased")

// Erased reports whether the user's personal data was erased.
func (u *User) Erased() bool { return u.erased }

// ErasePersonalData ends the user's waiting entries, so nobody is matched with an
// erased account, and records the erasure; an erased user records nothing more. The
// caller deletes the user's data key first, which is what makes the data unreadable.
func (u *User) ErasePersonalData(by uuid.UUID, now time.Time) error {
	if u.erased {
		return nil
	}
	if err := u.leaveWaiting(now); err != nil {
		return err
	}
	u.record(PersonalDataErased{UserID: u.id, ErasedBy: by, ErasedAt: utc(now)})
	return nil
}

// ErasePersonalData deletes the user's data key, then records the erasure, asked for
// by the user themselves or by an admin (by). The key goes first: from then on nothing
// of theirs can be read or written in clear, and a retry after a failure does both again.
func (s *Service) ErasePersonalData(ctx context.Context, meta Meta, userID, by uuid.UUID) (string, error) {
	if s.keys == nil {
		return "", errors.New("domain: erasing personal data needs the data keys")
	}
	if _, err := s.LoadUser(ctx, userID); err != nil {
		return "", err
	}
	if err := s.keys.EraseKey(ctx, userID); err != nil {
		return "", err
	}
	// Unlike other commands this one is not given up under contention: the key is gone
	// already, and the user's own commands racing it stop once it is recorded.
	for {
		pos, err := s.retry(ctx, func(now time.Time) (string, error) {
			u, err := s.LoadUser(ctx, userID)
			if err != nil {
				return "", err
			}
			if err := u.ErasePersonalData(by, now); err != nil {
				return "", err
			}
			return s.commit(ctx, meta, now, u)
		})
		if !errors.Is(err, ErrConcurrency) || ctx.Err() != nil {
			return pos, err
		}
	}
}

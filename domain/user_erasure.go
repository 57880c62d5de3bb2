package domain

import (
	"context"
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

// ErasePersonalData records the erasure of a user's personal data, asked for by the
// user themselves or by an admin (by).
func (s *Service) ErasePersonalData(ctx context.Context, meta Meta, userID, by uuid.UUID) (string, error) {
	return s.retry(ctx, func(now time.Time) (string, error) {
		u, err := s.LoadUser(ctx, userID)
		if err != nil {
			return "", err
		}
		if err := u.ErasePersonalData(by, now); err != nil {
			return "", err
		}
		return s.commit(ctx, meta, u)
	})
}

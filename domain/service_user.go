package domain

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// TelegramLogin is a verified Telegram login; Admin comes from ADMIN_TELEGRAM_IDS.
type TelegramLogin struct {
	TelegramID int64
	Username   string
	FirstName  string
	LastName   string
	PhotoURL   string
	Admin      bool
}

// Registration tells who logged in and whether this login created the user.
type Registration struct {
	UserID   uuid.UUID
	Created  bool
	Position string
}

// RegisterFromTelegram is every login: the first one creates the user and claims the
// telegram-<id> stream in the same append, so two racing first logins make one user
// (the loser's append conflicts and its retry finds the claim). Later logins only
// follow the admin list; the profile is the user's own to edit.
func (s *Service) RegisterFromTelegram(ctx context.Context, meta Meta, in TelegramLogin) (Registration, error) {
	who, err := NewTelegramIdentity(in.TelegramID, in.Username, in.FirstName, in.LastName, in.PhotoURL)
	if err != nil {
		return Registration{}, err
	}
	role := RoleUser
	if in.Admin {
		role = RoleAdmin
	}
	newID := s.newID()
	var reg Registration
	pos, err := s.retry(ctx, func(now time.Time) (string, error) {
		claim, _, err := s.store.Load(ctx, TelegramStream(who.ID()))
		if err != nil {
			return "", err
		}
		if id, ok := ClaimedUser(claim); ok {
			reg = Registration{UserID: id}
			u, err := s.LoadUser(ctx, id)
			if err != nil {
				return "", err
			}
			if u.erased {
				return "", ErrUserErased
			}
			if err := u.ChangeRole(role, now); err != nil {
				return "", err
			}
			return s.commit(ctx, meta, now, u)
		}
		u, err := RegisterUser(newID, who, role, now)
		if err != nil {
			return "", err
		}
		reg = Registration{UserID: newID, Created: true}
		return s.store.Append(ctx, meta.at(now), append([]Change{ClaimTelegramID(u, now)}, ChangesOf(u)...)...)
	})
	reg.Position = pos
	return reg, err
}

// onUser is the shape of every single-user command.
func (s *Service) onUser(ctx context.Context, meta Meta, id uuid.UUID, decide func(*User, time.Time) error) (string, error) {
	return s.retry(ctx, func(now time.Time) (string, error) {
		u, err := s.LoadUser(ctx, id)
		if err != nil {
			return "", err
		}
		if u.erased {
			return "", ErrUserErased
		}
		if err := decide(u, now); err != nil {
			return "", err
		}
		return s.commit(ctx, meta, now, u)
	})
}

func (s *Service) UpdateProfile(ctx context.Context, meta Meta, userID uuid.UUID, in ProfileInput) (string, error) {
	return s.onUser(ctx, meta, userID, func(u *User, now time.Time) error { return u.UpdateProfile(in, now) })
}

func (s *Service) SelectProfessions(ctx context.Context, meta Meta, userID uuid.UUID, slugs []string) (string, error) {
	return s.onUser(ctx, meta, userID, func(u *User, now time.Time) error { return u.SelectProfessions(slugs, now) })
}

func (s *Service) SubmitForm(ctx context.Context, meta Meta, userID uuid.UUID, in FormInput) (string, error) {
	return s.onUser(ctx, meta, userID, func(u *User, now time.Time) error { return u.SubmitForm(in, now) })
}

// JoinQueue returns the new entry's id; the id is fixed before the first attempt so
// a retry cannot create a second entry.
func (s *Service) JoinQueue(ctx context.Context, meta Meta, userID uuid.UUID, in QueueInput) (uuid.UUID, string, error) {
	entry, pos, err := s.JoinQueueEntry(ctx, meta, userID, in)
	return entry.ID, pos, err
}

// JoinQueueEntry is JoinQueue answering the new entry as the command left it.
func (s *Service) JoinQueueEntry(ctx context.Context, meta Meta, userID uuid.UUID, in QueueInput) (UserEntry, string, error) {
	entryID := s.newID()
	return s.onEntry(ctx, meta, userID, entryID, func(u *User, now time.Time) error {
		return u.JoinQueue(entryID, in, now, s.duration)
	})
}

// onEntry runs a command on a user's stream and answers one of the user's entries as
// the command that committed left it.
func (s *Service) onEntry(ctx context.Context, meta Meta, userID, entryID uuid.UUID, decide func(*User, time.Time) error) (UserEntry, string, error) {
	var entry UserEntry
	pos, err := s.onUser(ctx, meta, userID, func(u *User, now time.Time) error {
		if err := decide(u, now); err != nil {
			return err
		}
		entry, _ = u.Entry(entryID)
		return nil
	})
	if err != nil {
		return UserEntry{}, "", err
	}
	return entry, pos, nil
}

// ReplaceQueueEntries leaves every waiting entry of the user and joins with in, in one
// append: a client that holds one entry at a time moves it without a moment with none
// or two. Like JoinQueue, the new id is fixed before the first attempt.
func (s *Service) ReplaceQueueEntries(ctx context.Context, meta Meta, userID uuid.UUID, in QueueInput) (uuid.UUID, string, error) {
	entryID := s.newID()
	pos, err := s.onUser(ctx, meta, userID, func(u *User, now time.Time) error {
		if _, ok := u.Entry(entryID); ok {
			return nil
		}
		if err := u.leaveWaiting(now); err != nil {
			return err
		}
		return u.JoinQueue(entryID, in, now, s.duration)
	})
	if err != nil {
		return uuid.Nil, "", err
	}
	return entryID, pos, nil
}

// LeaveWaiting withdraws every waiting entry of the user in one append.
func (s *Service) LeaveWaiting(ctx context.Context, meta Meta, userID uuid.UUID) (string, error) {
	return s.onUser(ctx, meta, userID, func(u *User, now time.Time) error { return u.leaveWaiting(now) })
}

func (s *Service) LeaveQueue(ctx context.Context, meta Meta, userID, entryID uuid.UUID) (string, error) {
	_, pos, err := s.LeaveQueueEntry(ctx, meta, userID, entryID)
	return pos, err
}

// LeaveQueueEntry is LeaveQueue answering the entry as the command left it.
func (s *Service) LeaveQueueEntry(ctx context.Context, meta Meta, userID, entryID uuid.UUID) (UserEntry, string, error) {
	return s.onEntry(ctx, meta, userID, entryID, func(u *User, now time.Time) error { return u.LeaveQueue(entryID, now) })
}

// ExpireEntry is the expiry scheduler's command; schedule it just after
// Window.ExpiresAt. It answers ErrQueueEntryNotExpired when woken too early.
func (s *Service) ExpireEntry(ctx context.Context, meta Meta, userID, entryID uuid.UUID) (string, error) {
	return s.onUser(ctx, meta, userID, func(u *User, now time.Time) error {
		return u.ExpireEntry(entryID, now, s.duration)
	})
}

// EntryRef names a queue entry in its user's stream.
type EntryRef struct {
	UserID  uuid.UUID
	EntryID uuid.UUID
}

// PlanMatch decides a pairing at now on fresh state and returns the append without
// doing it: MatchMade on both users at their loaded versions and InterviewScheduled on
// the new interview stream.
func (s *Service) PlanMatch(ctx context.Context, a, b EntryRef, interviewID uuid.UUID, now time.Time) ([]Change, error) {
	ua, err := s.LoadUser(ctx, a.UserID)
	if err != nil {
		return nil, err
	}
	ub, err := s.LoadUser(ctx, b.UserID)
	if err != nil {
		return nil, err
	}
	iv, err := Match(ua, ub, a.EntryID, b.EntryID, interviewID, now, s.duration)
	if err != nil {
		return nil, err
	}
	return ChangesOf(ua, ub, iv), nil
}

// MakeMatch plans and appends a pairing on its own, for callers without a
// transaction of their own (demo, tools). It returns the interview id.
func (s *Service) MakeMatch(ctx context.Context, meta Meta, a, b EntryRef) (uuid.UUID, string, error) {
	interviewID := s.newID()
	pos, err := s.retry(ctx, func(now time.Time) (string, error) {
		changes, err := s.PlanMatch(ctx, a, b, interviewID, now)
		if err != nil {
			return "", err
		}
		return s.store.Append(ctx, meta.at(now), changes...)
	})
	if err != nil {
		return uuid.Nil, "", err
	}
	return interviewID, pos, nil
}

package domain

import (
	"time"

	"github.com/google/uuid"
)

// RegisterUser starts a user stream for a Telegram identity. New users are candidates
// first and live in Europe/Moscow until they choose a timezone.
func RegisterUser(id uuid.UUID, who TelegramIdentity, role Role, now time.Time) (*User, error) {
	if id == uuid.Nil || who.ID() <= 0 {
		return nil, ErrTelegramIdentityInvalid
	}
	if _, err := ParseRole(string(role)); err != nil {
		return nil, err
	}
	u := newUser()
	u.record(UserRegistered{
		UserID: id, TelegramID: who.ID(), Username: who.Username(), FirstName: who.FirstName(),
		LastName: who.LastName(), PhotoURL: who.PhotoURL(), Role: role, PreferredRole: Candidate,
		Timezone: DefaultTimezone, RegisteredAt: utc(now),
	})
	return u, nil
}

// ClaimTelegramID is the event of the telegram-<id> stream that RegisterUser's append
// must carry, expecting that stream not to exist.
func ClaimTelegramID(u *User, now time.Time) Change {
	return Change{Stream: TelegramStream(u.telegramID), Expected: 0, Events: []Event{
		TelegramIDClaimed{TelegramID: u.telegramID, UserID: u.id, ClaimedAt: utc(now)},
	}}
}

// ClaimedUser reads a telegram-<id> stream: the user the id belongs to.
func ClaimedUser(history []Event) (uuid.UUID, bool) {
	for _, e := range history {
		if c, ok := value(e).(TelegramIDClaimed); ok {
			return c.UserID, true
		}
	}
	return uuid.Nil, false
}

// ChangeRole follows the configured admin list; the same role records nothing.
func (u *User) ChangeRole(role Role, now time.Time) error {
	if _, err := ParseRole(string(role)); err != nil {
		return err
	}
	if role == u.role {
		return nil
	}
	u.record(RoleChanged{UserID: u.id, TelegramID: u.telegramID, From: u.role, To: role, ChangedAt: utc(now)})
	return nil
}

// ProfileInput changes the fields that are set; nil keeps the current value.
type ProfileInput struct {
	FirstName *string
	LastName  *string
	Timezone  *string
}

func (u *User) UpdateProfile(in ProfileInput, now time.Time) error {
	first, last, tz := u.firstName, u.lastName, u.timezone
	var (
		c   checks
		err error
	)
	if in.FirstName != nil {
		first, err = parseName("first_name", *in.FirstName, true)
		c.check("first_name", err)
	}
	if in.LastName != nil {
		last, err = parseName("last_name", *in.LastName, false)
		c.check("last_name", err)
	}
	if in.Timezone != nil {
		tz, err = ParseTimezone(*in.Timezone)
		c.check("timezone", err)
	}
	if err := c.err(); err != nil {
		return err
	}
	if first == u.firstName && last == u.lastName && tz == u.timezone {
		return nil
	}
	u.record(ProfileUpdated{UserID: u.id, FirstName: first, LastName: last, Timezone: tz, UpdatedAt: utc(now)})
	return nil
}

// SelectProfessions replaces the selection. It is kept in display order without
// duplicates, so the same set in another order records nothing.
func (u *User) SelectProfessions(slugs []string, now time.Time) error {
	chosen := make(map[Profession]bool)
	for _, s := range slugs {
		p, err := ParseProfession(s)
		if err != nil {
			return err
		}
		chosen[p] = true
	}
	if len(chosen) == 0 {
		return ErrProfessionsEmpty
	}
	var list []Profession
	for _, p := range professions {
		if chosen[p.Slug] {
			list = append(list, p.Slug)
		}
	}
	if equalProfessions(list, u.professions) {
		return nil
	}
	u.record(ProfessionsSelected{UserID: u.id, Professions: list, SelectedAt: utc(now)})
	return nil
}

func equalProfessions(a, b []Profession) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// SubmitForm replaces the questionnaire; the same answers record nothing.
func (u *User) SubmitForm(in FormInput, now time.Time) error {
	f, err := ParseForm(in)
	if err != nil {
		return err
	}
	if u.hasForm && f.equal(u.form) {
		return nil
	}
	u.record(FormSubmitted{
		UserID: u.id, Profession: f.Profession, Country: f.Country, Experience: f.Experience,
		Language: f.Language, Email: f.Email, Phone: f.Phone, Tools: f.Tools, SubmittedAt: utc(now),
	})
	return nil
}

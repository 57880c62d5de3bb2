package projections

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/supermock/engine/domain"
	"github.com/supermock/engine/internal/jsontime"
	"github.com/supermock/engine/internal/keyset"
)

// Profile is a user as the read tables hold them: profile, professions and form.
type Profile struct {
	ID            string        `json:"id"`
	TelegramID    int64         `json:"telegram_id"`
	Username      string        `json:"username"`
	FirstName     string        `json:"first_name"`
	LastName      string        `json:"last_name"`
	PhotoURL      string        `json:"photo_url"`
	AccountRole   string        `json:"account_role" enum:"role"`
	PreferredRole string        `json:"preferred_role" enum:"interview-role"`
	Timezone      string        `json:"timezone" doc:"IANA name; Europe/Moscow until set"`
	NoShowCount   int           `json:"no_show_count"`
	RegisteredAt  jsontime.Time `json:"registered_at"`
	Professions   []string      `json:"professions" enum:"profession"`
	Form          *Form         `json:"form"` // null until the first submission
}

// Form is the questionnaire a user submitted last.
type Form struct {
	Profession  string        `json:"profession" enum:"profession"`
	Country     string        `json:"country" enum:"country"`
	Experience  string        `json:"experience" enum:"experience"`
	Language    string        `json:"language" enum:"language"`
	Email       string        `json:"email,omitempty"`
	Phone       string        `json:"phone,omitempty"`
	Tools       []string      `json:"tools"`
	SubmittedAt jsontime.Time `json:"submitted_at"`
}

// ProfileOf reads one user; an unknown one is domain.ErrUserNotFound.
var ProfileOf = reading(profileOf, Users, SelectedProfessions, UserFormData)

func profileOf(ctx context.Context, db DB, userID uuid.UUID) (Profile, error) {
	var m Profile
	var f struct {
		profession, country, experience, language *string
		email, phone                              *string
		tools                                     []string
		submittedAt                               *time.Time
	}
	err := db.QueryRow(ctx, `SELECT u.user_id::text, u.telegram_id, u.username, u.first_name,
			u.last_name, u.photo_url, u.role, u.preferred_role, u.timezone, u.no_show_count, u.registered_at,
			COALESCE((SELECT json_agg(p.profession ORDER BY p.rank) FROM selected_professions p
				WHERE p.user_id = u.user_id), '[]'::json),
			f.profession, f.country, f.experience, f.language, f.email, f.phone, f.tools, f.submitted_at
		FROM users u LEFT JOIN user_form_data f ON f.user_id = u.user_id
		WHERE u.user_id = $1`, userID).Scan(
		&m.ID, &m.TelegramID, &m.Username, &m.FirstName, &m.LastName, &m.PhotoURL, &m.AccountRole, &m.PreferredRole,
		&m.Timezone, &m.NoShowCount, &m.RegisteredAt, &m.Professions,
		&f.profession, &f.country, &f.experience, &f.language, &f.email, &f.phone, &f.tools, &f.submittedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return Profile{}, domain.ErrUserNotFound
	}
	if err != nil {
		return Profile{}, err
	}
	if f.profession != nil {
		m.Form = &Form{Profession: *f.profession, Country: *f.country, Experience: *f.experience,
			Language: *f.language, Email: deref(f.email), Phone: deref(f.phone), Tools: nonNil(f.tools),
			SubmittedAt: jsontime.Of(*f.submittedAt)}
	}
	return m, nil
}

// MatchDefaults are what a user's slots default to: the preferred role and the form's
// profession and language, each nil while unknown.
type MatchDefaults struct {
	PreferredRole, Profession, Language *string
}

// MatchDefaultsOf reads them; an unknown user has none.
var MatchDefaultsOf = reading(matchDefaultsOf, Users, UserFormData)

func matchDefaultsOf(ctx context.Context, db DB, userID uuid.UUID) (MatchDefaults, error) {
	var d MatchDefaults
	err := db.QueryRow(ctx, `SELECT u.preferred_role, f.profession, f.language
		FROM users u LEFT JOIN user_form_data f ON f.user_id = u.user_id WHERE u.user_id = $1`, userID).
		Scan(&d.PreferredRole, &d.Profession, &d.Language)
	if errors.Is(err, pgx.ErrNoRows) {
		return MatchDefaults{}, nil
	}
	return d, err
}

// UserSearch names users by Telegram id, or by username (without the @, in any case),
// a page of them at a time.
type UserSearch struct {
	TelegramID int64
	Username   string
	keyset.Page
}

// FoundUsers is a page of the users a search names, the first registered first.
type FoundUsers struct {
	IDs  []uuid.UUID
	Next *string
}

// FindUsers reads the ids of the users a search names: one for a Telegram id, every
// user of a username (Telegram lets a username pass from one account to another).
var FindUsers = reading(findUsers, Users)

func findUsers(ctx context.Context, db DB, q UserSearch) (FoundUsers, error) {
	at, id, after, err := keyset.Key(q.After)
	if err != nil {
		return FoundUsers{}, err
	}
	type found struct {
		id           uuid.UUID
		registeredAt time.Time
	}
	rows, err := db.Query(ctx, `SELECT user_id, registered_at FROM users
		WHERE (($1::bigint <> 0 AND telegram_id = $1::bigint) OR ($2::text <> '' AND lower(username) = lower($2::text)))
			AND (NOT $3 OR (registered_at, user_id) > ($4, $5))
		ORDER BY registered_at, user_id LIMIT $6`,
		q.TelegramID, strings.TrimPrefix(q.Username, "@"), after, at, id, q.Limit+1)
	if err != nil {
		return FoundUsers{}, err
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (found, error) {
		var f found
		err := r.Scan(&f.id, &f.registeredAt)
		return f, err
	})
	if err != nil {
		return FoundUsers{}, err
	}
	page, next := keyset.Cut(list, q.Limit, func(f found) (time.Time, string) { return f.registeredAt, f.id.String() })
	out := FoundUsers{IDs: make([]uuid.UUID, len(page)), Next: next}
	for i, f := range page {
		out.IDs[i] = f.id
	}
	return out, nil
}

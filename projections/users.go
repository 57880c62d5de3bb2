package projections

import (
	"github.com/supermock/engine/domain"
	"github.com/supermock/engine/eventstore"
)

// Users is the users table: one row per registered user, with the profile as it is now.
func Users() Projection {
	const t = "users"
	return define("users", []string{t},
		on(func(_ eventstore.Envelope, e domain.UserRegistered, c *Changes) {
			c.Insert(t, Row{{"user_id", e.UserID}, {"telegram_id", e.TelegramID}, {"username", e.Username},
				{"first_name", e.FirstName}, {"last_name", e.LastName}, {"photo_url", e.PhotoURL},
				{"role", string(e.Role)}, {"preferred_role", string(e.PreferredRole)}, {"timezone", string(e.Timezone)},
				{"no_show_count", 0}, {"registered_at", e.RegisteredAt}, {"updated_at", e.RegisteredAt}})
		}),
		on(func(_ eventstore.Envelope, e domain.RoleChanged, c *Changes) {
			c.Update(t, Col{"user_id", e.UserID}, Row{{"role", string(e.To)}, {"updated_at", e.ChangedAt}})
		}),
		on(func(_ eventstore.Envelope, e domain.ProfileUpdated, c *Changes) {
			c.Update(t, Col{"user_id", e.UserID}, Row{{"first_name", e.FirstName}, {"last_name", e.LastName},
				{"timezone", string(e.Timezone)}, {"updated_at", e.UpdatedAt}})
		}),
		on(func(_ eventstore.Envelope, e domain.AbsenceRecorded, c *Changes) {
			// The event carries the count, so applying it never reads the row.
			c.Update(t, Col{"user_id", e.UserID}, Row{{"no_show_count", e.NoShowCount}, {"updated_at", e.RecordedAt}})
		}),
		on(func(_ eventstore.Envelope, e domain.PreferredRoleSwitched, c *Changes) {
			c.Update(t, Col{"user_id", e.UserID}, Row{{"preferred_role", string(e.To)}, {"updated_at", e.SwitchedAt}})
		}),
		on(func(_ eventstore.Envelope, e domain.PersonalDataErased, c *Changes) {
			// Partners still see the interviews they had, with a deleted user in them.
			c.Update(t, Col{"user_id", e.UserID}, Row{{"username", ""}, {"first_name", domain.ErasedName},
				{"last_name", ""}, {"photo_url", ""}, {"updated_at", e.ErasedAt}})
		}),
	)
}

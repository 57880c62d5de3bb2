package projections

import (
	"github.com/supermock/engine/domain"
	"github.com/supermock/engine/eventstore"
)

// SelectedProfessions is one row per profession a user selected, with its rank.
func SelectedProfessions() Projection {
	const t = "selected_professions"
	return define("selected_professions", []string{t},
		on(func(_ eventstore.Envelope, e domain.ProfessionsSelected, c *Changes) {
			// The event carries the whole selection: replace the user's rows.
			c.Delete(t, Col{"user_id", e.UserID})
			for i, p := range e.Professions {
				c.Insert(t, Row{{"user_id", e.UserID}, {"profession", string(p)}, {"rank", i + 1}, {"selected_at", e.SelectedAt}})
			}
		}),
	)
}

package projections

import (
	"github.com/supermock/engine/domain"
	"github.com/supermock/engine/eventstore"
)

// UserFormData is the questionnaire each user last submitted.
func UserFormData() Projection {
	const t = "user_form_data"
	return define("user_form_data", []string{t},
		on(func(_ eventstore.Envelope, e domain.FormSubmitted, c *Changes) {
			c.Upsert(t, Row{{"user_id", e.UserID}, {"profession", string(e.Profession)}, {"country", string(e.Country)},
				{"experience", string(e.Experience)}, {"language", string(e.Language)}, {"email", nullString(string(e.Email))},
				{"phone", nullString(string(e.Phone))}, {"tools", storableList(e.Tools)}, {"submitted_at", e.SubmittedAt}})
		}),
		// What a rebuild makes of the erased fields, so live and rebuilt rows agree.
		on(func(_ eventstore.Envelope, e domain.PersonalDataErased, c *Changes) {
			c.Update(t, Col{"user_id", e.UserID}, Row{{"email", nil}, {"phone", nil}, {"tools", storableList(nil)}})
		}),
	)
}

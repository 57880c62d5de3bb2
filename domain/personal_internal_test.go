package domain

import (
	"reflect"
	"slices"
	"testing"

	"github.com/google/uuid"
)

// Every text field of every event, nested ones included, is classified personal or
// not, and the personal ones name a uuid field of their event as their subject.
func TestEveryTextFieldOfEveryEventIsClassified(t *testing.T) {
	t.Parallel()
	for _, et := range EventTypes() {
		if _, err := personalOf(reflect.TypeOf(et.New()).Elem()); err != nil {
			t.Error(err)
		}
	}
}

func TestPersonalFieldsNameTheirSubject(t *testing.T) {
	t.Parallel()
	user, author := uuid.New(), uuid.New()
	for _, c := range []struct {
		event   Event
		subject uuid.UUID
		fields  []string
	}{
		{UserRegistered{UserID: user}, user, []string{"username", "first_name", "last_name", "photo_url"}},
		{&ProfileUpdated{UserID: user}, user, []string{"first_name", "last_name"}},
		{FormSubmitted{UserID: user}, user, []string{"email", "phone", "tools"}},
		{FeedbackSubmitted{FromUserID: author, ToUserID: user}, author, []string{"comment"}},
		{InterviewCancelled{CancelledBy: author, OtherUserID: user}, author, []string{"reason"}},
		{MatchCancelled{CancelledBy: author}, author, []string{"reason"}},
		{QueueJoined{UserID: user}, uuid.Nil, nil},
		{NotificationSent{UserID: user}, uuid.Nil, nil},
	} {
		subject, fields := PersonalFields(c.event)
		if subject != c.subject || !slices.Equal(fields, c.fields) {
			t.Errorf("%s: personal %v of %s, want %v of %s", c.event.EventType(), fields, subject, c.fields, c.subject)
		}
	}
}

func TestAnUnclassifiedTextFieldIsRefused(t *testing.T) {
	t.Parallel()
	type nested struct{ Note string }
	for name, typ := range map[string]reflect.Type{
		"plain":    reflect.TypeOf(struct{ Name string }{}),
		"nested":   reflect.TypeOf(struct{ Inner nested }{}),
		"slice":    reflect.TypeOf(struct{ Tags []string }{}),
		"map keys": reflect.TypeOf(struct{ Scores map[string]int }{}),
		"two owners": reflect.TypeOf(struct {
			A, B uuid.UUID
			X    string `personal:"A"`
			Y    string `personal:"B"`
		}{}),
		"no subject": reflect.TypeOf(struct {
			X string `personal:"user_id"`
		}{}),
		"not text": reflect.TypeOf(struct {
			N int `personal:"no"`
		}{}),
	} {
		if _, err := personalOf(typ); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

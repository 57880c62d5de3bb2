package domain_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/supermock/engine/domain"
)

// hostile are characters free text may not hold, each in the middle of a word.
var hostile = map[string]string{
	"NUL": "\x00", "tab": "\t", "carriage return": "\r", "escape": "\x1b", "DEL": "\x7f", "C1 NEL": "\u0085",
	"right-to-left override": "\u202e", "left-to-right embedding": "\u202a", "first-strong isolate": "\u2068",
	"pop directional isolate": "\u2069", "invalid UTF-8": "\xff\xfe", "replacement character": "\ufffd",
}

// Every field of text a person types is refused, naming the field, when it holds one
// of them; a comment may keep its line breaks, and nothing else may.
func TestFreeTextIsRefusedNamingTheField(t *testing.T) {
	t.Parallel()
	now := clock("10:00")
	form := func(email, phone string, tools ...string) error {
		u := givenUser(t, registered(alice, 1))
		return u.SubmitForm(domain.FormInput{Profession: "qa-engineer", Country: "DE", Experience: "1-3",
			Language: "en", Email: email, Phone: phone, Tools: tools}, now)
	}
	fields := map[string]func(string) error{
		"first_name": func(s string) error {
			return givenUser(t, registered(alice, 1)).UpdateProfile(domain.ProfileInput{FirstName: &s}, now)
		},
		"last_name": func(s string) error {
			return givenUser(t, registered(alice, 1)).UpdateProfile(domain.ProfileInput{LastName: &s}, now)
		},
		"tools": func(s string) error { return form("", "", "Go", s) },
		"email": func(s string) error { return form(strings.Replace("ann@example.org", "@", s+"@", 1), "") },
		"phone": func(s string) error { return form("", "+49 30"+s+"1234567") },
	}
	for field, call := range fields {
		for name, bad := range hostile {
			err := call("Mal" + bad + "lory")
			if !errors.Is(err, domain.ErrTextInvalid) || !strings.HasPrefix(err.Error(), field+" ") {
				t.Errorf("%s with a %s: error %v, want text-invalid naming %s", field, name, err, field)
			}
		}
		if err := call("Mal\nlory"); !errors.Is(err, domain.ErrTextInvalid) {
			t.Errorf("%s with a newline: error %v", field, err)
		}
	}
	if err := fields["first_name"]("Ма́лори 💡 O'Brien"); err != nil {
		t.Errorf("a name with accents and emoji: %v", err)
	}
}

func TestFreeTextOfInterviews(t *testing.T) {
	t.Parallel()
	done := []domain.Event{scheduled(), started, completed}
	feedback := func(in domain.FeedbackInput) error {
		iv := givenInterview(t, done...)
		return domain.SubmitFeedback(iv, givenUser(t, registered(alice, 1)), givenUser(t, registered(bob, 2)), alice, in, clock("13:30"))
	}
	for name, bad := range hostile {
		for field, err := range map[string]error{
			"reason": domain.CancelInterview(givenInterview(t, scheduled()), givenUser(t, registered(alice, 1)),
				givenUser(t, registered(bob, 2)), alice, "ill"+bad, clock("10:00"), time.Hour),
			"skills":  feedback(domain.FeedbackInput{Rating: 4, Skills: map[string]int{"s" + bad + "ql": 4}}),
			"comment": feedback(domain.FeedbackInput{Rating: 4, Comment: "good" + bad + "job"}),
		} {
			if !errors.Is(err, domain.ErrTextInvalid) || !strings.HasPrefix(err.Error(), field+" ") {
				t.Errorf("%s with a %s: error %v, want text-invalid naming %s", field, name, err, field)
			}
		}
	}
	if err := feedback(domain.FeedbackInput{Rating: 4, Comment: "clear questions\nfair pace"}); err != nil {
		t.Errorf("a comment of two lines: %v", err)
	}
}

// What Telegram signs is cleaned, never refused: the login goes on with the name that
// remains.
func TestTelegramTextIsCleaned(t *testing.T) {
	t.Parallel()
	id, err := domain.NewTelegramIdentity(42, "@mal\x00lory", "Mal\u202elory\n", "\x1bO'Brien\xff", "")
	if err != nil {
		t.Fatal(err)
	}
	if id.Username() != "mallory" || id.FirstName() != "Mallory" || id.LastName() != "O'Brien" {
		t.Fatalf("cleaned identity: %q %q %q", id.Username(), id.FirstName(), id.LastName())
	}
	if got := domain.CleanText("line one\n\x00line two\u2066", true); got != "line one\nline two" {
		t.Fatalf("cleaned comment %q", got)
	}
}

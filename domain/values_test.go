package domain_test

import (
	"errors"
	"testing"

	"github.com/supermock/engine/domain"
)

func TestReferenceTables(t *testing.T) {
	t.Parallel()
	if n := len(domain.Languages()); n != 184 {
		t.Errorf("%d ISO 639-1 codes, want 184", n)
	}
	if n := len(domain.Countries()); n != 249 {
		t.Errorf("%d ISO 3166-1 codes, want 249", n)
	}
	ps := domain.Professions()
	if len(ps) != 20 || ps[0].Slug != "frontend-developer" || ps[19].Slug != "database-administrator" || ps[8].Label != "UI/UX Designer" {
		t.Errorf("professions = %v", ps)
	}
}

func TestParseValues(t *testing.T) {
	t.Parallel()
	type parse func(string) (string, error)
	str := func(f func(string) (any, error)) parse {
		return func(s string) (string, error) {
			v, err := f(s)
			if err != nil {
				return "", err
			}
			return toString(v), nil
		}
	}
	language := str(func(s string) (any, error) { return domain.ParseLanguage(s) })
	country := str(func(s string) (any, error) { return domain.ParseCountry(s) })
	email := str(func(s string) (any, error) { return domain.ParseEmail(s) })
	phone := str(func(s string) (any, error) { return domain.ParsePhone(s) })
	timezone := str(func(s string) (any, error) { return domain.ParseTimezone(s) })
	experience := str(func(s string) (any, error) { return domain.ParseExperience(s) })
	role := str(func(s string) (any, error) { return domain.ParseInterviewRole(s) })
	profession := str(func(s string) (any, error) { return domain.ParseProfession(s) })

	tests := []struct {
		parse parse
		in    string
		want  string
		err   error
	}{
		{language, "RU", "ru", nil},
		{language, "zu", "zu", nil},
		{language, "xx", "", domain.ErrLanguageInvalid},
		{language, "eng", "", domain.ErrLanguageInvalid},
		{country, "de", "DE", nil},
		{country, "AX", "AX", nil},
		{country, "UK", "", domain.ErrCountryInvalid},
		{email, "ann@Mail.Example.ORG", "ann@mail.example.org", nil},
		{email, "ann@localhost", "", domain.ErrEmailInvalid},
		{email, "ann", "", domain.ErrEmailInvalid},
		{email, "Ann <ann@example.com>", "", domain.ErrEmailInvalid},
		{phone, "+1 415 555 0100", "+14155550100", nil},
		{phone, "+1234567", "+1234567", nil},
		{phone, "+123456", "", domain.ErrPhoneInvalid},
		{phone, "+1234567890123456", "", domain.ErrPhoneInvalid},
		{phone, "+0123456789", "", domain.ErrPhoneInvalid},
		{phone, "+7999abc4567", "", domain.ErrPhoneInvalid},
		{timezone, "America/Argentina/Buenos_Aires", "America/Argentina/Buenos_Aires", nil},
		{timezone, "", "", domain.ErrTimezoneInvalid},
		{timezone, "UTC", "UTC", nil},
		{timezone, "Etc/GMT+5", "Etc/GMT+5", nil},
		// Names time.LoadLocation finds only among the host's files, and the placeholder zone.
		{timezone, "Local", "", domain.ErrTimezoneInvalid},
		{timezone, "localtime", "", domain.ErrTimezoneInvalid},
		{timezone, "posixrules", "", domain.ErrTimezoneInvalid},
		{timezone, "posix/Europe/Berlin", "", domain.ErrTimezoneInvalid},
		{timezone, "right/UTC", "", domain.ErrTimezoneInvalid},
		{timezone, "Factory", "", domain.ErrTimezoneInvalid},
		{timezone, "../../etc/passwd", "", domain.ErrTimezoneInvalid},
		{experience, "10+", "10+", nil},
		{experience, "0-1", "0-1", nil},
		{experience, "10", "", domain.ErrExperienceInvalid},
		{role, "interviewer", "interviewer", nil},
		{role, "admin", "", domain.ErrInterviewRoleInvalid},
		{profession, "machine-learning-engineer", "machine-learning-engineer", nil},
		{profession, "frontend", "", domain.ErrProfessionUnknown},
	}
	for _, tt := range tests {
		got, err := tt.parse(tt.in)
		if !errors.Is(err, tt.err) || got != tt.want {
			t.Errorf("parse(%q) = %q, %v; want %q, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func toString(v any) string {
	switch v := v.(type) {
	case domain.Language:
		return string(v)
	case domain.Country:
		return string(v)
	case domain.Email:
		return string(v)
	case domain.Phone:
		return string(v)
	case domain.Timezone:
		return string(v)
	case domain.Experience:
		return string(v)
	case domain.InterviewRole:
		return string(v)
	case domain.Profession:
		return string(v)
	}
	panic("unexpected type")
}

func TestErrorsCarryCodeAndKind(t *testing.T) {
	t.Parallel()
	_, tooShort := domain.NewWindow(clock("10:00"), clock("10:30"), now, hr) // wrapped with details
	tests := []struct {
		err  error
		code string
		kind domain.Kind
	}{
		{tooShort, "queue-window-too-short", domain.KindInvalid},
		{domain.ErrQueueWindowOverlaps, "queue-window-overlaps", domain.KindConflict},
		{domain.ErrQueueTooManyEntries, "queue-too-many-entries", domain.KindConflict},
		{domain.ErrInterviewNotParticipant, "interview-not-participant", domain.KindForbidden},
		{domain.ErrFeedbackAlreadyGiven, "feedback-already-given", domain.KindConflict},
		{domain.ErrInterviewNotFound, "interview-not-found", domain.KindNotFound},
	}
	for _, tt := range tests {
		var de *domain.Error
		if !errors.As(tt.err, &de) || de.Code() != tt.code || de.Kind() != tt.kind {
			t.Errorf("%v: not a domain error with code %q and kind %q", tt.err, tt.code, tt.kind)
		}
	}
	if !errors.Is(tooShort, domain.ErrQueueWindowTooShort) || tooShort.Error() == domain.ErrQueueWindowTooShort.Error() {
		t.Errorf("wrapped error %q lost its sentinel or its details", tooShort)
	}
}

package domain

import (
	"fmt"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"
)

// Experience is a bucket of years of professional experience.
type Experience string

const (
	Experience0to1  Experience = "0-1"
	Experience1to3  Experience = "1-3"
	Experience3to5  Experience = "3-5"
	Experience5to10 Experience = "5-10"
	Experience10up  Experience = "10+"
)

func ParseExperience(s string) (Experience, error) {
	if e := Experience(strings.TrimSpace(s)); slices.Contains(experiences, e) {
		return e, nil
	}
	return "", fmt.Errorf("%w: %q", ErrExperienceInvalid, s)
}

// Email is a bare address (no display name) with a dotted domain, domain lower case.
type Email string

func ParseEmail(s string) (Email, error) {
	s, err := parseText("email", s, false)
	if err != nil {
		return "", err
	}
	addr, err := mail.ParseAddress(s)
	// net/mail accepts "Name <a@b>" and dotless hosts; a form field wants neither.
	if err != nil || addr.Address != s || len(s) > 254 {
		return "", fmt.Errorf("%w: %q", ErrEmailInvalid, s)
	}
	at := strings.LastIndexByte(s, '@')
	local, domain := s[:at], strings.ToLower(s[at+1:])
	if local == "" || !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") ||
		strings.HasSuffix(domain, ".") || strings.ContainsAny(domain, " []") {
		return "", fmt.Errorf("%w: %q", ErrEmailInvalid, s)
	}
	return Email(local + "@" + domain), nil
}

// Phone is E.164-like: "+" and 7 to 15 digits. Spaces, dashes, dots and brackets
// people type are dropped.
type Phone string

func ParsePhone(s string) (Phone, error) {
	typed, err := parseText("phone", s, false)
	if err != nil {
		return "", err
	}
	digits := strings.Map(func(r rune) rune {
		if strings.ContainsRune(" -().", r) {
			return -1
		}
		return r
	}, typed)
	if !strings.HasPrefix(digits, "+") {
		return "", fmt.Errorf("%w: %q", ErrPhoneInvalid, s)
	}
	digits = digits[1:]
	if len(digits) < 7 || len(digits) > 15 || digits[0] == '0' {
		return "", fmt.Errorf("%w: %q", ErrPhoneInvalid, s)
	}
	for _, r := range digits {
		if r < '0' || r > '9' {
			return "", fmt.Errorf("%w: %q", ErrPhoneInvalid, s)
		}
	}
	return Phone("+" + digits), nil
}

// MaxTools and MaxToolLength bound the form's tools.
const (
	MaxTools      = 30
	MaxToolLength = 50
)

// parseTools trims, drops blanks and case-insensitive duplicates, keeping first spelling.
func parseTools(in []string) ([]string, error) {
	seen := make(map[string]bool)
	out := []string{}
	for _, t := range in {
		t, err := parseText("tools", t, false)
		if err != nil {
			return nil, err
		}
		if t == "" || seen[strings.ToLower(t)] {
			continue
		}
		if utf8.RuneCountInString(t) > MaxToolLength {
			return nil, fmt.Errorf("%w: %q is too long", ErrToolsInvalid, t)
		}
		seen[strings.ToLower(t)] = true
		out = append(out, t)
	}
	if len(out) > MaxTools {
		return nil, fmt.Errorf("%w: %d tools", ErrToolsInvalid, len(out))
	}
	return out, nil
}

// FormInput is the questionnaire as a client sends it; Email and Phone may be empty.
type FormInput struct {
	Profession string
	Country    string
	Experience string
	Language   string
	Email      string
	Phone      string
	Tools      []string
}

// FormData is a validated questionnaire, as the user aggregate holds it.
type FormData struct {
	Profession Profession
	Country    Country
	Experience Experience
	Language   Language
	Email      Email // empty when not given
	Phone      Phone // empty when not given
	Tools      []string
}

// ParseForm validates every field and reports every one that is wrong.
func ParseForm(in FormInput) (FormData, error) {
	var (
		f   FormData
		c   checks
		err error
	)
	f.Profession, err = ParseProfession(in.Profession)
	c.check("profession", err)
	f.Country, err = ParseCountry(in.Country)
	c.check("country", err)
	f.Experience, err = ParseExperience(in.Experience)
	c.check("experience", err)
	f.Language, err = ParseLanguage(in.Language)
	c.check("language", err)
	if strings.TrimSpace(in.Email) != "" {
		f.Email, err = ParseEmail(in.Email)
		c.check("email", err)
	}
	if strings.TrimSpace(in.Phone) != "" {
		f.Phone, err = ParsePhone(in.Phone)
		c.check("phone", err)
	}
	f.Tools, err = parseTools(in.Tools)
	c.check("tools", err)
	if err := c.err(); err != nil {
		return FormData{}, err
	}
	return f, nil
}

func (f FormData) equal(o FormData) bool {
	if f.Profession != o.Profession || f.Country != o.Country || f.Experience != o.Experience ||
		f.Language != o.Language || f.Email != o.Email || f.Phone != o.Phone || len(f.Tools) != len(o.Tools) {
		return false
	}
	for i := range f.Tools {
		if f.Tools[i] != o.Tools[i] {
			return false
		}
	}
	return true
}

// MaxNameLength bounds a first or last name, in characters.
const MaxNameLength = 64

// TelegramIdentity is who logged in through Telegram (widget, WebApp or dev login).
// Its text is cleaned, never refused: Telegram signed it and the user cannot retype it,
// so an odd character in a name must not stop a login.
type TelegramIdentity struct {
	id        int64
	username  string
	firstName string
	lastName  string
	photoURL  string
}

func NewTelegramIdentity(id int64, username, firstName, lastName, photoURL string) (TelegramIdentity, error) {
	t := TelegramIdentity{
		id:        id,
		username:  strings.TrimPrefix(CleanText(username, false), "@"),
		firstName: CleanText(firstName, false),
		lastName:  CleanText(lastName, false),
		photoURL:  CleanText(photoURL, false),
	}
	if id <= 0 {
		return TelegramIdentity{}, fmt.Errorf("%w: id %d", ErrTelegramIdentityInvalid, id)
	}
	for _, s := range []string{t.username, t.firstName, t.lastName} {
		if utf8.RuneCountInString(s) > MaxNameLength {
			return TelegramIdentity{}, fmt.Errorf("%w: %q is too long", ErrTelegramIdentityInvalid, s)
		}
	}
	if t.photoURL != "" {
		u, err := url.Parse(t.photoURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(t.photoURL) > 2048 {
			return TelegramIdentity{}, fmt.Errorf("%w: photo url", ErrTelegramIdentityInvalid)
		}
	}
	return t, nil
}

func (t TelegramIdentity) ID() int64         { return t.id }
func (t TelegramIdentity) Username() string  { return t.username }
func (t TelegramIdentity) FirstName() string { return t.firstName }
func (t TelegramIdentity) LastName() string  { return t.lastName }
func (t TelegramIdentity) PhotoURL() string  { return t.photoURL }

// parseName checks, trims and bounds a profile name; field names it in errors.
func parseName(field, s string, required bool) (string, error) {
	s, err := parseText(field, s, false)
	if err != nil {
		return "", err
	}
	if (required && s == "") || utf8.RuneCountInString(s) > MaxNameLength {
		return "", ErrProfileNameInvalid
	}
	return s, nil
}

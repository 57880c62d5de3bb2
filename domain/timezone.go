package domain

import (
	_ "embed"
	"fmt"
	"strings"
	"time"
	_ "time/tzdata" // zones load the same on every host, with or without tzdata
)

// Timezone is an IANA zone name; times are stored in UTC and shown in it.
type Timezone string

// DefaultTimezone is what users have until they choose, as the current service assumes.
const DefaultTimezone Timezone = "Europe/Moscow"

// timezoneNames lists the zones of the IANA database time/tzdata embeds, written by
// timezones_gen.go. A name must be on it: time.LoadLocation also opens the host's files
// ("localtime", "posixrules", "posix/…", "right/…"), which are nobody's zone.
//
//go:generate go run timezones_gen.go
//go:embed timezones.txt
var timezoneNames string

var timezones = func() map[string]bool {
	m := make(map[string]bool)
	for _, name := range strings.Fields(timezoneNames) {
		m[name] = true
	}
	// "Factory" is the database's placeholder for "zone not set" (abbreviated -00).
	delete(m, "Factory")
	return m
}()

func ParseTimezone(s string) (Timezone, error) {
	name := strings.TrimSpace(s)
	if !timezones[name] {
		return "", fmt.Errorf("%w: %q", ErrTimezoneInvalid, s)
	}
	if _, err := time.LoadLocation(name); err != nil {
		return "", fmt.Errorf("%w: %q", ErrTimezoneInvalid, s)
	}
	return Timezone(name), nil
}

// Location is the zone to show times in; UTC for a value that did not come from Parse
// (an older version of the code let host-only names into the log).
func (tz Timezone) Location() *time.Location {
	if !timezones[string(tz)] {
		return time.UTC
	}
	loc, err := time.LoadLocation(string(tz))
	if err != nil {
		return time.UTC
	}
	return loc
}

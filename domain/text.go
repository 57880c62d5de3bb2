package domain

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Text a person types (names, tools, skills, reasons, comments, email, phone) is valid
// UTF-8 without control characters or bidirectional overrides and isolates (DESIGN
// §8): a NUL cannot be stored in PostgreSQL text, other controls and invisible
// direction changes make one name look like another or reorder what others read.

// textRule says whether r may stand in text; newlines says whether \n may.
func textRule(r rune, newlines bool) bool {
	switch {
	case r == '\n':
		return newlines
	case r < 0x20, r >= 0x7f && r <= 0x9f: // C0, DEL, C1
		return false
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069: // embeddings, overrides, isolates
		return false
	}
	// U+FFFD is what a JSON decoder puts for bytes that are not UTF-8.
	return r != utf8.RuneError
}

// parseText checks one field of free text and trims it; field names it in the error.
func parseText(field, s string, newlines bool) (string, error) {
	if !utf8.ValidString(s) {
		return "", fmt.Errorf("%s %w", field, ErrTextInvalid)
	}
	for _, r := range s {
		if !textRule(r, newlines) {
			return "", fmt.Errorf("%s %w (U+%04X)", field, ErrTextInvalid, r)
		}
	}
	return strings.TrimSpace(s), nil
}

// CleanText drops from s what free text may not hold (bytes that are not UTF-8
// included; \n too unless newlines) and trims it. It is for text nobody can retype:
// fields Telegram signs, and what the log holds from an older version of the code.
func CleanText(s string, newlines bool) string {
	if plainASCII(s, newlines) {
		return strings.TrimSpace(s)
	}
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if textRule(r, newlines) {
			return r
		}
		return -1
	}, s))
}

// plainASCII is the common case CleanText need not decode: printable ASCII only.
func plainASCII(s string, newlines bool) bool {
	for i := range len(s) {
		if b := s[i]; (b < 0x20 || b >= 0x7f) && !(b == '\n' && newlines) {
			return false
		}
	}
	return true
}

package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

var (
	// ErrHashInvalid is a payload whose hash does not match: forged or tampered with.
	ErrHashInvalid = errors.New("telegram hash does not match the data")
	// ErrAuthDateStale is a payload older than its bound, or dated in the future.
	ErrAuthDateStale = errors.New("telegram auth_date is too old or in the future")
)

// FieldError is a payload that lacks a field or has one of the wrong shape.
type FieldError struct {
	Field  string
	Reason string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

const (
	// WebAppMaxAge is how old a WebApp's initData may be: Telegram signs it once when
	// the app opens, and a user keeps the app open for long.
	WebAppMaxAge = 24 * time.Hour
	// clockSkew tolerates a Telegram clock slightly ahead of ours.
	clockSkew = time.Minute
)

// widgetFields are the fields Telegram's Login Widget signs; anything else in a payload
// is refused, so no field of the data check string can be smuggled in or re-split.
var widgetFields = map[string]bool{
	"id": true, "first_name": true, "last_name": true, "username": true, "photo_url": true, "auth_date": true, "hash": true,
}

// Identity is the Telegram user a verified payload speaks for.
type Identity struct {
	ID        int64  `json:"id"`
	Username  string `json:"username"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	PhotoURL  string `json:"photo_url"`
}

// VerifyWidget checks the fields a Telegram Login Widget handed the browser: only the
// widget's own fields, none holding a newline (the data check string's separator), the
// hash HMAC-SHA256 of the data check string under SHA256(bot token), and auth_date at
// most maxAge old.
func VerifyWidget(fields map[string]string, botToken string, now time.Time, maxAge time.Duration) (Identity, error) {
	for k, v := range fields {
		if !widgetFields[k] {
			return Identity{}, &FieldError{Field: k, Reason: "is not a field of the Telegram Login Widget"}
		}
		if strings.ContainsAny(v, "\r\n") {
			return Identity{}, &FieldError{Field: k, Reason: "must not contain a line break"}
		}
	}
	secret := sha256.Sum256([]byte(botToken))
	if err := verify(fields, secret[:], now, maxAge); err != nil {
		return Identity{}, err
	}
	id, err := strconv.ParseInt(fields["id"], 10, 64)
	if err != nil || id <= 0 {
		return Identity{}, &FieldError{Field: "id", Reason: "must be a positive Telegram user id"}
	}
	return Identity{ID: id, Username: fields["username"], FirstName: fields["first_name"],
		LastName: fields["last_name"], PhotoURL: fields["photo_url"]}, nil
}

// VerifyWebApp checks a Telegram WebApp's raw initData (a URL query): the hash is
// HMAC-SHA256 of the data check string under HMAC-SHA256("WebAppData", bot token).
// The user is the JSON of its user field.
func VerifyWebApp(initData, botToken string, now time.Time) (Identity, error) {
	query, err := url.ParseQuery(initData)
	if err != nil {
		return Identity{}, &FieldError{Field: "init_data", Reason: "is not a URL query"}
	}
	fields := make(map[string]string, len(query))
	for k, v := range query {
		if len(v) != 1 {
			return Identity{}, &FieldError{Field: "init_data", Reason: fmt.Sprintf("field %q is repeated", k)}
		}
		fields[k] = v[0]
	}
	if err := verify(fields, mac([]byte("WebAppData"), botToken), now, WebAppMaxAge); err != nil {
		return Identity{}, err
	}
	var who Identity
	if err := json.Unmarshal([]byte(fields["user"]), &who); err != nil || who.ID <= 0 {
		return Identity{}, &FieldError{Field: "user", Reason: "must be a JSON object with a positive id"}
	}
	return who, nil
}

// verify checks the hash over every field but hash, then that auth_date is at most
// maxAge old.
func verify(fields map[string]string, secret []byte, now time.Time, maxAge time.Duration) error {
	hash, ok := fields["hash"]
	if !ok || hash == "" {
		return &FieldError{Field: "hash", Reason: "is required"}
	}
	authDate, ok := fields["auth_date"]
	if !ok {
		return &FieldError{Field: "auth_date", Reason: "is required"}
	}
	got, err := hex.DecodeString(hash)
	if err != nil || !hmac.Equal(got, mac(secret, DataCheckString(fields))) {
		return ErrHashInvalid
	}
	unix, err := strconv.ParseInt(authDate, 10, 64)
	if err != nil {
		return &FieldError{Field: "auth_date", Reason: "must be a Unix time"}
	}
	at := time.Unix(unix, 0)
	if now.Sub(at) > maxAge || at.Sub(now) > clockSkew {
		return ErrAuthDateStale
	}
	return nil
}

// DataCheckString is Telegram's data check string: every field but hash as key=value,
// sorted by key, joined by newlines.
func DataCheckString(fields map[string]string) string {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		if k != "hash" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(k + "=" + fields[k])
	}
	return b.String()
}

// SignWidget computes the hash a Login Widget payload would carry; tests and tools
// use it to make payloads Telegram would have signed.
func SignWidget(fields map[string]string, botToken string) string {
	secret := sha256.Sum256([]byte(botToken))
	return hex.EncodeToString(mac(secret[:], DataCheckString(fields)))
}

// SignWebApp returns initData with the hash Telegram would have added.
func SignWebApp(fields map[string]string, botToken string) string {
	q := url.Values{}
	for k, v := range fields {
		q.Set(k, v)
	}
	q.Set("hash", hex.EncodeToString(mac(mac([]byte("WebAppData"), botToken), DataCheckString(fields))))
	return q.Encode()
}

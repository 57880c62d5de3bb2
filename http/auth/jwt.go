// Package auth verifies who is calling: Telegram's Login Widget and WebApp payloads,
// and the engine's own session tokens (JWT, HS256).
package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

var (
	// ErrTokenInvalid is a token that is malformed, signed with another key or another
	// algorithm, or whose claims make no sense.
	ErrTokenInvalid = errors.New("session token is invalid")
	// ErrTokenExpired is a well-signed token past its expiry.
	ErrTokenExpired = errors.New("session token has expired")
)

// Issuer and Audience are what every session token names and must name: a token
// another service signs with a shared key is not a session of this API.
const (
	Issuer   = "supermock"
	Audience = "supermock-api"
)

// Claims are what a session token says: jti identifies the session (logout ends it),
// sub is the user id, tg the Telegram id and adm whether the user was an admin at login
// (the API checks the admin list anew).
type Claims struct {
	ID         string `json:"jti"`
	Issuer     string `json:"iss"`
	Audience   string `json:"aud"`
	Subject    string `json:"sub"`
	TelegramID int64  `json:"tg"`
	Admin      bool   `json:"adm"`
	IssuedAt   int64  `json:"iat"`
	ExpiresAt  int64  `json:"exp"`
}

type header struct {
	Alg string `json:"alg"`
	Typ string `json:"typ"`
}

// The header is always the same, so its encoding is computed once.
var encodedHeader = encode(mustJSON(header{Alg: "HS256", Typ: "JWT"}))

// Sign issues a token for the claims, valid from now for ttl, under a fresh session id.
func Sign(secret []byte, c Claims, now time.Time, ttl time.Duration) string {
	c.ID, c.Issuer, c.Audience = rand.Text(), Issuer, Audience
	c.IssuedAt, c.ExpiresAt = now.Unix(), now.Add(ttl).Unix()
	signing := encodedHeader + "." + encode(mustJSON(c))
	return signing + "." + encode(mac(secret, signing))
}

// Parse checks a token's algorithm, signature (in constant time) under any of secrets
// (the current one first, then the one it replaced), issuer, audience and expiry.
func Parse(secrets [][]byte, token string, now time.Time) (Claims, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return Claims{}, ErrTokenInvalid
	}
	rawHeader, err1 := decode(parts[0])
	rawClaims, err2 := decode(parts[1])
	sig, err3 := decode(parts[2])
	if err := errors.Join(err1, err2, err3); err != nil {
		return Claims{}, ErrTokenInvalid
	}
	var h header
	// alg is checked before the signature: "none" or RS256 never reach the HMAC.
	if json.Unmarshal(rawHeader, &h) != nil || h.Alg != "HS256" {
		return Claims{}, ErrTokenInvalid
	}
	signed := false
	for _, secret := range secrets {
		signed = signed || hmac.Equal(sig, mac(secret, parts[0]+"."+parts[1]))
	}
	if !signed {
		return Claims{}, ErrTokenInvalid
	}
	var c Claims
	if json.Unmarshal(rawClaims, &c) != nil || c.ID == "" || c.Subject == "" || c.ExpiresAt == 0 ||
		c.Issuer != Issuer || c.Audience != Audience {
		return Claims{}, ErrTokenInvalid
	}
	if now.Unix() >= c.ExpiresAt {
		return Claims{}, ErrTokenExpired
	}
	return c, nil
}

func mac(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

func encode(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func decode(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // the types above always marshal
	}
	return b
}

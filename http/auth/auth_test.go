package auth_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/supermock/engine/http/auth"
)

const botToken = "123456:TEST-bot-token"

var now = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func TestJWT(t *testing.T) {
	t.Parallel()
	secret := []byte(strings.Repeat("k", 32))
	token := auth.Sign(secret, auth.Claims{Subject: "u1", TelegramID: 42, Admin: true}, now, time.Hour)
	c, err := auth.Parse([][]byte{secret}, token, now.Add(59*time.Minute))
	if err != nil || c.Subject != "u1" || c.TelegramID != 42 || !c.Admin || c.ExpiresAt != now.Add(time.Hour).Unix() ||
		c.Issuer != auth.Issuer || c.Audience != auth.Audience || len(c.ID) < 20 {
		t.Fatalf("parse: %+v %v", c, err)
	}
	if again, _ := auth.Parse([][]byte{secret}, auth.Sign(secret, auth.Claims{Subject: "u1"}, now, time.Hour), now); again.ID == c.ID {
		t.Fatal("two sessions share a token id")
	}
	// A rotation: the secret JWT_SECRET replaced still checks, second in line.
	previous := []byte(strings.Repeat("p", 32))
	if _, err := auth.Parse([][]byte{secret, previous}, auth.Sign(previous, auth.Claims{Subject: "u1"}, now, time.Hour), now); err != nil {
		t.Fatalf("a token of the previous secret: %v", err)
	}
	// Tokens that name another issuer or audience, well signed with our key.
	foreign := func(claims string) string {
		signing := strings.Split(token, ".")[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(claims))
		m := hmac.New(sha256.New, secret)
		m.Write([]byte(signing))
		return signing + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	}
	parts := strings.Split(token, ".")
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
	forgedClaims := base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"u2","tg":1,"adm":true,"iat":1,"exp":9999999999}`))
	cases := []struct {
		name  string
		token string
		at    time.Time
		want  error
	}{
		{"expired", token, now.Add(time.Hour), auth.ErrTokenExpired},
		{"other key", auth.Sign([]byte("another key of 32 bytes or more!!"), auth.Claims{Subject: "u1"}, now, time.Hour), now, auth.ErrTokenInvalid},
		{"claims swapped", parts[0] + "." + forgedClaims + "." + parts[2], now, auth.ErrTokenInvalid},
		{"alg none", none + "." + parts[1] + ".", now, auth.ErrTokenInvalid},
		{"alg none with signature", none + "." + parts[1] + "." + parts[2], now, auth.ErrTokenInvalid},
		{"garbage", "not-a-token", now, auth.ErrTokenInvalid},
		{"another issuer", foreign(`{"jti":"x","iss":"other","aud":"supermock-api","sub":"u1","exp":9999999999}`), now, auth.ErrTokenInvalid},
		{"another audience", foreign(`{"jti":"x","iss":"supermock","aud":"other-api","sub":"u1","exp":9999999999}`), now, auth.ErrTokenInvalid},
		{"no issuer or audience", foreign(`{"jti":"x","sub":"u1","exp":9999999999}`), now, auth.ErrTokenInvalid},
		{"no token id", foreign(`{"iss":"supermock","aud":"supermock-api","sub":"u1","exp":9999999999}`), now, auth.ErrTokenInvalid},
		{"well formed", foreign(`{"jti":"x","iss":"supermock","aud":"supermock-api","sub":"u1","exp":9999999999}`), now, nil},
		{"empty", "", now, auth.ErrTokenInvalid},
	}
	for _, tc := range cases {
		if _, err := auth.Parse([][]byte{secret}, tc.token, tc.at); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

func widgetFields(at time.Time) map[string]string {
	f := map[string]string{"id": "777", "first_name": "Ada", "username": "ada", "auth_date": strconv.FormatInt(at.Unix(), 10)}
	f["hash"] = auth.SignWidget(f, botToken)
	return f
}

func TestWidget(t *testing.T) {
	t.Parallel()
	f := widgetFields(now.Add(-time.Hour))
	// The hash, computed here independently of the package: HMAC(SHA256(token), dcs).
	key := sha256.Sum256([]byte(botToken))
	m := hmac.New(sha256.New, key[:])
	m.Write([]byte("auth_date=" + f["auth_date"] + "\nfirst_name=Ada\nid=777\nusername=ada"))
	if hex.EncodeToString(m.Sum(nil)) != f["hash"] {
		t.Fatal("SignWidget disagrees with Telegram's algorithm")
	}
	who, err := auth.VerifyWidget(f, botToken, now, 2*time.Hour)
	if err != nil || who.ID != 777 || who.Username != "ada" || who.FirstName != "Ada" {
		t.Fatalf("valid payload: %+v %v", who, err)
	}
	tampered := widgetFields(now.Add(-time.Hour))
	tampered["id"] = "778"
	extra := widgetFields(now.Add(-time.Hour))
	extra["last_name"] = "Lovelace"
	noHash := widgetFields(now)
	delete(noHash, "hash")
	cases := []struct {
		name   string
		fields map[string]string
		token  string
		want   error
	}{
		{"tampered id", tampered, botToken, auth.ErrHashInvalid},
		{"added field", extra, botToken, auth.ErrHashInvalid},
		{"other bot", widgetFields(now), "999:other", auth.ErrHashInvalid},
		{"stale", widgetFields(now.Add(-2*time.Hour - time.Second)), botToken, auth.ErrAuthDateStale},
		{"future", widgetFields(now.Add(2 * time.Minute)), botToken, auth.ErrAuthDateStale},
	}
	for _, tc := range cases {
		if _, err := auth.VerifyWidget(tc.fields, tc.token, now, 2*time.Hour); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	var fe *auth.FieldError
	if _, err := auth.VerifyWidget(noHash, botToken, now, 2*time.Hour); !errors.As(err, &fe) || fe.Field != "hash" {
		t.Errorf("no hash: %v", err)
	}
}

func TestWebApp(t *testing.T) {
	t.Parallel()
	fields := map[string]string{"user": `{"id":555,"first_name":"Grace","username":"grace"}`,
		"auth_date": strconv.FormatInt(now.Add(-time.Minute).Unix(), 10), "query_id": "AAE"}
	initData := auth.SignWebApp(fields, botToken)
	who, err := auth.VerifyWebApp(initData, botToken, now)
	if err != nil || who.ID != 555 || who.Username != "grace" {
		t.Fatalf("valid init data: %+v %v", who, err)
	}
	if _, err := auth.VerifyWebApp(strings.Replace(initData, "555", "556", 1), botToken, now); !errors.Is(err, auth.ErrHashInvalid) {
		t.Errorf("tampered user: %v", err)
	}
	// A widget hash is not a WebApp hash: the keys differ.
	widgetHash := auth.SignWidget(fields, botToken)
	if _, err := auth.VerifyWebApp(strings.Split(initData, "hash=")[0]+"hash="+widgetHash, botToken, now); !errors.Is(err, auth.ErrHashInvalid) {
		t.Errorf("widget key used for WebApp: %v", err)
	}
	if _, err := auth.VerifyWebApp(initData, botToken, now.Add(auth.WebAppMaxAge+time.Hour)); !errors.Is(err, auth.ErrAuthDateStale) {
		t.Errorf("stale: %v", err)
	}
}

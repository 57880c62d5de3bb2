package http_test

import (
	"strings"
	"testing"
	"time"

	"github.com/supermock/engine/http/auth"
	"github.com/supermock/engine/internal/config"
)

// signedWidget is a widget payload over exactly the fields given, signed with the bot's
// token as Telegram would sign it: the verifier must judge the fields, not the hash.
func signedWidget(fields map[string]string) map[string]any {
	out := make(map[string]any, len(fields)+1)
	for k, v := range fields {
		out[k] = v
	}
	out["hash"] = auth.SignWidget(fields, botToken)
	return out
}

func TestWidgetTakesOnlyItsOwnFieldsWithoutLineBreaks(t *testing.T) {
	t.Parallel()
	e := start(t, options{})
	now := itoa(time.Now().Unix())
	cases := []struct {
		name   string
		fields map[string]string
		field  string
	}{
		{"a field the widget never sends", map[string]string{"id": "3101", "first_name": "Eve", "auth_date": now, "role": "admin"}, "role"},
		{"a key holding = and a newline", map[string]string{"id": "3102", "auth_date": now, "first_name": "Eve", "x\nid=1": "y"}, "x\nid=1"},
		{"a value holding a newline", map[string]string{"id": "3103", "auth_date": now, "first_name": "Eve\nusername=root"}, "first_name"},
		{"a value holding a carriage return", map[string]string{"id": "3104", "auth_date": now, "last_name": "Eve\r"}, "last_name"},
	}
	for _, tc := range cases {
		before := e.events()
		r := e.call("POST", "/api/auth/telegram", "", signedWidget(tc.fields))
		wantError(t, r, 400, "invalid-request")
		var a errorAnswer
		r.json(t, &a)
		if !strings.HasPrefix(a.Error.Message, tc.field+": ") {
			t.Errorf("%s: the refusal names nothing: %s", tc.name, r)
		}
		if e.events() != before {
			t.Errorf("%s: the log grew", tc.name)
		}
	}
	// Every field the widget does send is still taken.
	all := map[string]string{"id": "3105", "first_name": "Ada", "last_name": "Lovelace", "username": "ada",
		"photo_url": "https://t.me/i/userpic/320/ada.jpg", "auth_date": now}
	wantStatus(t, e.call("POST", "/api/auth/telegram", "", signedWidget(all)), 201)
}

func TestWidgetPayloadAgeIsBoundedByTelegramAuthMaxAge(t *testing.T) {
	t.Parallel()
	byDefault := start(t, options{})
	longer := start(t, options{config: func(c *config.Config) { c.TelegramAuthMaxAge = 3 * time.Hour }})
	twoHoursAgo := time.Now().Add(-2 * time.Hour)

	// A widget payload leaked two hours ago no longer logs anyone in by default.
	wantError(t, byDefault.call("POST", "/api/auth/telegram", "", widgetFields(3201, "late", twoHoursAgo)), 401, "telegram-auth-expired")
	wantStatus(t, byDefault.call("POST", "/api/auth/telegram", "", widgetFields(3202, "fresh", time.Now().Add(-50*time.Minute))), 201)
	wantStatus(t, longer.call("POST", "/api/auth/telegram", "", widgetFields(3203, "late", twoHoursAgo)), 201)

	// The WebApp keeps its 24 hours: Telegram signs initData once, when the app opens.
	webApp := func(tgID int64, at time.Time) map[string]string {
		return map[string]string{"init_data": auth.SignWebApp(map[string]string{
			"user": `{"id":` + itoa(tgID) + `,"first_name":"Web"}`, "auth_date": itoa(at.Unix())}, botToken)}
	}
	wantStatus(t, byDefault.call("POST", "/api/auth/webapp", "", webApp(3204, twoHoursAgo)), 201)
	wantStatus(t, byDefault.call("POST", "/api/auth/webapp", "", webApp(3205, time.Now().Add(-23*time.Hour))), 201)
	wantError(t, byDefault.call("POST", "/api/auth/webapp", "", webApp(3206, time.Now().Add(-25*time.Hour))), 401, "telegram-auth-expired")
}

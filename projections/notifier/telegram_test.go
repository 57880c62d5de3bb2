package notifier

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestTelegramClientTellsOutcomesApart(t *testing.T) {
	t.Parallel()
	fake := newFakeTelegram(t)
	fake.setScript(func(r received, _ int) reply {
		switch r.ChatID {
		case 2:
			return tooManyRequests(3)
		case 3:
			return reply{hangUp: true}
		case 4:
			return reply{status: 502, body: "<html>Bad Gateway</html>"}
		case 5:
			return blockedByUser()
		}
		return reply{}
	})
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	client := &http.Client{Timeout: 2 * time.Second}
	ctx := context.Background()

	if id, err := NewTelegram(fake.srv.URL, testToken, client).SendMessage(ctx, 1, "hi"); err != nil || id == 0 {
		t.Errorf("success: id %d, %v", id, err)
	}
	for _, c := range []struct {
		name   string
		base   string
		chat   int64
		code   int
		wait   time.Duration
		target error
	}{
		{"429 carries retry_after", fake.srv.URL, 2, 429, 3 * time.Second, nil},
		{"a proxy's 502 page is a refusal", fake.srv.URL, 4, 502, 0, nil},
		{"403 is a refusal", fake.srv.URL, 5, 403, 0, nil},
		{"a hang-up after the request may have delivered it", fake.srv.URL, 3, 0, 0, ErrNoAnswer},
		{"a refused connection never sent it", gone.URL, 6, 0, 0, ErrNotSent},
		{"a wrong token is refused", fake.srv.URL + "/x", 7, 404, 0, nil},
	} {
		_, err := NewTelegram(c.base, testToken, client).SendMessage(ctx, c.chat, "hi")
		var refused *APIError
		switch {
		case err == nil:
			t.Errorf("%s: no error", c.name)
		case c.target != nil && !errors.Is(err, c.target):
			t.Errorf("%s: %v, want %v", c.name, err, c.target)
		case c.target == nil && (!errors.As(err, &refused) || refused.Code != c.code || refused.RetryAfter != c.wait):
			t.Errorf("%s: %#v, want code %d, retry after %v", c.name, err, c.code, c.wait)
		}
		if err != nil && strings.Contains(err.Error(), testToken) {
			t.Errorf("%s: the error shows the bot token: %v", c.name, err)
		}
	}
}

package http_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/google/uuid"
)

// 250 messages read through next, 7 a page: each once, newest first, ties in time
// ordered by id, the last page without next; a bad limit or cursor is refused.
func TestInboxPages(t *testing.T) {
	t.Parallel()
	e := start(t, options{consumers: true})
	l := e.loginDev(13001)
	base := time.Now().UTC().Truncate(time.Millisecond)
	const total = 250
	for i := range total {
		// Every third message shares its time with the one before it.
		at := base.Add(-time.Duration(i-i/3) * time.Second)
		if _, err := e.pool.Exec(context.Background(), `INSERT INTO notifications
			(notification_id, user_id, interview_id, kind, title, text, sent_at)
			VALUES ($1, $2, $3, 'interview-scheduled', 't', 'x', $4)`, uuid.New(), l.User.ID, uuid.New(), at); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	var last struct {
		at time.Time
		id string
	}
	after, pages := "", 0
	for {
		var page struct {
			Unread        int `json:"unread"`
			Notifications []struct {
				ID     string    `json:"id"`
				SentAt time.Time `json:"sent_at"`
			} `json:"notifications"`
			Next *string `json:"next"`
		}
		r := e.call("GET", "/api/notifications?limit=7&after="+url.QueryEscape(after), l.Token, nil)
		wantStatus(t, r, 200)
		r.json(t, &page)
		pages++
		if page.Unread != total || len(page.Notifications) > 7 || len(page.Notifications) == 0 {
			t.Fatalf("page %d: %d unread, %d messages", pages, page.Unread, len(page.Notifications))
		}
		for _, n := range page.Notifications {
			if seen[n.ID] {
				t.Fatalf("message %s came twice", n.ID)
			}
			seen[n.ID] = true
			if last.id != "" && (n.SentAt.After(last.at) || n.SentAt.Equal(last.at) && n.ID > last.id) {
				t.Fatalf("message %s at %s after %s at %s", n.ID, n.SentAt, last.id, last.at)
			}
			last.at, last.id = n.SentAt, n.ID
		}
		if page.Next == nil {
			break
		}
		after = *page.Next
	}
	if len(seen) != total || pages != (total+6)/7 {
		t.Fatalf("%d messages in %d pages", len(seen), pages)
	}
	for _, q := range []string{"limit=0", "limit=201", "limit=x"} {
		wantError(t, e.call("GET", "/api/notifications?"+q, l.Token, nil), 400, "invalid-request")
	}
	wantError(t, e.call("GET", "/api/notifications?after=bm90LWEtY3Vyc29y", l.Token, nil), 400, "bad-cursor")
}

// A known path asked with a method it does not take is 405 naming the methods it does;
// a query parameter the route does not take is 400 naming it.
func TestMethodsAndParametersOfARoute(t *testing.T) {
	t.Parallel()
	e := start(t, options{})
	l := e.loginDev(13002)
	r := e.call("PATCH", "/api/queue", l.Token, nil)
	wantError(t, r, 405, "method-not-allowed")
	if got := r.header.Get("Allow"); got != "GET, HEAD, POST, OPTIONS" {
		t.Fatalf("Allow: %q", got)
	}
	wantError(t, e.call("DELETE", "/api/interviews/"+uuid.NewString(), l.Token, nil), 405, "method-not-allowed")
	r = e.call("GET", "/api/queue?stauts=waiting", l.Token, nil)
	wantError(t, r, 400, "invalid-request")
	wantStatus(t, e.call("GET", "/api/queue?status=waiting", l.Token, nil), 200)
	wantError(t, e.call("GET", "/api/nothing", l.Token, nil), 404, "not-found")
}

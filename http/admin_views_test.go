package http_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/supermock/engine/internal/testdb"
)

type adminQueue struct {
	Groups []struct {
		Profession     string    `json:"profession"`
		Role           string    `json:"role"`
		Waiting        int       `json:"waiting"`
		OldestJoinedAt time.Time `json:"oldest_joined_at"`
	} `json:"groups"`
	Expiring []struct {
		ID        string    `json:"id"`
		Username  string    `json:"username"`
		ExpiresAt time.Time `json:"expires_at"`
	} `json:"expiring"`
	ExpiringTotal  int `json:"expiring_total"`
	MatchesPerHour []struct {
		Hour    time.Time `json:"hour"`
		Matches int       `json:"matches"`
	} `json:"matches_per_hour"`
}

type adminSchedule struct {
	ByStatus []struct {
		Status string `json:"status"`
		Count  int    `json:"count"`
	} `json:"by_status"`
	Interviews []struct {
		ID        string `json:"id"`
		Status    string `json:"status"`
		Candidate struct {
			Username string `json:"username"`
		} `json:"candidate"`
	} `json:"interviews"`
	Total   int `json:"total"`
	NoShows []struct {
		ID           string `json:"id"`
		AbsentUserID string `json:"absent_user_id"`
	} `json:"no_shows"`
}

// The console's views of the queue and the interviews: waiting entries by group with
// the oldest wait, the entries about to expire, matches per hour, interviews by
// status and the no-shows; users are refused.
func TestAdminQueueAndInterviews(t *testing.T) {
	t.Parallel()
	clock := testdb.NewClock(time.Now().UTC().Truncate(time.Minute))
	e := start(t, options{consumers: true, clock: clock})
	admin := e.loginDev(adminTG)
	cand, intv, soon, later := e.loginDev(9701), e.loginDev(9702), e.loginDev(9703), e.loginDev(9704)
	now := clock.Now()
	for _, path := range []string{"/api/admin/queue", "/api/admin/interviews"} {
		wantError(t, e.call("GET", path, cand.Token, nil), 403, "forbidden")
	}
	at := now.Add(48 * time.Hour).Truncate(time.Hour)
	e.command("POST", "/api/queue", cand.Token, window("candidate", "backend-developer", at, 2*time.Hour))
	e.command("POST", "/api/queue", intv.Token, window("interviewer", "backend-developer", at, 2*time.Hour))
	e.command("POST", "/api/queue", soon.Token, window("candidate", "qa-engineer", now, 90*time.Minute))
	e.command("POST", "/api/queue", later.Token, window("interviewer", "data-engineer", now.Add(72*time.Hour), 3*time.Hour))
	interview := e.interviewOf(cand.Token)

	var q adminQueue
	testdb.Eventually(t, 2*time.Minute, func() bool {
		r := e.call("GET", "/api/admin/queue?days=1", admin.Token, nil)
		wantStatus(t, r, 200)
		r.json(t, &q)
		return len(q.Groups) == 2
	})
	for _, g := range q.Groups {
		if g.Waiting != 1 || g.OldestJoinedAt.IsZero() || (g.Profession != "qa-engineer" && g.Profession != "data-engineer") {
			t.Errorf("waiting group %+v", g)
		}
	}
	if q.ExpiringTotal != 1 || len(q.Expiring) != 1 || q.Expiring[0].Username != "dev9703" ||
		!q.Expiring[0].ExpiresAt.Equal(now.Add(30*time.Minute)) {
		t.Errorf("expiring: %d %+v", q.ExpiringTotal, q.Expiring)
	}
	matches := 0
	for _, h := range q.MatchesPerHour {
		matches += h.Matches
		if h.Matches > 0 && !h.Hour.Equal(now.Truncate(time.Hour)) {
			t.Errorf("a match in the hour of %s, made at %s", h.Hour, now)
		}
	}
	if matches != 1 || len(q.MatchesPerHour) < 24 || len(q.MatchesPerHour) > 25 {
		t.Errorf("matches per hour of a day: %d in %d hours", matches, len(q.MatchesPerHour))
	}
	wantError(t, e.call("GET", "/api/admin/queue?days=0", admin.Token, nil), 400, "invalid-request")

	// The interviewer does not come.
	clock.Set(at.Add(15 * time.Minute))
	admin, cand = e.loginDev(adminTG), e.loginDev(9701) // the sessions last an hour
	e.command("POST", "/api/interviews/"+interview+"/no-show", cand.Token, nil)
	var s adminSchedule
	testdb.Eventually(t, 2*time.Minute, func() bool {
		r := e.call("GET", "/api/admin/interviews", admin.Token, nil)
		wantStatus(t, r, 200)
		r.json(t, &s)
		return len(s.NoShows) == 1
	})
	if s.Total != 1 || len(s.ByStatus) != 1 || s.ByStatus[0].Status != "no_show" || len(s.Interviews) != 1 ||
		s.Interviews[0].ID != interview || s.Interviews[0].Candidate.Username != "dev9701" ||
		s.NoShows[0].ID != interview || s.NoShows[0].AbsentUserID != intv.User.ID {
		t.Errorf("interviews of the day: %+v", s)
	}
	tomorrow := url.QueryEscape(clock.Now().Add(24 * time.Hour).Format(time.RFC3339))
	r := e.call("GET", "/api/admin/interviews?from="+tomorrow, admin.Token, nil)
	wantStatus(t, r, 200)
	r.json(t, &s)
	if s.Total != 0 || len(s.Interviews) != 0 || len(s.NoShows) != 1 {
		t.Errorf("interviews from tomorrow: %+v", s)
	}
	wantError(t, e.call("GET", "/api/admin/interviews?from="+tomorrow+"&until="+tomorrow, admin.Token, nil), 400, "invalid-request")
	wantError(t, e.call("GET", "/api/admin/interviews?from=today", admin.Token, nil), 400, "invalid-request")
}

// Failed and unknown deliveries are listed with Telegram's error and counted by kind.
func TestAdminNotificationsShowFailedDeliveries(t *testing.T) {
	t.Parallel()
	e := start(t, options{consumers: true})
	admin, user := e.loginDev(adminTG), e.loginDev(9801)
	wantError(t, e.call("GET", "/api/admin/notifications", user.Token, nil), 403, "forbidden")
	for _, row := range []struct{ kind, status, err string }{
		{"confirmed", "failed", "Forbidden: bot was blocked by the user"},
		{"reminder", "unknown", "the call did not answer"},
		{"confirmed", "sent", ""},
	} {
		if _, err := e.pool.Exec(context.Background(), `INSERT INTO notifier_outbox
			(notification_id, interview_id, user_id, kind, due_at, status, last_error) VALUES ($1, $2, $3, $4, now(), $5, NULLIF($6, ''))`,
			uuid.New(), uuid.New(), user.User.ID, row.kind, row.status, row.err); err != nil {
			t.Fatal(err)
		}
	}
	var got struct {
		ByKind []struct {
			Kind, Status string
			Count        int
		} `json:"by_kind"`
		Deliveries []struct {
			Kind      string `json:"kind"`
			Status    string `json:"status"`
			Username  string `json:"username"`
			LastError string `json:"last_error"`
		} `json:"deliveries"`
		Total int `json:"total"`
	}
	var r response
	testdb.Eventually(t, 2*time.Minute, func() bool { // the username comes from the users table
		r = e.call("GET", "/api/admin/notifications", admin.Token, nil)
		wantStatus(t, r, 200)
		r.json(t, &got)
		return len(got.Deliveries) > 0 && got.Deliveries[0].Username != ""
	})
	if got.Total != 2 || len(got.ByKind) != 2 || len(got.Deliveries) != 2 {
		t.Fatalf("failed and unknown: %s", r)
	}
	for _, d := range got.Deliveries {
		if d.Username != "dev9801" || d.LastError == "" || (d.Status == "failed") != (d.LastError == "Forbidden: bot was blocked by the user") {
			t.Errorf("delivery %+v", d)
		}
	}
	r = e.call("GET", "/api/admin/notifications?delivery=sent", admin.Token, nil)
	wantStatus(t, r, 200)
	r.json(t, &got)
	if got.Total != 1 || got.Deliveries[0].Status != "sent" {
		t.Errorf("sent: %s", r)
	}
	wantError(t, e.call("GET", "/api/admin/notifications?delivery=lost", admin.Token, nil), 400, "invalid-request")
}

// A user is found by Telegram id or by username, with their profile and streams.
func TestAdminFindsUsers(t *testing.T) {
	t.Parallel()
	e := start(t, options{consumers: true})
	admin, user := e.loginDev(adminTG), e.loginDev(9901)
	wantError(t, e.call("GET", "/api/admin/users?telegram_id=9901", user.Token, nil), 403, "forbidden")
	type found struct {
		Users []struct {
			Profile struct {
				ID         string `json:"id"`
				TelegramID int64  `json:"telegram_id"`
				Username   string `json:"username"`
			} `json:"profile"`
			Streams []string `json:"streams"`
		} `json:"users"`
	}
	var byID found
	testdb.Eventually(t, 2*time.Minute, func() bool {
		r := e.call("GET", "/api/admin/users?telegram_id=9901", admin.Token, nil)
		wantStatus(t, r, 200)
		r.json(t, &byID)
		return len(byID.Users) == 1
	})
	if u := byID.Users[0]; u.Profile.ID != user.User.ID || u.Profile.Username != "dev9901" ||
		len(u.Streams) != 2 || u.Streams[0] != "user-"+user.User.ID || u.Streams[1] != "telegram-9901" {
		t.Errorf("by Telegram id: %+v", byID)
	}
	for _, name := range []string{"dev9901", "@DEV9901"} {
		var byName found
		r := e.call("GET", "/api/admin/users?username="+url.QueryEscape(name), admin.Token, nil)
		wantStatus(t, r, 200)
		r.json(t, &byName)
		if len(byName.Users) != 1 || byName.Users[0].Profile.ID != user.User.ID {
			t.Errorf("by username %q: %s", name, r)
		}
	}
	if r := e.call("GET", "/api/admin/users?username=nobody", admin.Token, nil); r.status != 200 || string(r.body) != `{"users":[],"next":null}` {
		t.Errorf("nobody: %s", r)
	}
	wantError(t, e.call("GET", "/api/admin/users", admin.Token, nil), 400, "invalid-request")
	wantError(t, e.call("GET", "/api/admin/users?telegram_id=x", admin.Token, nil), 400, "invalid-request")
	// A Telegram id past 32 bits is an id like any other.
	if r := e.call("GET", "/api/admin/users?telegram_id=4930123456", admin.Token, nil); r.status != 200 || string(r.body) != `{"users":[],"next":null}` {
		t.Errorf("a 64-bit Telegram id: %s", r)
	}
	for _, bad := range []string{"%EE%A2f%F8", "dev%009901", "dev%E2%80%AE9901"} { // not UTF-8, a NUL, a bidi override
		wantError(t, e.call("GET", "/api/admin/users?username="+bad, admin.Token, nil), 400, "invalid-request")
	}
}

package http_test

import (
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// keyed is a row inserted for a paging test: its id and its sort key.
type keyed struct {
	id string
	at time.Time
}

// keyedRows are n rows with fresh ids, at(i) apart; every third shares the time of the
// one before it, so the id alone orders some.
func keyedRows(n int, at func(step int) time.Time) []keyed {
	rows := make([]keyed, n)
	for i := range rows {
		rows[i] = keyed{id: uuid.NewString(), at: at(i - i/3)}
	}
	return rows
}

// ordered is the ids of rows by (time, id), ascending or latest first, as a keyset
// page reads them.
func ordered(rows []keyed, latestFirst bool) []string {
	rows = slices.Clone(rows)
	slices.SortFunc(rows, func(a, b keyed) int {
		c := a.at.Compare(b.at)
		if c == 0 {
			c = strings.Compare(a.id, b.id)
		}
		if latestFirst {
			return -c
		}
		return c
	})
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.id
	}
	return ids
}

// readPages follows a list's cursor from its first page: path (with its own query)
// asked with limit and after=<cursor>, the rows in the field list, the cursor in the
// field next. It answers the ids in the order read and the number of pages; a page
// over the limit, an empty page before the last or a row read twice fails.
func readPages(t *testing.T, e *env, token, path string, limit int, list, next, after string, id func(json.RawMessage) string) ([]string, int) {
	t.Helper()
	var ids []string
	seen := map[string]bool{}
	cursor, pages := "", 0
	for {
		r := e.call("GET", path+"&limit="+strconv.Itoa(limit)+"&"+after+"="+url.QueryEscape(cursor), token, nil)
		wantStatus(t, r, 200)
		var page map[string]json.RawMessage
		r.json(t, &page)
		var rows []json.RawMessage
		if err := json.Unmarshal(page[list], &rows); err != nil {
			t.Fatalf("%s: %v in %s", list, err, r)
		}
		var nextCursor *string
		if err := json.Unmarshal(page[next], &nextCursor); err != nil {
			t.Fatalf("%s: %v in %s", next, err, r)
		}
		pages++
		if len(rows) > limit || (len(rows) == 0 && nextCursor != nil) {
			t.Fatalf("%s page %d: %d rows with the limit %d, next %v", path, pages, len(rows), limit, nextCursor)
		}
		for _, row := range rows {
			k := id(row)
			if seen[k] {
				t.Fatalf("%s: %s came twice, on page %d", path, k, pages)
			}
			seen[k] = true
			ids = append(ids, k)
		}
		if nextCursor == nil {
			return ids, pages
		}
		cursor = *nextCursor
	}
}

// idField reads a row's "id".
func idField(t *testing.T) func(json.RawMessage) string {
	return func(row json.RawMessage) string {
		var r struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(row, &r); err != nil || r.ID == "" {
			t.Fatalf("a row without an id: %s", row)
		}
		return r.ID
	}
}

// wantPages holds the ids read, and the number of pages, to those expected.
func wantPages(t *testing.T, what string, got []string, pages int, want []string, limit int) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s: read %d rows, want %d in their order; first read %v, want %v", what, len(got), len(want), got[:min(3, len(got))], want[:min(3, len(want))])
	}
	if wantPages := (len(want) + limit - 1) / limit; pages != wantPages {
		t.Errorf("%s: %d pages of %d rows, want %d", what, pages, len(want), wantPages)
	}
}

// Each list of the console's views is read through next, each row once and in the
// list's order: the expiring entries, the interviews and the no-shows (two cursors
// of one route), the failed deliveries and the users of one username.
func TestConsoleListsArePaged(t *testing.T) {
	t.Parallel()
	e := start(t, options{consumers: true})
	admin := e.loginDev(adminTG)
	ctx := context.Background()
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := e.pool.Exec(ctx, sql, args...); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	const limit = 50

	// Entries that expire within 2 h: an hour's interview no longer fits from
	// window_end − 1 h.
	expiring := keyedRows(120, func(s int) time.Time { return now.Add(2*time.Hour + time.Duration(s)*time.Second) })
	for i, r := range expiring {
		exec(`INSERT INTO interview_queue (entry_id, user_id, role, profession, language, window_start, window_end,
			status, joined_at, position_tx, position_offset, updated_at)
			VALUES ($1, $2, 'candidate', 'backend-developer', 'en', $3, $4, 'waiting', $3, $5, 0, $3)`,
			r.id, uuid.New(), now.Add(-time.Hour), r.at, i+1)
	}
	got, pages := readPages(t, e, admin.Token, "/api/admin/queue?days=1", limit, "expiring", "next", "after", idField(t))
	wantPages(t, "expiring entries", got, pages, ordered(expiring, false), limit)

	// Interviews of the period, soonest first, and no-shows before it, latest first.
	from := now.Add(24 * time.Hour)
	interviews := keyedRows(110, func(s int) time.Time { return from.Add(time.Hour + time.Duration(s)*time.Minute) })
	noShows := keyedRows(75, func(s int) time.Time { return from.Add(-time.Hour - time.Duration(s)*time.Minute) })
	for _, list := range []struct {
		rows   []keyed
		status string
	}{{interviews, "scheduled"}, {noShows, "no_show"}} {
		for _, r := range list.rows {
			exec(`INSERT INTO interviews (interview_id, candidate_id, interviewer_id, candidate_entry_id, interviewer_entry_id,
				profession, language, scheduled_at, duration_minutes, meeting_link, status, matched_at, updated_at)
				VALUES ($1, $2, $3, $4, $5, 'backend-developer', 'en', $6, 60, 'https://meet.jit.si/x', $7, $8, $8)`,
				r.id, uuid.New(), uuid.New(), uuid.New(), uuid.New(), r.at, list.status, now)
		}
	}
	period := "/api/admin/interviews?from=" + url.QueryEscape(from.Format(time.RFC3339Nano)) +
		"&until=" + url.QueryEscape(from.Add(7*24*time.Hour).Format(time.RFC3339Nano))
	got, pages = readPages(t, e, admin.Token, period, limit, "interviews", "next", "after", idField(t))
	wantPages(t, "interviews", got, pages, ordered(interviews, false), limit)
	got, pages = readPages(t, e, admin.Token, period, limit, "no_shows", "no_shows_next", "no_shows_after", idField(t))
	wantPages(t, "no-shows", got, pages, ordered(noShows, true), limit)

	// Failed deliveries, the latest updated first.
	failed := keyedRows(130, func(s int) time.Time { return now.Add(-time.Duration(s) * time.Second) })
	for _, r := range failed {
		exec(`INSERT INTO notifier_outbox (notification_id, interview_id, user_id, kind, due_at, status, last_error, updated_at)
			VALUES ($1, $2, $3, 'confirmed', $4, 'failed', 'Forbidden: bot was blocked by the user', $4)`,
			r.id, uuid.New(), uuid.New(), r.at)
	}
	got, pages = readPages(t, e, admin.Token, "/api/admin/notifications?delivery=failed", limit, "deliveries", "next", "after", idField(t))
	wantPages(t, "failed deliveries", got, pages, ordered(failed, true), limit)

	// Every account that has held one username, the first registered first.
	twins := keyedRows(60, func(s int) time.Time { return now.Add(-time.Hour + time.Duration(s)*time.Second) })
	for i, r := range twins {
		exec(`INSERT INTO users (user_id, telegram_id, username, first_name, last_name, photo_url, role, preferred_role,
			timezone, no_show_count, registered_at, updated_at)
			VALUES ($1, $2, $3, 'Twin', '', '', 'user', 'candidate', 'Europe/Moscow', 0, $4, $4)`,
			r.id, 770000+i, []string{"twin", "Twin", "TWIN"}[i%3], r.at)
	}
	const userLimit = 25
	got, pages = readPages(t, e, admin.Token, "/api/admin/users?username=@twin", userLimit, "users", "next", "after",
		func(row json.RawMessage) string {
			var u struct {
				Profile struct {
					ID string `json:"id"`
				} `json:"profile"`
			}
			if err := json.Unmarshal(row, &u); err != nil {
				t.Fatal(err)
			}
			return u.Profile.ID
		})
	wantPages(t, "users of a username", got, pages, ordered(twins, false), userLimit)

	for _, path := range []string{"/api/admin/queue?limit=201", "/api/admin/interviews?limit=0",
		"/api/admin/notifications?limit=x", "/api/admin/users?username=twin&limit=-1"} {
		wantError(t, e.call("GET", path, admin.Token, nil), 400, "invalid-request")
	}
	for _, path := range []string{"/api/admin/queue?after=bm90LWEtY3Vyc29y", "/api/admin/interviews?no_shows_after=bm90LWEtY3Vyc29y",
		"/api/admin/notifications?after=bm90LWEtY3Vyc29y", "/api/admin/users?username=twin&after=bm90LWEtY3Vyc29y"} {
		wantError(t, e.call("GET", path, admin.Token, nil), 400, "bad-cursor")
	}
}

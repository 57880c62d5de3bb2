package http_test

import (
	"context"
	"encoding/csv"
	"regexp"
	"strings"
	"testing"

	"github.com/supermock/engine/domain"
	"github.com/supermock/engine/internal/testdb"
)

var plainRequestID = regexp.MustCompile(`^[A-Za-z0-9-]{1,64}$`)

// A client's X-Request-ID reaches the answer and the log only when it is a plain token
// of at most 64 characters; anything else is replaced by a fresh id.
func TestRequestIDIsCheckedBeforeTheLogKeepsIt(t *testing.T) {
	t.Parallel()
	e := start(t, options{})
	l := e.loginDev(7101)
	body := map[string]any{"professions": []string{"qa-engineer"}}
	for i, sent := range []string{
		strings.Repeat("a", 3500),
		`=HYPERLINK("http://evil.test","x")`,
		"id with spaces",
		strings.Repeat("b", 65),
		"ok-but-\u00e9",
		"Good-Id-42",
	} {
		slug := []string{"qa-engineer", "data-engineer"}[i%2]
		body["professions"] = []string{slug}
		r := e.call("PUT", "/api/me/professions", l.Token, body, "X-Request-ID", sent)
		wantDone(t, r)
		got := r.header.Get("X-Request-ID")
		if !plainRequestID.MatchString(got) || (sent == "Good-Id-42") != (got == sent) {
			t.Fatalf("sent X-Request-ID %.40q, the answer carries %q", sent, got)
		}
		history, err := e.store.Log().ReadStream(context.Background(), domain.UserStream(l.userID()))
		if err != nil {
			t.Fatal(err)
		}
		if last := history[len(history)-1]; last.CorrelationID != got {
			t.Fatalf("the event's correlation id is %.40q, the request's %q", last.CorrelationID, got)
		}
	}
}

// A CSV replay escapes every cell a spreadsheet would run as a formula, also for text
// an older version of the code let into the log.
func TestCSVReplayEscapesFormulas(t *testing.T) {
	t.Parallel()
	e := start(t, options{})
	admin, user := e.loginDev(adminTG), e.loginDev(7201)
	formulas := []string{`=HYPERLINK("http://evil.test")`, "+1+1", "-2+3", "@SUM(A1)", "\tcmd"}
	for i, f := range formulas {
		meta := domain.Meta{Actor: f, CorrelationID: f}
		slug := []string{"qa-engineer", "data-engineer"}[i%2]
		if _, err := e.svc.SelectProfessions(context.Background(), meta, user.userID(), []string{slug}); err != nil {
			t.Fatal(err)
		}
	}
	testdb.WaitVisible(t, e.store.Log())
	r := e.call("GET", "/api/admin/events?format=csv&stream="+domain.UserStream(user.userID()), admin.Token, nil)
	wantStatus(t, r, 200)
	rows, err := csv.NewReader(strings.NewReader(string(r.body))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	escaped := 0
	for _, row := range rows {
		for _, cell := range row {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("cell %q would run as a formula", cell)
			}
			for _, f := range formulas {
				if cell == "'"+f {
					escaped++
				}
			}
		}
	}
	if escaped != 2*len(formulas) {
		t.Errorf("%d escaped actor and correlation cells, want %d:\n%s", escaped, 2*len(formulas), r.body)
	}
}

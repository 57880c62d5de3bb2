package http_test

import "testing"

// Query parameters go through the domain's parsers: bytes a parser does not take are
// the client's 400, never a failed query.
func TestQueryParametersAreParsed(t *testing.T) {
	t.Parallel()
	e := start(t, options{})
	l := e.loginDev(15101)
	for _, c := range []struct{ path, code string }{
		{"/api/queue/stats?profession=%ff", "profession-unknown"},
		{"/api/queue/stats?language=%ff%fe", "language-invalid"},
		{"/api/queue/stats?profession=qa-engineer&language=e%00n", "language-invalid"},
		{"/api/notifications?unread=maybe", "invalid-request"},
		{"/api/slots?role=%ff&profession=qa-engineer&language=en", "interview-role-invalid"},
	} {
		wantError(t, e.call("GET", c.path, l.Token, nil), 400, c.code)
	}
	wantStatus(t, e.call("GET", "/api/queue/stats?profession=qa-engineer&language=en", l.Token, nil), 200)
	wantStatus(t, e.call("GET", "/api/notifications?unread=true", l.Token, nil), 200)
}

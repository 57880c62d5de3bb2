package http_test

import (
	"encoding/json"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/supermock/engine/http/auth"
)

// closedPort is a loopback port nothing listens on: connecting is refused.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	return itoa(int64(port))
}

// With the database away, every route the document says may answer 503 does so with
// database-unavailable and Retry-After — logins, commands with and without an
// Idempotency-Key, queries and the admin API — and the rest still answer; none is 500.
func TestEveryRouteAnswersAnOutageWith503(t *testing.T) {
	t.Parallel()
	e := start(t, options{poolFromURL: "postgres://postgres@127.0.0.1:" + closedPort(t) + "/supermock?sslmode=disable&connect_timeout=5"})
	var doc struct {
		Paths map[string]map[string]struct {
			Responses map[string]json.RawMessage `json:"responses"`
		} `json:"paths"`
	}
	e.call("GET", "/api/openapi.json", "", nil).json(t, &doc)

	now := time.Now()
	admin := auth.Sign([]byte(jwtSecret), auth.Claims{Subject: uuid.NewString(), TelegramID: adminTG, Admin: true}, now, time.Hour)
	webApp := auth.SignWebApp(map[string]string{"user": `{"id":5252,"first_name":"Ada"}`, "auth_date": itoa(now.Unix())}, botToken)
	bodies := map[string]any{
		"POST /api/auth/telegram": widgetFields(5151, "grace", now),
		"POST /api/auth/webapp":   map[string]string{"init_data": webApp},
		"POST /api/auth/dev":      map[string]any{"telegram_id": 5353},
		"PUT /api/me":             map[string]any{"first_name": "Ada"},
		"PUT /api/me/professions": map[string]any{"professions": []string{"qa-engineer"}},
		"PUT /api/me/form": map[string]any{"profession": "qa-engineer", "country": "FR", "experience": "0-1",
			"language": "en"},
		"POST /api/queue":                    window("candidate", "qa-engineer", now.Add(24*time.Hour), 2*time.Hour),
		"POST /api/interviews/{id}/feedback": map[string]any{"rating": 5},
	}
	params := map[string]string{"id": uuid.NewString(), "name": "users"}
	param := regexp.MustCompile(`\{([a-z]+)\}`)
	outage := 0
	for path, ops := range doc.Paths {
		concrete := param.ReplaceAllStringFunc(path, func(p string) string { return params[strings.Trim(p, "{}")] })
		for method, op := range ops {
			method = strings.ToUpper(method)
			route := method + " " + path
			tries := []response{e.call(method, concrete, admin, bodies[route])}
			if _, keyed := op.Responses["422"]; keyed {
				tries = append(tries, e.call(method, concrete, admin, bodies[route], "Idempotency-Key", "k-"+route))
			}
			for _, r := range tries {
				_, documented := op.Responses["503"]
				switch {
				case !documented && r.status >= 500:
					t.Errorf("%s answers %s without the database", route, r)
				case !documented:
				case r.header.Get("Retry-After") == "":
					t.Errorf("%s: %s without Retry-After", route, r)
				case route == "GET /api/health", route == "GET /readyz":
					wantStatus(t, r, 503)
				default:
					wantError(t, r, 503, "database-unavailable")
					outage++
				}
			}
		}
	}
	if outage < 25 {
		t.Fatalf("only %d answers of routes that need the database", outage)
	}
}

package http_test

import (
	"encoding/json"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/supermock/engine/internal/config"
	"github.com/supermock/engine/internal/testdb"
)

// The document and the registered routes cannot drift: every route is documented and
// every documented operation is served.
func TestOpenAPIMatchesTheRoutes(t *testing.T) {
	t.Parallel()
	e := start(t, options{})
	r := e.call("GET", "/api/openapi.json", "", nil)
	wantStatus(t, r, 200)
	var doc struct {
		OpenAPI    string                                `json:"openapi"`
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Schemas map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
	}
	r.json(t, &doc)
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi version %q", doc.OpenAPI)
	}
	param := regexp.MustCompile(`\{([a-z]+)\}`)
	var documented []string
	for path, ops := range doc.Paths {
		for method, raw := range ops {
			documented = append(documented, strings.ToUpper(method)+" "+param.ReplaceAllString(path, ":$1"))
			var op struct {
				Responses map[string]json.RawMessage `json:"responses"`
			}
			if err := json.Unmarshal(raw, &op); err != nil || len(op.Responses) < 2 {
				t.Errorf("%s %s documents %d responses", method, path, len(op.Responses))
			}
		}
	}
	var served []string
	seen := map[string]bool{}
	for _, route := range e.app.GetRoutes(true) {
		key := route.Method + " " + route.Path
		if route.Method == "HEAD" || seen[key] || strings.HasPrefix(route.Path, "/legacy/") {
			continue // fiber serves HEAD for every GET; /legacy is the old frontend's API, not this one
		}
		seen[key] = true
		served = append(served, key)
	}
	sort.Strings(documented)
	sort.Strings(served)
	if strings.Join(documented, "\n") != strings.Join(served, "\n") {
		t.Fatalf("documented:\n%s\n\nserved:\n%s", strings.Join(documented, "\n"), strings.Join(served, "\n"))
	}
	if len(served) < 25 {
		t.Fatalf("only %d routes", len(served))
	}
	for _, route := range []string{"GET /api/docs", "GET /api/docs/:file", "GET /api/openapi.json", "GET /api/admin/consumers"} {
		if !slices.Contains(served, route) {
			t.Errorf("%s is not served", route)
		}
	}
	// Every reference resolves.
	for _, ref := range regexp.MustCompile(`"\$ref":"#/components/schemas/([A-Za-z]+)"`).FindAllStringSubmatch(string(r.body), -1) {
		if _, ok := doc.Components.Schemas[ref[1]]; !ok {
			t.Errorf("dangling reference to %s", ref[1])
		}
	}
	for _, name := range []string{"joinRequest", "errorBody", "Interview", "loginResponse"} {
		if _, ok := doc.Components.Schemas[name]; !ok {
			t.Errorf("schema %s is missing", name)
		}
	}
}

// Who may call each route is what the document says: a route documented for users
// refuses a request without a session, one for admins refuses a user, and a public one
// needs no session.
func TestRoutesGuardWhatTheDocumentSays(t *testing.T) {
	t.Parallel()
	e := start(t, options{})
	var doc struct {
		Paths map[string]map[string]struct {
			Access string `json:"x-access"`
		} `json:"paths"`
	}
	e.call("GET", "/api/openapi.json", "", nil).json(t, &doc)
	someone := e.loginDev(9901)
	param := regexp.MustCompile(`\{[a-z]+\}`)
	checked := map[string]int{}
	for path, ops := range doc.Paths {
		concrete := param.ReplaceAllString(path, "01a21cb3-51d9-7175-a9c5-c1e662ac8261")
		for method, op := range ops {
			method = strings.ToUpper(method)
			anonymous := e.call(method, concrete, "", nil)
			switch op.Access {
			case "public":
				if anonymous.status == 401 {
					t.Errorf("%s %s is documented public but asks for a session", method, path)
				}
			case "user":
				wantError(t, anonymous, 401, "unauthorized")
			case "admin":
				wantError(t, anonymous, 401, "unauthorized")
				wantError(t, e.call(method, concrete, someone.Token, nil), 403, "forbidden")
			default:
				t.Errorf("%s %s documents access %q", method, path, op.Access)
			}
			checked[op.Access]++
		}
	}
	if checked["public"] == 0 || checked["user"] < 10 || checked["admin"] < 4 {
		t.Fatalf("routes checked by access: %v", checked)
	}
}

// Production's document leaves out the development login, and neither names /metrics,
// which is not on the API's port.
func TestOpenAPIOfProductionHasNoDevelopmentLogin(t *testing.T) {
	t.Parallel()
	url := testdb.NewDatabase(t)
	dev := start(t, options{poolFromURL: url})
	prod := start(t, options{poolFromURL: url, config: func(c *config.Config) { c.AppEnv = config.Production }})
	for _, tc := range []struct {
		e       *env
		wantDev bool
	}{{dev, true}, {prod, false}} {
		var doc struct {
			Paths map[string]json.RawMessage `json:"paths"`
		}
		tc.e.call("GET", "/api/openapi.json", "", nil).json(t, &doc)
		if _, ok := doc.Paths["/api/auth/dev"]; ok != tc.wantDev {
			t.Errorf("%s: /api/auth/dev documented %v", tc.e.cfg.AppEnv, ok)
		}
		if _, ok := doc.Paths["/metrics"]; ok {
			t.Errorf("%s: /metrics documented on the API", tc.e.cfg.AppEnv)
		}
		if _, ok := doc.Paths["/api/auth/logout"]; !ok || len(doc.Paths) < 20 {
			t.Errorf("%s: %d paths, logout among them %v", tc.e.cfg.AppEnv, len(doc.Paths), ok)
		}
	}
}

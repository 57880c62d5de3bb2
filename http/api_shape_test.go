package http_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/supermock/engine/domain"
)

type fieldsAnswer struct {
	Error struct {
		Code   string `json:"code"`
		Fields []struct {
			Field   string `json:"field"`
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"fields"`
	} `json:"error"`
}

// wantFields checks a 400 with its code and each wrong field's own code, in order.
func wantFields(t *testing.T, r response, code string, fields ...string) {
	t.Helper()
	wantError(t, r, 400, code)
	var a fieldsAnswer
	r.json(t, &a)
	var got []string
	for _, f := range a.Error.Fields {
		if f.Message == "" {
			t.Errorf("field %s has no message", f.Field)
		}
		got = append(got, f.Field+"="+f.Code)
	}
	if strings.Join(got, " ") != strings.Join(fields, " ") {
		t.Fatalf("fields %v, want %v: %s", got, fields, r)
	}
}

// One answer names every wrong field of a body, each with its own code: the shape of
// the body first (types, missing and unknown fields), then the domain's rules.
func TestEveryWrongFieldOfABodyAtOnce(t *testing.T) {
	t.Parallel()
	e := start(t, options{})
	me := e.loginDev(14001)
	now := time.Now()
	join := window("observer", "backend-developer", now.Add(time.Hour), 10*time.Minute)
	wantFields(t, e.call("POST", "/api/queue", me.Token, join), "interview-role-invalid",
		"role=interview-role-invalid", "window_end=queue-window-too-short")
	wantFields(t, e.call("POST", "/api/queue", me.Token, map[string]any{"role": 5, "profession": "qa-engineer", "colour": "red", "age": 3}),
		"invalid-request", "role=wrong-type", "language=required", "window_start=required", "window_end=required",
		"age=unknown-field", "colour=unknown-field")
	wantFields(t, e.call("PUT", "/api/me/form", me.Token, map[string]any{"profession": "qa-engineer", "country": "Mars",
		"experience": "forever", "language": "en", "phone": "12"}),
		"country-invalid", "country=country-invalid", "experience=experience-invalid", "phone=phone-invalid")
	wantFields(t, e.call("PUT", "/api/me", me.Token, map[string]any{"first_name": "", "timezone": "Mars/Olympus"}),
		"profile-name-invalid", "first_name=profile-name-invalid", "timezone=timezone-invalid")
	// A single wrong query parameter is named the same way.
	wantFields(t, e.call("GET", "/api/interviews?limit=500", me.Token, nil), "invalid-request", "limit=invalid")
	if e.events() != 2 { // the login's registration and its claim
		t.Fatalf("refusals appended: %d events", e.events())
	}
}

// The admin lists are pages: the projections and a stream's events read through next
// each once, in order; a bad limit or cursor is refused.
func TestAdminListsArePaged(t *testing.T) {
	t.Parallel()
	e := start(t, options{})
	admin, user := e.loginDev(adminTG), e.loginDev(14101)
	for i := range 6 {
		e.command("PUT", "/api/me", user.Token, map[string]any{"first_name": fmt.Sprintf("Name %d", i)})
	}
	var names []string
	for after := ""; ; {
		var page struct {
			Projections []struct {
				Name string `json:"name"`
			} `json:"projections"`
			Next *string `json:"next"`
		}
		r := e.call("GET", "/api/admin/projections?limit=3&after="+url.QueryEscape(after), admin.Token, nil)
		wantStatus(t, r, 200)
		r.json(t, &page)
		for _, p := range page.Projections {
			names = append(names, p.Name)
		}
		if page.Next == nil {
			break
		}
		after = *page.Next
	}
	if len(names) < 5 || !slices.IsSorted(names) || len(slices.Compact(slices.Clone(names))) != len(names) {
		t.Fatalf("projections read through next: %v", names)
	}

	var versions []int64
	stream := "/api/admin/streams/user-" + user.User.ID
	for after := ""; ; {
		var page struct {
			Version int64 `json:"version"`
			Events  []struct {
				StreamVersion int64 `json:"stream_version"`
			} `json:"events"`
			Next *string `json:"next"`
		}
		r := e.call("GET", stream+"?limit=2&after="+after, admin.Token, nil)
		wantStatus(t, r, 200)
		r.json(t, &page)
		if page.Version != 7 || len(page.Events) > 2 {
			t.Fatalf("a page of the stream: %s", r)
		}
		for _, ev := range page.Events {
			versions = append(versions, ev.StreamVersion)
		}
		if page.Next == nil {
			break
		}
		after = *page.Next
	}
	if fmt.Sprint(versions) != "[1 2 3 4 5 6 7]" {
		t.Fatalf("the stream read through next: %v", versions)
	}
	wantError(t, e.call("GET", stream+"?after=x", admin.Token, nil), 400, "bad-cursor")
	wantError(t, e.call("GET", "/api/admin/consumers?limit=0", admin.Token, nil), 400, "invalid-request")
	wantError(t, e.call("GET", "/api/admin/projections?page=2", admin.Token, nil), 400, "invalid-request")
}

// The docs page and its files come from the binary and load nothing from elsewhere;
// its policy lets it run only its own script and read the document.
func TestDocsPage(t *testing.T) {
	t.Parallel()
	e := start(t, options{})
	page := e.call("GET", "/api/docs", "", nil)
	wantStatus(t, page, 200)
	if !strings.HasPrefix(page.header.Get("Content-Type"), "text/html") ||
		!strings.Contains(page.header.Get("Content-Security-Policy"), "script-src 'self'") {
		t.Fatalf("docs page headers %v", page.header)
	}
	for file, contentType := range map[string]string{"docs.js": "text/javascript", "docs.css": "text/css"} {
		if !strings.Contains(string(page.body), `"/api/docs/`+file+`"`) {
			t.Errorf("the page does not load %s", file)
		}
		r := e.call("GET", "/api/docs/"+file, "", nil)
		wantStatus(t, r, 200)
		if !strings.HasPrefix(r.header.Get("Content-Type"), contentType) || len(r.body) < 500 {
			t.Errorf("%s: %s, %d bytes", file, r.header.Get("Content-Type"), len(r.body))
		}
		if regexp.MustCompile(`https?://`).Match(r.body) {
			t.Errorf("%s names another site", file)
		}
	}
	if !strings.Contains(string(e.call("GET", "/api/docs/docs.js", "", nil).body), `fetch("/api/openapi.json")`) {
		t.Error("the script does not read the document")
	}
	wantError(t, e.call("GET", "/api/docs/secret.txt", "", nil), 404, "not-found")
}

// The document is one a client generator can use: valid OpenAPI, readable and unique
// operation ids, servers, public routes marked so, enums that are the domain's lists,
// the bounds of a page and of feedback, and an example of every request body.
func TestOpenAPIDocumentForClientGenerators(t *testing.T) {
	t.Parallel()
	doc, err := document()
	if err != nil {
		t.Fatalf("kin-openapi refuses the document: %v", err)
	}
	if len(doc.Servers) == 0 {
		t.Error("no servers")
	}
	ids := map[string]bool{}
	readable := regexp.MustCompile(`^[a-z]+[A-Z][A-Za-z]*$|^logout$`)
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			where := method + " " + path
			if !readable.MatchString(op.OperationID) || ids[op.OperationID] {
				t.Errorf("%s: operationId %q", where, op.OperationID)
			}
			ids[op.OperationID] = true
			if op.Security == nil || (op.Extensions["x-access"] == "public") != (len(*op.Security) == 0) {
				t.Errorf("%s (%v): security %v", where, op.Extensions["x-access"], op.Security)
			}
			if len(op.Tags) != 1 || op.Summary == "" {
				t.Errorf("%s: tags %v, summary %q", where, op.Tags, op.Summary)
			}
			if op.RequestBody != nil {
				if media := op.RequestBody.Value.Content.Get("application/json"); media == nil || media.Example == nil {
					t.Errorf("%s: a request body without an example", where)
				}
			}
		}
	}
	for _, id := range []string{"joinQueue", "listNotifications", "markNotificationRead", "getMe", "streamEvents", "listConsumers", "getDocs"} {
		if !ids[id] {
			t.Errorf("no operation %s", id)
		}
	}
	schemas := doc.Components.Schemas
	for name, want := range map[string][]string{
		"Profession": domain.ProfessionSlugs(), "InterviewRole": domain.InterviewRoles(), "Role": domain.Roles(),
		"EntryStatus": domain.EntryStatuses(), "InterviewStatus": domain.InterviewStatuses(),
		"Experience": domain.Experiences(), "NotificationKind": domain.NotificationKinds(),
	} {
		ref, ok := schemas[name]
		var got []string
		if ok {
			for _, v := range ref.Value.Enum {
				got = append(got, fmt.Sprint(v))
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("enum %s is %v, want the domain's %v", name, got, want)
		}
	}
	for schema, enum := range map[string]string{"Entry.role": "InterviewRole", "Entry.status": "EntryStatus",
		"Profile.account_role": "Role", "Profile.preferred_role": "InterviewRole", "Interview.my_role": "InterviewRole",
		"Notification.kind": "NotificationKind", "joinRequest.profession": "Profession"} {
		typ, field, _ := strings.Cut(schema, ".")
		if p := schemas[typ].Value.Properties[field]; p == nil || p.Ref != "#/components/schemas/"+enum {
			t.Errorf("%s is not a %s", schema, enum)
		}
	}
	rating := schemas["feedbackRequest"].Value.Properties["rating"].Value
	if rating.Min == nil || *rating.Min != domain.MinRating || rating.Max == nil || *rating.Max != domain.MaxRating {
		t.Errorf("rating bounds %v..%v", rating.Min, rating.Max)
	}
	limit := doc.Paths.Find("/api/notifications").Get.Parameters.GetByInAndName("query", "limit").Schema.Value
	if limit.Min == nil || *limit.Min != 1 || limit.Max == nil || *limit.Max != 200 || limit.Default != json.Number("50") && fmt.Sprint(limit.Default) != "50" {
		t.Errorf("limit: %v..%v default %v", limit.Min, limit.Max, limit.Default)
	}
}

package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	nethttp "net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	api "github.com/supermock/engine/http"
)

// document is the API's OpenAPI document, loaded and validated once per test binary,
// and a router that finds an operation by its method and path.
var document = sync.OnceValues(func() (*openapi3.T, error) {
	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPIDocument())
	if err != nil {
		return nil, err
	}
	return doc, doc.Validate(context.Background())
})

var documentRouter = sync.OnceValues(func() (routers.Router, error) {
	doc, err := document()
	if err != nil {
		return nil, err
	}
	// The tests' servers are on loopback ports of their own: routes match on the path.
	routed := *doc
	routed.Servers = nil
	return legacy.NewRouter(&routed)
})

// checked counts the answers an env held against the document, and the times in them.
type checked struct{ answers, times atomic.Int64 }

// checkAgainstDocument holds a request the API accepted and every answer to it to
// the document: an accepted request must be one the document allows, and the answer
// must be one of those it documents, in its shape. /legacy is the old frontend's API,
// outside the document; streamed bodies (NDJSON, CSV, events) and the docs page's files
// are held to their status and type only.
func (e *env) checkAgainstDocument(req *nethttp.Request, body []byte, r response) {
	t := e.t
	t.Helper()
	if strings.HasPrefix(req.URL.Path, "/legacy/") || !strings.HasPrefix(req.URL.Path, "/api/") && req.URL.Path != "/livez" && req.URL.Path != "/readyz" {
		return
	}
	router, err := documentRouter()
	if err != nil {
		t.Fatalf("the OpenAPI document: %v", err)
	}
	route, params, err := router.FindRoute(req)
	if err != nil {
		return // a path or method the API does not serve: its 404 or 405 is tested on its own
	}
	opts := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
		IncludeResponseStatus: true, MultiError: true}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
	if r.status < 400 {
		req.Body = io.NopCloser(bytes.NewReader(body))
		if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
			t.Errorf("%s %s was accepted (%d) but the document refuses it: %v", req.Method, req.URL, r.status, err)
		}
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: r.status, Header: r.header, Options: opts}
	if notJSON(r.header.Get("Content-Type")) {
		opts.ExcludeResponseBody = true
	}
	if err := openapi3filter.ValidateResponse(context.Background(), out.SetBodyBytes(r.body)); err != nil {
		t.Errorf("%s %s answered %s, which the document does not describe: %v", req.Method, req.URL, r, err)
	}
	e.checked.answers.Add(1)
	if !opts.ExcludeResponseBody && strings.HasPrefix(r.header.Get("Content-Type"), "application/json") &&
		!strings.HasPrefix(req.URL.Path, "/api/admin/streams/") && req.URL.Path != "/api/openapi.json" {
		e.checked.times.Add(checkTimes(t, req, r.body))
	}
}

func notJSON(contentType string) bool {
	for _, s := range []string{"application/x-ndjson", "text/csv", "text/event-stream", "text/html", "text/javascript", "text/css", "application/zip"} {
		if strings.HasPrefix(contentType, s) {
			return true
		}
	}
	return false
}

var (
	looksLikeTime = regexp.MustCompile(`^\d{4}-\d\d-\d\d[T ]\d\d:`)
	apiTime       = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)
)

// checkTimes walks a JSON answer and counts the times in it: every string that looks like a time, and every
// field named like one (…_at, timestamp, start, end), is RFC 3339 in UTC with
// milliseconds, or null. The events of an admin's stream, and the payloads of an
// export's events, are the log as stored.
func checkTimes(t testing.TB, req *nethttp.Request, body []byte) int64 {
	t.Helper()
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Errorf("%s %s: the answer is not JSON: %v", req.Method, req.URL, err)
		return 0
	}
	var n int64
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, child := range x {
				field := path + "." + k
				if field == ".streams[].events[].payload" && req.URL.Path == "/api/me/export" {
					continue
				}
				if s, isString := child.(string); isString && (timeNamed(k) || looksLikeTime.MatchString(s)) {
					n++
					if !apiTime.MatchString(s) {
						t.Errorf("%s %s: %s is %q, not like 2026-12-01T18:00:00.000Z", req.Method, req.URL, field, s)
					}
					continue
				}
				walk(field, child)
			}
		case []any:
			for _, child := range x {
				walk(path+"[]", child)
			}
		case string:
			if looksLikeTime.MatchString(x) {
				n++
				if !apiTime.MatchString(x) {
					t.Errorf("%s %s: %s is %q, not like 2026-12-01T18:00:00.000Z", req.Method, req.URL, path, x)
				}
			}
		}
	}
	walk("", v)
	return n
}

func timeNamed(key string) bool {
	return strings.HasSuffix(key, "_at") || key == "timestamp" || key == "start" || key == "end" ||
		key == "window_start" || key == "window_end"
}

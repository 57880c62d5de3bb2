package http_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	nethttp "net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/supermock/engine/internal/config"
)

// fuzzRequests is how many requests the default suite sends: a few seconds' worth.
const fuzzRequests = 5400

// apiOperation is one operation of the OpenAPI document, as the fuzzer drives it.
type apiOperation struct {
	method, path string
	query        []string
	body         map[string]any // the request body's schema, nil for none
}

// fuzzer makes hostile requests from the document, with a random source of its own.
type fuzzer struct {
	rng     *rand.Rand
	schemas map[string]map[string]any
	valid   []string // values that pass some parser, so requests get deeper
}

var hostileText = []string{"\x00", "\xff\xfe", "\u202e", "\u2066", "\x1b[2J", "\r\n", "' OR 1=1 --", "%00", "%ff",
	"=HYPERLINK(\"x\")", "../../etc/passwd", "{{.}}", "\\u0000", "😀", strings.Repeat("A", 5000), "-1", "1e400",
	"18446744073709551615-0", "null", "localtime", "Factory", "right/UTC"}

func (f *fuzzer) bytes(max int) []byte {
	b := make([]byte, f.rng.IntN(max+1))
	for i := range b {
		b[i] = byte(f.rng.UintN(256))
	}
	return b
}

// text is a random string: raw bytes, a hostile one, a valid one or a mix.
func (f *fuzzer) text() string {
	switch f.rng.IntN(4) {
	case 0:
		return string(f.bytes(40))
	case 1:
		return hostileText[f.rng.IntN(len(hostileText))]
	case 2:
		return f.valid[f.rng.IntN(len(f.valid))]
	}
	return f.valid[f.rng.IntN(len(f.valid))] + hostileText[f.rng.IntN(len(hostileText))]
}

// value is a random JSON value shaped (mostly) like the schema.
func (f *fuzzer) value(schema map[string]any, depth int) any {
	if ref, ok := schema["$ref"].(string); ok {
		schema = f.schemas[strings.TrimPrefix(ref, "#/components/schemas/")]
	}
	if f.rng.IntN(8) == 0 || depth > 4 { // the wrong type, or null
		return []any{nil, f.text(), f.rng.Int64(), -1.5e300, true, []any{}, map[string]any{}}[f.rng.IntN(7)]
	}
	switch schema["type"] {
	case "integer":
		return []any{f.rng.Int64N(7) - 1, f.rng.Int64(), -f.rng.Int64(), 0}[f.rng.IntN(4)]
	case "number":
		return f.rng.NormFloat64() * 1e6
	case "boolean":
		return f.rng.IntN(2) == 0
	case "array":
		items, _ := schema["items"].(map[string]any)
		out := make([]any, f.rng.IntN(40))
		for i := range out {
			out[i] = f.value(items, depth+1)
		}
		return out
	case "object":
		out := map[string]any{}
		if props, ok := schema["properties"].(map[string]any); ok {
			for name, p := range props {
				if f.rng.IntN(5) > 0 {
					out[name] = f.value(p.(map[string]any), depth+1)
				}
			}
		}
		if extra, ok := schema["additionalProperties"].(map[string]any); ok {
			for range f.rng.IntN(25) {
				out[f.text()] = f.value(extra, depth+1)
			}
		}
		if f.rng.IntN(6) == 0 {
			out[f.text()] = f.text()
		}
		return out
	}
	if schema["format"] == "date-time" && f.rng.IntN(2) == 0 {
		return time.Now().Add(time.Duration(f.rng.Int64N(40*24)-24) * time.Hour).UTC().Format(time.RFC3339)
	}
	return f.text()
}

// pathPart fills a path parameter: a fresh id, raw bytes or a hostile or valid text,
// escaped or not (a space, CR or LF would end the request line, so those are escaped).
func (f *fuzzer) pathPart() string {
	switch f.rng.IntN(4) {
	case 0:
		return uuid.NewString()
	case 1:
		return strings.Map(func(r rune) rune {
			if r == ' ' || r == '\r' || r == '\n' || r == '?' || r == '#' || r == '/' {
				return '_'
			}
			return r
		}, f.text())
	}
	return url.PathEscape(f.text())
}

// pick chooses an operation; one that takes no input (health, metrics, the document)
// is chosen a quarter as often, since only its headers can vary.
func (f *fuzzer) pick(ops []apiOperation) apiOperation {
	for {
		op := ops[f.rng.IntN(len(ops))]
		if op.body != nil || len(op.query) > 0 || strings.Contains(op.path, "{") || f.rng.IntN(4) == 0 {
			return op
		}
	}
}

var pathParams = regexp.MustCompile(`\{[a-z]+\}`)

// request writes one request for op on w and says what it was.
func (f *fuzzer) request(w io.Writer, op apiOperation, host, token string, id int) string {
	path := pathParams.ReplaceAllStringFunc(op.path, func(string) string { return f.pathPart() })
	q := url.Values{}
	for _, name := range op.query {
		if f.rng.IntN(3) > 0 {
			q.Add(name, f.text())
		}
	}
	if f.rng.IntN(4) == 0 {
		q.Add(f.text(), f.text())
	}
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var body []byte
	switch {
	case op.body != nil && f.rng.IntN(4) > 0:
		body, _ = json.Marshal(f.value(op.body, 0))
	case f.rng.IntN(3) == 0:
		body = f.bytes(300)
	}
	h := &bytes.Buffer{}
	fmt.Fprintf(h, "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n", op.method, path, host, len(body))
	if token != "" && f.rng.IntN(10) > 0 {
		fmt.Fprintf(h, "Authorization: Bearer %s\r\n", token)
	}
	headers := map[string]func() string{
		"Content-Type": func() string {
			return []string{"application/json", "application/json", "application/json; charset=utf-8", "text/plain", f.text()}[f.rng.IntN(5)]
		},
		"X-Request-ID":     func() string { return []string{fmt.Sprintf("fuzz-%d", id), f.text()}[f.rng.IntN(2)] },
		"X-Min-Position":   func() string { return "x" + f.text() }, // never a cursor the log has passed: no 3 s wait
		"Content-Encoding": func() string { return []string{"identity", "gzip", f.text()}[f.rng.IntN(3)] },
		"Authorization":    func() string { return "Bearer " + f.text() },
		"Cookie":           func() string { return "sm_sess=" + f.text() },
		"Origin":           f.text,
		"Accept":           f.text,
		"X-Forwarded-For":  f.text,
		"Idempotency-Key":  f.text,
	}
	for name, value := range headers {
		if f.rng.IntN(4) == 0 && (name != "Content-Encoding" || f.rng.IntN(3) == 0) {
			// A header value cannot hold a line break: the request would be cut in two.
			fmt.Fprintf(h, "%s: %s\r\n", name, strings.NewReplacer("\r", "", "\n", "").Replace(value()))
		}
	}
	h.WriteString("\r\n")
	h.Write(body)
	_, _ = w.Write(h.Bytes())
	return fmt.Sprintf("%s %.200q body %.200q", op.method, path, body)
}

// operations reads the served OpenAPI document.
func (e *env) operations(t *testing.T) ([]apiOperation, map[string]map[string]any) {
	t.Helper()
	var doc struct {
		Paths map[string]map[string]struct {
			Parameters []struct {
				Name string `json:"name"`
				In   string `json:"in"`
			} `json:"parameters"`
			RequestBody struct {
				Content map[string]struct {
					Schema map[string]any `json:"schema"`
				} `json:"content"`
			} `json:"requestBody"`
		} `json:"paths"`
		Components struct {
			Schemas map[string]map[string]any `json:"schemas"`
		} `json:"components"`
	}
	r := e.call("GET", "/api/openapi.json", "", nil)
	wantStatus(t, r, 200)
	r.json(t, &doc)
	var ops []apiOperation
	for path, methods := range doc.Paths {
		for method, o := range methods {
			op := apiOperation{method: strings.ToUpper(method), path: path}
			for _, p := range o.Parameters {
				if p.In == "query" {
					op.query = append(op.query, p.Name)
				}
			}
			if c, ok := o.RequestBody.Content["application/json"]; ok {
				op.body = c.Schema
			}
			ops = append(ops, op)
		}
	}
	if len(ops) < 20 {
		t.Fatalf("the document has %d operations", len(ops))
	}
	return ops, doc.Components.Schemas
}

// Random bytes in path parameters, query, headers and bodies of every route of the
// OpenAPI document, as a stranger, a user and an admin, never get a 500, a stack trace
// or SQL text back, and no refused request leaves an event in the log.
func TestFuzzEveryRoute(t *testing.T) {
	t.Parallel()
	e := start(t, options{config: func(c *config.Config) { c.RateLimitMax, c.RateLimitQueryMax = 1<<30, 1<<30 }})
	ops, schemas := e.operations(t)
	callers := []string{"", e.loginDev(15001).Token, e.loginDev(adminTG).Token}
	valid := []string{"qa-engineer", "en", "DE", "candidate", "interviewer", "1-3", "UTC", "Europe/Berlin", "true", "waiting",
		"users", "ndjson", "csv", "ann@example.org", "+4930123456", "0-0", "user-" + uuid.NewString(), "QueueJoined",
		time.Now().UTC().Format(time.RFC3339)}
	leaks := regexp.MustCompile(`goroutine \d|\.go:\d|SQLSTATE|ERROR: |pgx|panic|runtime\.|syntax error`)
	host := strings.TrimPrefix(e.base, "http://")

	const workers = 4
	var mu sync.Mutex
	refused := map[string]string{} // request id → what the request was
	// A fuzzed X-Request-ID may repeat (a word of the valid list): an id that a request
	// which was carried out also had says nothing about the refused one.
	accepted := map[string]bool{}
	statuses := map[int]int{}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			f := &fuzzer{rng: rand.New(rand.NewPCG(20261201, uint64(w))), schemas: schemas, valid: valid}
			var conn net.Conn
			var rd *bufio.Reader
			defer func() {
				if conn != nil {
					conn.Close()
				}
			}()
			for i := w; i < fuzzRequests; i += workers {
				if conn == nil {
					var err error
					if conn, err = net.Dial("tcp", host); err != nil {
						t.Error(err)
						return
					}
					rd = bufio.NewReader(conn)
				}
				_ = conn.SetDeadline(time.Now().Add(time.Minute))
				op := f.pick(ops)
				caller := callers[f.rng.IntN(len(callers))]
				if op.path == "/api/auth/logout" {
					caller = "" // the user's and the admin's sessions must last the whole run
				}
				what := f.request(conn, op, host, caller, i)
				resp, err := nethttp.ReadResponse(rd, nil)
				if err != nil {
					t.Errorf("%s: no answer: %v", what, err)
					return
				}
				if resp.StatusCode == 200 && resp.Header.Get("Content-Type") == "text/event-stream" {
					// A stream that opened never ends: leave it, on its connection.
					conn.Close()
					conn = nil
					mu.Lock()
					statuses[resp.StatusCode]++
					mu.Unlock()
					continue
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.Close {
					conn.Close()
					conn = nil
				}
				mu.Lock()
				statuses[resp.StatusCode]++
				if resp.StatusCode >= 400 {
					refused[resp.Header.Get("X-Request-ID")] = what
				} else {
					accepted[resp.Header.Get("X-Request-ID")] = true
				}
				mu.Unlock()
				if resp.StatusCode >= 500 || (resp.StatusCode >= 400 && leaks.Match(body)) {
					t.Errorf("%s: %d %.300s", what, resp.StatusCode, body)
				}
			}
		})
	}
	wg.Wait()
	t.Logf("%d requests, statuses %v", fuzzRequests, statuses)

	rows, err := e.pool.Query(context.Background(), `SELECT metadata->>'correlation_id' FROM watermill_events`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		if what, ok := refused[id]; ok && !accepted[id] {
			t.Errorf("a refused request left an event in the log: %s", what)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}

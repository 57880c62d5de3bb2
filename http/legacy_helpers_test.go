package http_test

import (
	"bytes"
	"encoding/json"
	"io"
	nethttp "net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/supermock/engine/http/auth"
)

// frontendTab is the frontend in one browser tab: the session cookie in a jar, one
// keep-alive connection, the page's Origin as the browser adds it, and no header but
// the body's Content-Type, as the pages send.
type frontendTab struct {
	t    testing.TB
	base string
	http *nethttp.Client
}

func (e *env) frontendTab() *frontendTab {
	jar, err := cookiejar.New(nil)
	if err != nil {
		e.t.Fatal(err)
	}
	transport := &nethttp.Transport{MaxConnsPerHost: 1, MaxIdleConnsPerHost: 1}
	e.t.Cleanup(transport.CloseIdleConnections)
	return &frontendTab{t: e.t, base: e.base + "/legacy", http: &nethttp.Client{Jar: jar, Transport: transport}}
}

// sessionCookie is the session cookie the tab holds.
func (b *frontendTab) sessionCookie() *nethttp.Cookie {
	b.t.Helper()
	u, _ := url.Parse(b.base)
	for _, c := range b.http.Jar.Cookies(u) {
		if c.Name == "sm_sess" {
			return c
		}
	}
	b.t.Fatal("the tab holds no session cookie")
	return nil
}

// keep puts a cookie into the tab, as a copy of another tab's.
func (b *frontendTab) keep(c *nethttp.Cookie) {
	u, _ := url.Parse(b.base)
	b.http.Jar.SetCookies(u, []*nethttp.Cookie{{Name: c.Name, Value: c.Value, Path: "/"}})
}

// legacyAnswer is an answer of the group: the envelope as JSON and the raw fields.
type legacyAnswer struct {
	status int
	header nethttp.Header
	body   map[string]any
	raw    []byte
}

// do sends what a page's fetch sends: a JSON body is given as a string, exactly.
func (b *frontendTab) do(method, path, body string) legacyAnswer {
	b.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := nethttp.NewRequest(method, b.base+path, rd)
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Origin", frontend)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := b.http.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	a := legacyAnswer{status: resp.StatusCode, header: resp.Header, raw: raw}
	if err := json.Unmarshal(raw, &a.body); err != nil {
		b.t.Fatalf("%s %s answered %d %s: not a JSON object", method, path, resp.StatusCode, raw)
	}
	return a
}

// ok sends a request that must succeed and returns its data.
func (b *frontendTab) ok(method, path, body string) any {
	b.t.Helper()
	a := b.do(method, path, body)
	if a.status != 200 || a.body["success"] != true {
		b.t.Fatalf("%s %s: %d %s", method, path, a.status, a.raw)
	}
	return a.body["data"]
}

// refused checks the old shape of a refusal: success false, error a message (never an
// object) and the engine's stable code beside it.
func (b *frontendTab) refused(a legacyAnswer, status int, code, message string) {
	b.t.Helper()
	msg, isString := a.body["error"].(string)
	if a.status != status || a.body["success"] != false || !isString || msg == "" || a.body["code"] != code {
		b.t.Fatalf("got %d %s, want %d with code %s", a.status, a.raw, status, code)
	}
	if message != "" && msg != message {
		b.t.Fatalf("error %q, want %q", msg, message)
	}
}

// widget is the Login Widget's object for a user, signed by the test bot.
func widget(tgID int64, first, last, username string, at time.Time) string {
	fields := map[string]string{"id": strconv.FormatInt(tgID, 10), "first_name": first, "last_name": last,
		"username": username, "auth_date": strconv.FormatInt(at.Unix(), 10)}
	out := map[string]any{"id": tgID, "first_name": first, "last_name": last, "username": username,
		"auth_date": at.Unix(), "hash": auth.SignWidget(fields, botToken)}
	raw, _ := json.Marshal(out)
	return string(raw)
}

// obj, list, str, num and flag read a field the pages read, failing unless it is there
// with that JSON type.
func obj(t testing.TB, v any, path ...string) map[string]any {
	t.Helper()
	m, ok := field(t, v, path).(map[string]any)
	if !ok {
		t.Fatalf("%s is not an object in %v", strings.Join(path, "."), v)
	}
	return m
}

func list(t testing.TB, v any, path ...string) []any {
	t.Helper()
	l, ok := field(t, v, path).([]any)
	if !ok {
		t.Fatalf("%s is not an array in %v", strings.Join(path, "."), v)
	}
	return l
}

func str(t testing.TB, v any, path ...string) string {
	t.Helper()
	s, ok := field(t, v, path).(string)
	if !ok {
		t.Fatalf("%s is not a string in %v", strings.Join(path, "."), v)
	}
	return s
}

func num(t testing.TB, v any, path ...string) float64 {
	t.Helper()
	n, ok := field(t, v, path).(float64)
	if !ok {
		t.Fatalf("%s is not a number in %v", strings.Join(path, "."), v)
	}
	return n
}

func flag(t testing.TB, v any, path ...string) bool {
	t.Helper()
	f, ok := field(t, v, path).(bool)
	if !ok {
		t.Fatalf("%s is not true or false in %v", strings.Join(path, "."), v)
	}
	return f
}

// when reads an ISO time as JavaScript's new Date() would.
func when(t testing.TB, v any, path ...string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339Nano, str(t, v, path...))
	if err != nil {
		t.Fatalf("%s: %v", strings.Join(path, "."), err)
	}
	return at
}

func field(t testing.TB, v any, path []string) any {
	t.Helper()
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("no field %s in %v", p, v)
		}
		if v, ok = m[p]; !ok {
			t.Fatalf("no field %s in %v", p, m)
		}
	}
	return v
}

func isNull(v any) bool { return v == nil }

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(v); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(buf.String())
}

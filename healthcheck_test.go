package main

import (
	"bytes"
	"context"
	"io"
	"net"
	nethttp "net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/supermock/engine/internal/testdb"
)

// The container's HEALTHCHECK runs `supermock healthcheck` with the container's
// environment: healthy while the engine serves, sick once PostgreSQL refuses it, and
// healthy again when PostgreSQL is back, without a restart.
func TestHealthcheckFollowsARunningEngine(t *testing.T) {
	t.Parallel()
	port := freePort(t)
	dbURL := testdb.NewDatabase(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var logs bytes.Buffer
	go func() {
		done <- run(ctx, []string{"serve"}, env(map[string]string{"DATABASE_URL": dbURL, "PORT": strconv.Itoa(port), "METRICS_PORT": strconv.Itoa(freePort(t))}), &logs, io.Discard)
	}()
	t.Cleanup(func() { // before the database is dropped
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve ended with %v\n%s", err, logs.String())
		}
	})
	waitForListener(t, port, done)

	// The production container's environment: no JWT secret is needed to ask.
	containerEnv := env(map[string]string{"PORT": strconv.Itoa(port), "APP_ENV": "production"})
	check := func() (string, error) {
		var out bytes.Buffer
		err := run(context.Background(), []string{"healthcheck"}, containerEnv, &out, io.Discard)
		return out.String(), err
	}
	if out, err := check(); err != nil || !strings.Contains(out, `"status":"ok"`) {
		t.Fatalf("healthcheck of a serving engine: %v, printed %q", err, out)
	}

	setConnectionsAllowed(t, dbURL, false)
	if _, err := check(); err == nil {
		t.Fatal("healthcheck passed while PostgreSQL refused the engine")
	} else if !strings.Contains(err.Error(), "503") {
		t.Errorf("healthcheck failed without naming the 503: %v", err)
	}

	// Connections PostgreSQL cut are found dead one by one: health is back by itself,
	// soon, without a restart.
	setConnectionsAllowed(t, dbURL, true)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		_, err := check()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("healthcheck after PostgreSQL came back: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestHealthcheckFailsUnlessTheAnswerIsOK(t *testing.T) {
	t.Parallel()
	answer := func(status int, body string) nethttp.HandlerFunc {
		return func(w nethttp.ResponseWriter, r *nethttp.Request) {
			if r.URL.Path != "/api/health" {
				nethttp.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = w.Write([]byte(body))
		}
	}
	hang := func(w nethttp.ResponseWriter, r *nethttp.Request) { <-r.Context().Done() }
	cases := []struct {
		name    string
		handler nethttp.HandlerFunc
		want    string // in the error; empty: healthy
	}{
		{"healthy", answer(200, `{"status":"ok","database":"connected"}`), ""},
		{"database down", answer(503, `{"status":"error","database":"disconnected"}`), "answered 503"},
		{"200 that is not ok", answer(200, `{"status":"error"}`), `"status":"error"`},
		{"ok that is not 200", answer(500, `{"status":"ok"}`), "answered 500"},
		{"not JSON", answer(200, `<html>ok</html>`), "answered 200"},
		{"unknown route", answer(404, `{"error":{"code":"not-found"}}`), "answered 404"},
		{"no answer in time", hang, "deadline exceeded"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			server := httptest.NewServer(tc.handler)
			defer server.Close()
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			var out bytes.Buffer
			err := run(ctx, []string{"healthcheck", server.URL + "/api/health"}, env(map[string]string{"APP_ENV": "production"}), &out, io.Discard)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("healthcheck failed: %v", err)
			case tc.want != "" && err == nil:
				t.Fatalf("healthcheck passed, printing %q", out.String())
			case tc.want != "" && !strings.Contains(err.Error(), tc.want):
				t.Fatalf("error %q does not say %q", err, tc.want)
			}
		})
	}

	t.Run("nobody listens", func(t *testing.T) {
		t.Parallel()
		err := run(context.Background(), []string{"healthcheck"}, env(map[string]string{"PORT": strconv.Itoa(freePort(t))}), &bytes.Buffer{}, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "connection refused") {
			t.Fatalf("healthcheck of a closed port: %v", err)
		}
	})
}

func TestHealthcheckURL(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		args []string
		vars map[string]string
		want string // the URL, or a part of the error
		ok   bool
	}{
		{"default port", nil, nil, "http://127.0.0.1:3001/api/health", true},
		{"PORT", nil, map[string]string{"PORT": " 8080 "}, "http://127.0.0.1:8080/api/health", true},
		{"URL argument wins", []string{"http://backend:3001/api/health"}, map[string]string{"PORT": "8080"}, "http://backend:3001/api/health", true},
		{"bad PORT", nil, map[string]string{"PORT": "eighty"}, "PORT must be a port number", false},
		{"PORT out of range", nil, map[string]string{"PORT": "70000"}, "PORT must be a port number", false},
		{"not a URL", []string{"backend:3001"}, nil, "is not an http(s) URL", false},
		{"two arguments", []string{"http://a/", "http://b/"}, nil, "one URL at most", false},
	}
	for _, tc := range cases {
		_, _, err := parse(append([]string{"healthcheck"}, tc.args...), io.Discard)
		var got string
		if err == nil {
			got, err = healthURL(strings.Join(tc.args, ""), env(tc.vars))
		}
		if tc.ok && (err != nil || got != tc.want) {
			t.Errorf("%s: got %q, %v; want %q", tc.name, got, err, tc.want)
		}
		if !tc.ok && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: got %q, %v; want an error saying %q", tc.name, got, err, tc.want)
		}
	}
}

func waitForListener(t *testing.T, port int, done <-chan error) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		conn, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second)
		if err == nil {
			conn.Close()
			return
		}
		select {
		case err := <-done:
			t.Fatalf("serve ended before listening: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing listens on port %d: %v", port, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// setConnectionsAllowed makes PostgreSQL refuse (and drop) or accept again every
// connection to the database of dbURL, as an outage of the database would.
func setConnectionsAllowed(t *testing.T, dbURL string, allowed bool) {
	t.Helper()
	ctx := context.Background()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	u.Path = "/postgres" // a database cannot refuse connections to itself
	conn, err := pgx.Connect(ctx, u.String())
	if err != nil {
		t.Fatalf("connect to the server's postgres database: %v", err)
	}
	defer conn.Close(ctx)
	ident := pgx.Identifier{name}.Sanitize()
	if _, err := conn.Exec(ctx, "ALTER DATABASE "+ident+" WITH ALLOW_CONNECTIONS "+strconv.FormatBool(allowed)); err != nil {
		t.Fatal(err)
	}
	if !allowed {
		if _, err := conn.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name); err != nil {
			t.Fatal(err)
		}
	}
}

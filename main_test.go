package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	nethttp "net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/supermock/engine/internal/testdb"
)

func TestMain(m *testing.M) {
	if os.Getenv(asBinary) == "1" {
		main()
	}
	testdb.Main(m)
}

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func TestServeAnswersHealthAndStopsWhenCancelled(t *testing.T) {
	t.Parallel()
	port := freePort(t)
	vars := map[string]string{"DATABASE_URL": testdb.NewDatabase(t), "PORT": strconv.Itoa(port), "METRICS_PORT": strconv.Itoa(freePort(t))}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	var logs bytes.Buffer
	go func() { done <- run(ctx, []string{"serve"}, env(vars), &logs, io.Discard) }()

	url := fmt.Sprintf("http://127.0.0.1:%d/api/health", port)
	var body struct {
		Status   string            `json:"status"`
		Database string            `json:"database"`
		Services map[string]string `json:"services"`
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		resp, err := nethttp.Get(url)
		if err == nil {
			err = json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("health answered %d", resp.StatusCode)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server never answered: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if body.Status != "ok" || body.Database != "connected" || body.Services["telegram"] != "disabled" {
		t.Fatalf("health: %+v", body)
	}

	cancel() // what SIGINT and SIGTERM do
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve ended with %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop after its context ended")
	}
	if _, err := nethttp.Get(url); err == nil {
		t.Fatal("the server still answers after stopping")
	}
}

func TestMigrateTwiceChangesNothingTheSecondTime(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testdb.NewDatabase(t) // migrated already, as a first run leaves it
	var logs bytes.Buffer
	if err := run(ctx, []string{"migrate"}, env(map[string]string{"DATABASE_URL": url}), &logs, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "count=0") {
		t.Fatalf("a second migrate applied something:\n%s", logs.String())
	}
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var tables int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM information_schema.tables
		WHERE table_name IN ('watermill_events', 'watermill_offsets_events')`).Scan(&tables); err != nil || tables != 2 {
		t.Fatalf("log tables present: %d (%v), want 2", tables, err)
	}
}

// LOG_LEVEL sets the least level the engine logs.
func TestLogLevelQuietsTheEngine(t *testing.T) {
	t.Parallel()
	url := testdb.NewDatabase(t)
	for level, wantLines := range map[string]bool{"info": true, "warn": false} {
		var logs bytes.Buffer
		if err := run(context.Background(), []string{"migrate"}, env(map[string]string{"DATABASE_URL": url, "LOG_LEVEL": level}), &logs, io.Discard); err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(logs.String(), "migrations applied"); got != wantLines {
			t.Errorf("LOG_LEVEL=%s: info lines logged %v, want %v\n%s", level, got, wantLines, logs.String())
		}
	}
}

func TestRunRefusesWhatItCannotDo(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cases := []struct {
		name string
		args []string
		vars map[string]string
		want string
	}{
		{"unknown command", []string{"launch"}, nil, `unknown command "launch"`},
		{"production without a secret", nil, map[string]string{"APP_ENV": "production"}, "JWT_SECRET of at least 32 bytes"},
		{"production with a short secret", nil, map[string]string{"APP_ENV": "production", "JWT_SECRET": "short"}, "JWT_SECRET of at least 32 bytes"},
		{"production without a data key", nil, map[string]string{"APP_ENV": "production", "JWT_SECRET": strings.Repeat("s", 32)}, "DATA_KEY is required"},
		{"a data key of the wrong size", nil, map[string]string{"DATA_KEY": "abcd"}, "DATA_KEY: must be 32 bytes"},
		{"bad port", nil, map[string]string{"PORT": "eighty"}, "PORT: must be a port number"},
		{"a session that ends before it starts", nil, map[string]string{"JWT_TTL": "0"}, "JWT_TTL"},
		{"unknown environment", nil, map[string]string{"APP_ENV": "staging"}, "APP_ENV must be"},
		{"bad admin id", nil, map[string]string{"ADMIN_TELEGRAM_IDS": "12,abc"}, `"abc" is not a Telegram id`},
	}
	for _, tc := range cases {
		err := run(ctx, tc.args, env(tc.vars), &bytes.Buffer{}, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error saying %q", tc.name, err, tc.want)
		}
	}
}

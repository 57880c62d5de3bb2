package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/supermock/engine/internal/eventlog"
	"github.com/supermock/engine/internal/testdb"
)

func TestDemoReplayAndRebuildFromTheCommandLine(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	vars := map[string]string{"DATABASE_URL": testdb.NewDatabase(t)}
	// What a command prints: its data on stdout, its logs and progress on stderr.
	var stderr bytes.Buffer
	cli := func(args ...string) (string, error) {
		var out bytes.Buffer
		stderr.Reset()
		err := run(ctx, args, env(vars), &out, &stderr)
		return out.String(), err
	}
	out, err := cli("demo", "--users", "30", "--seed", "3", "--days", "2")
	if err != nil || !strings.Contains(out, " events: 30 users") {
		t.Fatalf("demo: %v\n%s", err, out)
	}

	pool, err := pgxpool.New(ctx, vars["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	store, err := eventlog.New(pool)
	if err != nil {
		t.Fatal(err)
	}
	testdb.WaitVisible(t, store.Log()) // a replay shows what page readers see

	dir := t.TempDir()
	first, second := filepath.Join(dir, "1.ndjson"), filepath.Join(dir, "2.ndjson")
	if out, err := cli("replay", "--out", first); err != nil || !strings.Contains(out, "resume with --after") {
		t.Fatalf("replay to a file: %v\n%s", err, out)
	}
	if _, err := cli("replay", "--out", second); err != nil {
		t.Fatal(err)
	}
	toStdout, err := cli("replay")
	if err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(first)
	b, _ := os.ReadFile(second)
	if len(a) == 0 || !bytes.Equal(a, b) || string(a) != toStdout {
		t.Fatalf("three replays of one history differ (%d, %d, %d bytes)", len(a), len(b), len(toStdout))
	}
	csvOut, err := cli("replay", "--format", "csv", "--type", "QueueJoined,MatchMade", "--since", "2000-01-01T00:00:00Z")
	if err != nil {
		t.Fatal(err)
	}
	rows := strings.Split(strings.TrimSpace(csvOut), "\n")
	if !strings.HasPrefix(rows[0], "position,sequence,event_id,stream_id") || len(rows) < 10 {
		t.Fatalf("csv replay: %d rows, header %q", len(rows), rows[0])
	}
	for _, r := range rows[1:] {
		if !strings.Contains(r, ",QueueJoined,") && !strings.Contains(r, ",MatchMade,") {
			t.Fatalf("csv replay selected %s", r)
		}
	}

	// Parquet: one file per event type in the folder, every event in one of them.
	folder := filepath.Join(dir, "parquet")
	if out, err := cli("replay", "--format", "parquet", "--out", folder); err != nil || !strings.Contains(out, " events written to ") {
		t.Fatalf("replay to parquet: %v\n%s", err, out)
	}
	parquetFiles, _ := filepath.Glob(filepath.Join(folder, "*.parquet"))
	if len(parquetFiles) < 10 || !slices.Contains(parquetFiles, filepath.Join(folder, "MatchMade.parquet")) {
		t.Fatalf("parquet files: %v", parquetFiles)
	}
	if _, err := cli("replay", "--format", "parquet"); exitCode(err) != 2 || !strings.Contains(err.Error(), "--out") {
		t.Errorf("parquet without --out: exit %d, %v", exitCode(err), err)
	}

	// The history ends now: yesterday, a date, holds a day of it.
	yesterday := time.Now().UTC().Add(-24 * time.Hour).Format("2006-01-02")
	if day, err := cli("replay", "--since", yesterday, "--until", time.Now().UTC().Format("2006-01-02")); err != nil ||
		!strings.Contains(day, `"occurred_at":"`+yesterday+"T") || strings.Count(day, "\n") < 10 {
		t.Fatalf("replay of %s: %v\n%.300s", yesterday, err, day)
	}
	if _, err := cli("replay", "--type", "QueueJoined,Foo"); exitCode(err) == 0 || !strings.Contains(err.Error(), `"Foo"`) ||
		!strings.Contains(err.Error(), "MatchMade") {
		t.Errorf("an unknown type: exit %d, %v", exitCode(err), err)
	}
	if _, err := cli("demo", "--users", "30", "--seed", "3", "--days", "2"); exitCode(err) == 0 || !strings.Contains(err.Error(), "--seed 4") {
		t.Errorf("a second demo of seed 3: exit %d, %v", exitCode(err), err)
	}

	out, err = cli("rebuild", "--all")
	if progress := stderr.String(); err != nil || out != "" || !strings.Contains(progress, ": building ") || !strings.Contains(progress, ": done ") {
		t.Fatalf("rebuild --all: %v\nstdout %q\nstderr %s", err, out, progress)
	}
	if _, err := cli("rebuild", "interview_queue"); err != nil || !strings.Contains(stderr.String(), "rebuild interview_queue: done") {
		t.Fatalf("rebuild interview_queue: %v\n%s", err, stderr.String())
	}
	for _, args := range [][]string{{"rebuild"}, {"rebuild", "nope"}, {"rebuild", "--all", "users"},
		{"replay", "--format", "xml"}, {"replay", "--since", "yesterday"}, {"replay", "--after", "x"}} {
		if _, err := cli(args...); err == nil {
			t.Errorf("%v was accepted", args)
		}
	}
}

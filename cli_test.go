package main

import (
	"bytes"
	"context"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/supermock/engine/projections"
)

// Arguments are read before anything else: help and usage mistakes answer at once,
// with a configuration that could not start and a database that cannot be reached.
var unreachable = map[string]string{"DATABASE_URL": "postgres://127.0.0.1:1/none", "APP_ENV": "staging"}

func TestHelpPrintsUsageAndTouchesNothing(t *testing.T) {
	t.Parallel()
	for _, c := range commands {
		for _, help := range []string{"--help", "-h"} {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), []string{c.name, help}, env(unreachable), &stdout, &stderr)
			if err != nil || exitCode(err) != 0 || !strings.HasPrefix(stdout.String(), "usage: supermock "+c.name) || stderr.Len() > 0 {
				t.Errorf("%s %s: exit %d (%v)\nstdout %q\nstderr %q", c.name, help, exitCode(err), err, stdout.String(), stderr.String())
			}
		}
	}
	for _, args := range [][]string{{"help"}, {"--help"}, {"-h"}} {
		var stdout bytes.Buffer
		err := run(context.Background(), args, env(unreachable), &stdout, &bytes.Buffer{})
		if err != nil || !strings.Contains(stdout.String(), "commands:") {
			t.Errorf("%v: %v\n%s", args, err, stdout.String())
		}
		for _, c := range commands {
			if !strings.Contains(stdout.String(), "  "+c.name+" ") {
				t.Errorf("%v does not list %s", args, c.name)
			}
		}
	}
}

func TestUsageMistakesExitTwoBeforeTouchingADatabase(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"launch"}, {"serve", "now"}, {"migrate", "--force"}, {"rebuild"}, {"rebuild", "nope"},
		{"rebuild", "--all", "users"}, {"replay", "--format", "xml"}, {"replay", "--since", "yesterday"},
		{"replay", "--after", "x"}, {"replay", "extra"}, {"demo", "--users", "many"}, {"demo", "extra"},
		{"healthcheck", "backend:3001"}, {"healthcheck", "http://a/", "http://b/"}, {"version", "--short"},
	} {
		var stdout bytes.Buffer
		err := run(context.Background(), args, env(unreachable), &stdout, &bytes.Buffer{})
		if exitCode(err) != 2 || !strings.Contains(err.Error(), "usage: supermock") || stdout.Len() > 0 {
			t.Errorf("%v: exit %d, %v; stdout %q", args, exitCode(err), err, stdout.String())
		}
	}
	// A configuration that cannot start is not a usage mistake.
	if err := run(context.Background(), []string{"migrate"}, env(unreachable), &bytes.Buffer{}, &bytes.Buffer{}); exitCode(err) != 1 {
		t.Errorf("migrate with APP_ENV=staging: exit %d (%v), want 1", exitCode(err), err)
	}
}

func TestVersionNamesTheModuleAndTheRevision(t *testing.T) {
	t.Parallel()
	info := &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Path: "github.com/supermock/engine", Version: "v1.4.0"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123abcd"}, {Key: "vcs.time", Value: "2026-12-01T12:00:00Z"}, {Key: "vcs.modified", Value: "true"}}}
	want := "supermock github.com/supermock/engine v1.4.0 revision 0123abcd (modified) from 2026-12-01T12:00:00Z go1.26.0"
	if got := version(info); got != want {
		t.Errorf("version:\n got %s\nwant %s", got, want)
	}
	if got := version(&debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Path: "github.com/supermock/engine"}}); !strings.Contains(got, "(devel) revision unknown") {
		t.Errorf("a build without VCS information: %s", got)
	}
	var stdout bytes.Buffer
	if err := run(context.Background(), []string{"version"}, env(unreachable), &stdout, &bytes.Buffer{}); err != nil ||
		!strings.HasPrefix(stdout.String(), "supermock ") || !strings.HasSuffix(stdout.String(), "\n") {
		t.Errorf("version: %v %q", err, stdout.String())
	}
}

// On a terminal the bar redraws one line; when the rebuild ends, that line is ended, so
// whatever comes next starts on a line of its own.
func TestTheProgressBarEndsItsLine(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	bar := &progressBar{w: &out, terminal: true}
	bar.show(projections.Progress{Projections: []string{"users"}, Phase: "building", Done: 10, Total: 100})
	bar.show(projections.Progress{Projections: []string{"users"}, Phase: "done", Done: 100, Total: 100})
	bar.end()
	if s := out.String(); !strings.HasPrefix(s, "\r") || !strings.HasSuffix(s, "\n") || strings.Count(s, "\n") != 1 {
		t.Errorf("the bar drew %q", s)
	}
}

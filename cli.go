package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/supermock/engine/internal/config"
	"github.com/supermock/engine/internal/eventlog"
)

// command is one subcommand of the binary. Its arguments are read before anything
// else, so --help and a usage mistake never touch the configuration or a database.
type command struct {
	name     string
	synopsis string // the arguments, for the usage line
	summary  string
	// database: the configuration is loaded, the database opened and migrated before
	// the body runs.
	database bool
	// define puts the command's flags on fs; what it returns checks the arguments left
	// after the flags and gives the body to run.
	define func(fs *flag.FlagSet) func(args []string) (body, error)
}

// body is a command's work, once its arguments are read.
type body func(ctx context.Context, e *runEnv) error

// runEnv is what a command's body works with. cfg, logger, pool and store are set for
// the commands that need the database.
type runEnv struct {
	getenv         func(string) string
	stdout, stderr io.Writer
	cfg            config.Config
	logger         *slog.Logger
	pool           *pgxpool.Pool
	store          *eventlog.Store
}

// commands of the binary, in the order the usage lists them.
var commands = []command{
	{name: "serve", summary: "apply migrations and serve the API (the default command)", database: true, define: noArguments(serveCommand)},
	{name: "migrate", summary: "apply migrations and exit", database: true, define: noArguments(func(context.Context, *runEnv) error { return nil })},
	{name: "rebuild", synopsis: "name... | --all", summary: "rebuild projections into shadow tables and switch them in", database: true, define: rebuildCommand},
	{name: "replay", synopsis: "[--format ndjson|csv|parquet] [--after CURSOR] [--since T] [--until T] [--type T,...] [--stream S,...] [--out FILE]",
		summary: "stream the log's events, filtered (--since/--until on occurred_at: RFC 3339 or a date)", database: true, define: replayCommand},
	{name: "demo", synopsis: "[--users N] [--seed S] [--days D] [--start T] [--max-events N]", summary: "append a realistic history generated from a seed", database: true, define: demoCommand},
	{name: "encrypt-personal-data", synopsis: "[--page N]", summary: "encrypt, once, the personal data a log written before encryption holds in clear; resumable",
		database: true, define: encryptCommand},
	{name: "rotate-data-key", summary: "re-wrap the users' data keys under DATA_KEY that DATA_KEY_PREVIOUS still wraps", database: true, define: noArguments(rotateCommand)},
	{name: "healthcheck", synopsis: "[url]", summary: "exit 0 when the API at PORT (or url) answers healthy: Docker's HEALTHCHECK", define: healthcheckCommand},
	{name: "version", summary: "print the module version and the VCS revision it was built from", define: noArguments(versionCommand)},
}

// usageError is a mistake in the command line: the binary exits 2 and shows the usage.
type usageError struct {
	err   error
	usage string
}

func (e usageError) Error() string { return e.err.Error() + "\n" + e.usage }
func (e usageError) Unwrap() error { return e.err }

// exitCode is what the process ends with after run returned err.
func exitCode(err error) int {
	var u usageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &u):
		return 2
	default:
		return 1
	}
}

// parse finds the command in args and reads its arguments. A nil body with a nil
// error means help was asked for, and printed to stdout.
func parse(args []string, stdout io.Writer) (*command, body, error) {
	name := "serve"
	if len(args) > 0 {
		name, args = args[0], args[1:]
	}
	switch name {
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage())
		return nil, nil, nil
	}
	var cmd *command
	for i := range commands {
		if commands[i].name == name {
			cmd = &commands[i]
		}
	}
	if cmd == nil {
		return nil, nil, usageError{fmt.Errorf("unknown command %q", name), usage()}
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // the usage is printed here, to stdout or in the error
	check := cmd.define(fs)
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, cmd.usage(fs))
		return nil, nil, nil
	}
	var b body
	if err == nil {
		b, err = check(fs.Args())
	}
	if err != nil {
		return nil, nil, usageError{fmt.Errorf("%s: %w", name, err), cmd.usage(fs)}
	}
	return cmd, b, nil
}

func usage() string {
	var b strings.Builder
	b.WriteString("usage: supermock [command] [arguments]\n\ncommands:\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-12s %s\n", c.name, c.summary)
	}
	b.WriteString("\nsupermock COMMAND --help shows a command's arguments.\n")
	return b.String()
}

func (c *command) usage(fs *flag.FlagSet) string {
	var b strings.Builder
	fmt.Fprintf(&b, "usage: supermock %s %s\n  %s\n", c.name, c.synopsis, c.summary)
	fs.SetOutput(&b)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
	return b.String()
}

// noArguments is the define of a command that takes none.
func noArguments(run body) func(*flag.FlagSet) func([]string) (body, error) {
	return func(*flag.FlagSet) func([]string) (body, error) {
		return func(args []string) (body, error) {
			if len(args) > 0 {
				return nil, fmt.Errorf("unexpected %q", args)
			}
			return run, nil
		}
	}
}

func versionCommand(_ context.Context, e *runEnv) error {
	info, _ := debug.ReadBuildInfo()
	fmt.Fprintln(e.stdout, version(info))
	return nil
}

// version names the build: the module's version, the VCS revision and time when the
// build recorded them (a build from a git checkout does), and the Go release.
func version(info *debug.BuildInfo) string {
	if info == nil {
		return "supermock: no build information"
	}
	mod := info.Main.Version
	if mod == "" {
		mod = "(devel)"
	}
	vcs := map[string]string{}
	for _, s := range info.Settings {
		vcs[s.Key] = s.Value
	}
	revision := vcs["vcs.revision"]
	if revision == "" {
		revision = "unknown"
	} else if vcs["vcs.modified"] == "true" {
		revision += " (modified)"
	}
	line := fmt.Sprintf("supermock %s %s revision %s", info.Main.Path, mod, revision)
	if t := vcs["vcs.time"]; t != "" {
		line += " from " + t
	}
	return line + " " + info.GoVersion
}

package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/supermock/engine/eventstore"
	"github.com/supermock/engine/internal/config"
	"github.com/supermock/engine/internal/demo"
	"github.com/supermock/engine/internal/eventlog"
	"github.com/supermock/engine/migrations"
	"github.com/supermock/engine/projections"
)

const toolsUsage = `  rebuild name... | --all
            rebuild projections into shadow tables and switch them in
  replay [--format ndjson|csv] [--after CURSOR] [--since T] [--until T]
         [--type T,...] [--stream S,...] [--out FILE]
            stream the log's events, filtered (times in RFC 3339)
  demo [--users N] [--seed S] [--days D] [--max-events N]
            append a realistic history generated from a seed`

// runTool runs the commands that work on the log and the read tables. Their logs go to
// stderr: stdout carries what they produce.
func runTool(ctx context.Context, command string, args []string, getenv func(string) string, stdout io.Writer) error {
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	logger := newLogger(cfg, os.Stderr)
	type tool func(context.Context, *pgxpool.Pool, *eventstore.Store, []string, io.Writer, *slog.Logger) error
	var t tool
	switch command {
	case "rebuild":
		t = rebuildCommand
	case "replay":
		t = replayCommand
	default:
		t = demoCommand
	}
	pool, closeDB, err := openDatabase(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer closeDB()
	if _, err := migrations.Up(ctx, pool); err != nil {
		return err
	}
	log, err := eventlog.New(pool)
	if err != nil {
		return err
	}
	return t(ctx, pool, log.Log(), args, stdout, logger)
}

func flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	return fs
}

func rebuildCommand(ctx context.Context, pool *pgxpool.Pool, store *eventstore.Store, args []string, stdout io.Writer, logger *slog.Logger) error {
	fs := flags("rebuild")
	all := fs.Bool("all", false, "rebuild every projection")
	if err := fs.Parse(args); err != nil {
		return err
	}
	names := fs.Args()
	if *all == (len(names) > 0) {
		return fmt.Errorf("rebuild: name projections or say --all\n%s", toolsUsage)
	}
	ps, err := projections.Select(names...)
	if err != nil {
		return err
	}
	bar := newProgressBar(stdout)
	err = projections.Rebuild(ctx, pool, store, ps, projections.RebuildConfig{Progress: bar.show, Logger: logger})
	bar.end()
	return err
}

func replayCommand(ctx context.Context, _ *pgxpool.Pool, store *eventstore.Store, args []string, stdout io.Writer, _ *slog.Logger) error {
	fs := flags("replay")
	format := fs.String("format", projections.FormatNDJSON, "ndjson or csv")
	after := fs.String("after", "", "resume after this cursor")
	since := fs.String("since", "", "events that occurred at or after this time (RFC 3339)")
	until := fs.String("until", "", "events that occurred before this time (RFC 3339)")
	types := fs.String("type", "", "event types, comma separated")
	streams := fs.String("stream", "", "stream ids, comma separated")
	out := fs.String("out", "", "write to this file instead of stdout")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var f projections.ReplayFilter
	var err error
	if f.After, err = eventstore.ParsePosition(*after); err != nil {
		return err
	}
	for _, t := range []struct {
		s   string
		dst *time.Time
	}{{*since, &f.Since}, {*until, &f.Until}} {
		if t.s == "" {
			continue
		}
		if *t.dst, err = time.Parse(time.RFC3339Nano, t.s); err != nil {
			return fmt.Errorf("replay: %q is not an RFC 3339 time", t.s)
		}
	}
	f.Types, f.Streams = list(*types), list(*streams)
	w := stdout
	if *out != "" {
		file, err := os.Create(*out)
		if err != nil {
			return err
		}
		defer file.Close()
		w = file
	}
	res, err := projections.Replay(ctx, store, w, f, *format)
	if err != nil {
		return err
	}
	if *out != "" {
		fmt.Fprintf(stdout, "%d events written to %s; resume with --after %s\n", res.Events, *out, res.Last)
	}
	return nil
}

func list(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func demoCommand(ctx context.Context, pool *pgxpool.Pool, _ *eventstore.Store, args []string, stdout io.Writer, _ *slog.Logger) error {
	fs := flags("demo")
	users := fs.Int("users", 100, "how many users register")
	seed := fs.Uint64("seed", 1, "the same seed gives the same history")
	days := fs.Int("days", 14, "days of simulated time")
	maxEvents := fs.Int("max-events", 0, "stop after this many events (0: no limit)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("demo: unexpected %q\n%s", fs.Args(), toolsUsage)
	}
	var last time.Time
	stats, err := demo.Generate(ctx, pool, demo.Config{Users: *users, Seed: *seed, Days: *days, MaxEvents: *maxEvents,
		Progress: func(s demo.Stats) {
			if time.Since(last) >= time.Second {
				last = time.Now()
				fmt.Fprintf(stdout, "demo: %d events, simulated until %s\n", s.Events, s.SimulatedUntil.Format(time.RFC3339))
			}
		}})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "demo: %d events: %d users, %d joins, %d matches, %d completed, %d cancelled, %d no-shows, %d feedback, %d notifications\n",
		stats.Events, stats.Users, stats.Joins, stats.Matches, stats.Completed, stats.Cancelled, stats.NoShows, stats.Feedback, stats.Notifications)
	return nil
}

// progressBar draws a rebuild's progress: a bar redrawn in place on a terminal, plain
// lines (at most one a second, and one per phase) otherwise.
type progressBar struct {
	w        io.Writer
	terminal bool
	last     time.Time
	phase    string
	drawn    bool
}

func newProgressBar(w io.Writer) *progressBar {
	f, ok := w.(*os.File)
	terminal := false
	if ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			terminal = true
		}
	}
	return &progressBar{w: w, terminal: terminal}
}

func (b *progressBar) show(p projections.Progress) {
	phaseChanged := p.Phase != b.phase
	b.phase = p.Phase
	pct := 100.0
	if p.Total > 0 {
		pct = 100 * float64(p.Done) / float64(p.Total)
	}
	eta := "-"
	if p.Phase == "building" && p.ETA > 0 {
		eta = p.ETA.Round(time.Second).String()
	}
	if b.terminal {
		if !phaseChanged && time.Since(b.last) < 100*time.Millisecond {
			return
		}
		const width = 30
		filled := int(pct / 100 * width)
		fmt.Fprintf(b.w, "\r%-9s [%s%s] %5.1f%% %d/%d events  %.0f ev/s  ETA %s   ", p.Phase,
			strings.Repeat("#", filled), strings.Repeat(".", width-filled), pct, p.Done, p.Total, p.Rate, eta)
		b.drawn, b.last = true, time.Now()
		return
	}
	if !phaseChanged && time.Since(b.last) < time.Second {
		return
	}
	b.last = time.Now()
	fmt.Fprintf(b.w, "rebuild %s: %s %d/%d events (%.1f%%), %.0f events/s, ETA %s\n",
		strings.Join(p.Projections, ","), p.Phase, p.Done, p.Total, pct, p.Rate, eta)
}

func (b *progressBar) end() {
	if b.drawn {
		fmt.Fprintln(b.w)
	}
}

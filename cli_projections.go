package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/supermock/engine/internal/demo"
	"github.com/supermock/engine/projections"
)

func rebuildCommand(fs *flag.FlagSet) func([]string) (body, error) {
	all := fs.Bool("all", false, "rebuild every projection")
	return func(names []string) (body, error) {
		if *all == (len(names) > 0) {
			return nil, errors.New("name projections or say --all")
		}
		ps, err := projections.Select(names...)
		if err != nil {
			return nil, err
		}
		return func(ctx context.Context, e *runEnv) error {
			bar := newProgressBar(e.stderr)
			err := projections.Rebuild(ctx, e.pool, e.store.Log(), ps, projections.RebuildConfig{Progress: bar.show, Logger: e.logger})
			bar.end()
			return err
		}, nil
	}
}

func replayCommand(fs *flag.FlagSet) func([]string) (body, error) {
	format := fs.String("format", projections.FormatNDJSON, "ndjson, csv or parquet (one file per event type in the folder --out)")
	after := fs.String("after", "", "resume after this cursor")
	since := fs.String("since", "", "events that occurred (occurred_at, the time of the fact) at or after this time: RFC 3339 or a date, midnight UTC")
	until := fs.String("until", "", "events that occurred before this time: RFC 3339 or a date, midnight UTC")
	types := fs.String("type", "", "event types, comma separated")
	streams := fs.String("stream", "", "stream ids, comma separated")
	out := fs.String("out", "", "write to this file instead of stdout; for parquet, the folder of the files (made if missing)")
	return func(args []string) (body, error) {
		if len(args) > 0 {
			return nil, fmt.Errorf("unexpected %q", args)
		}
		switch *format {
		case projections.FormatNDJSON, projections.FormatCSV:
		case projections.FormatParquet:
			if *out == "" {
				return nil, errors.New("--format parquet writes one file per event type: name their folder with --out")
			}
		default:
			return nil, fmt.Errorf("--format must be %s, %s or %s, got %q", projections.FormatNDJSON, projections.FormatCSV, projections.FormatParquet, *format)
		}
		f, err := projections.ReplayQuery{After: *after, Since: *since, Until: *until, Types: list(*types), Streams: list(*streams)}.Parse()
		if err != nil {
			return nil, fmt.Errorf("--%w", err)
		}
		return func(ctx context.Context, e *runEnv) error {
			if *format == projections.FormatParquet {
				return replayParquet(ctx, e, *out, f)
			}
			w := e.stdout
			if *out != "" {
				file, err := os.Create(*out)
				if err != nil {
					return err
				}
				defer file.Close()
				w = file
			}
			res, err := projections.Replay(ctx, e.store.Log(), w, f, *format)
			if err != nil {
				return err
			}
			if *out != "" {
				fmt.Fprintf(e.stdout, "%d events written to %s; resume with --after %s\n", res.Events, *out, res.Last)
			}
			return nil
		}, nil
	}
}

// replayParquet writes the files into dir and names them with their rows.
func replayParquet(ctx context.Context, e *runEnv, dir string, f projections.ReplayFilter) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	res, files, err := projections.ReplayParquet(ctx, e.store.Log(), dir, f)
	if err != nil {
		return err
	}
	for _, file := range files {
		fmt.Fprintf(e.stdout, "%s: %d events\n", file.Path, file.Rows)
	}
	fmt.Fprintf(e.stdout, "%d events written to %d files in %s; resume with --after %s\n", res.Events, len(files), dir, res.Last)
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

func demoCommand(fs *flag.FlagSet) func([]string) (body, error) {
	users := fs.Int("users", 100, "how many users register")
	seed := fs.Uint64("seed", 1, "the same seed and start give the same history; each seed once per database")
	days := fs.Int("days", 14, "days of simulated time, ending now")
	start := fs.String("start", "", "start of the simulated time instead (RFC 3339 or a date, midnight UTC)")
	maxEvents := fs.Int("max-events", 0, "stop after this many events (0: no limit)")
	return func(args []string) (body, error) {
		if len(args) > 0 {
			return nil, fmt.Errorf("unexpected %q", args)
		}
		var from time.Time
		if *start != "" {
			var err error
			if from, err = projections.ParseTime(*start); err != nil {
				return nil, fmt.Errorf("--start %q is not an RFC 3339 time nor a date", *start)
			}
		}
		return func(ctx context.Context, e *runEnv) error {
			if from.IsZero() {
				// The history ends now: the site looks in use, with entries waiting and
				// interviews booked in the days ahead.
				from = time.Now().UTC().Truncate(time.Hour).Add(-time.Duration(*days) * 24 * time.Hour)
			}
			var last time.Time
			stats, err := demo.Generate(ctx, e.pool, demo.Config{Users: *users, Seed: *seed, Days: *days, MaxEvents: *maxEvents, Start: from, Log: e.store,
				Progress: func(s demo.Stats) {
					if time.Since(last) >= time.Second {
						last = time.Now()
						fmt.Fprintf(e.stderr, "demo: %d events, simulated until %s\n", s.Events, s.SimulatedUntil.Format(time.RFC3339))
					}
				}})
			if used := (*demo.SeedUsedError)(nil); errors.As(err, &used) {
				return fmt.Errorf("seed %d was used in this database already (its users are registered): run again with --seed %d, or any seed not used before", used.Seed, used.Free)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "demo: %d events: %d users, %d joins, %d matches, %d completed, %d cancelled, %d no-shows, %d feedback, %d notifications; from %s to %s\n",
				stats.Events, stats.Users, stats.Joins, stats.Matches, stats.Completed, stats.Cancelled, stats.NoShows, stats.Feedback, stats.Notifications,
				from.Format(time.RFC3339), stats.SimulatedUntil.Format(time.RFC3339))
			return nil
		}, nil
	}
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

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

	"github.com/supermock/engine/eventstore"
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
	format := fs.String("format", projections.FormatNDJSON, "ndjson or csv")
	after := fs.String("after", "", "resume after this cursor")
	since := fs.String("since", "", "events that occurred at or after this time (RFC 3339)")
	until := fs.String("until", "", "events that occurred before this time (RFC 3339)")
	types := fs.String("type", "", "event types, comma separated")
	streams := fs.String("stream", "", "stream ids, comma separated")
	out := fs.String("out", "", "write to this file instead of stdout")
	return func(args []string) (body, error) {
		if len(args) > 0 {
			return nil, fmt.Errorf("unexpected %q", args)
		}
		if *format != projections.FormatNDJSON && *format != projections.FormatCSV {
			return nil, fmt.Errorf("--format must be %s or %s, got %q", projections.FormatNDJSON, projections.FormatCSV, *format)
		}
		var f projections.ReplayFilter
		var err error
		if f.After, err = eventstore.ParsePosition(*after); err != nil {
			return nil, err
		}
		for _, t := range []struct {
			s   string
			dst *time.Time
		}{{*since, &f.Since}, {*until, &f.Until}} {
			if t.s == "" {
				continue
			}
			if *t.dst, err = time.Parse(time.RFC3339Nano, t.s); err != nil {
				return nil, fmt.Errorf("%q is not an RFC 3339 time", t.s)
			}
		}
		f.Types, f.Streams = list(*types), list(*streams)
		return func(ctx context.Context, e *runEnv) error {
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
	seed := fs.Uint64("seed", 1, "the same seed gives the same history")
	days := fs.Int("days", 14, "days of simulated time")
	maxEvents := fs.Int("max-events", 0, "stop after this many events (0: no limit)")
	return func(args []string) (body, error) {
		if len(args) > 0 {
			return nil, fmt.Errorf("unexpected %q", args)
		}
		return func(ctx context.Context, e *runEnv) error {
			var last time.Time
			stats, err := demo.Generate(ctx, e.pool, demo.Config{Users: *users, Seed: *seed, Days: *days, MaxEvents: *maxEvents, Log: e.store,
				Progress: func(s demo.Stats) {
					if time.Since(last) >= time.Second {
						last = time.Now()
						fmt.Fprintf(e.stderr, "demo: %d events, simulated until %s\n", s.Events, s.SimulatedUntil.Format(time.RFC3339))
					}
				}})
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "demo: %d events: %d users, %d joins, %d matches, %d completed, %d cancelled, %d no-shows, %d feedback, %d notifications\n",
				stats.Events, stats.Users, stats.Joins, stats.Matches, stats.Completed, stats.Cancelled, stats.NoShows, stats.Feedback, stats.Notifications)
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

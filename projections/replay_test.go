package projections

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/supermock/engine/domain"
	"github.com/supermock/engine/eventstore"
	"github.com/supermock/engine/internal/demo"
)

func replay(t *testing.T, e env, f ReplayFilter, format string) (string, ReplayResult) {
	t.Helper()
	var b bytes.Buffer
	res, err := Replay(context.Background(), e.store, &b, f, format)
	if err != nil {
		t.Fatal(err)
	}
	return b.String(), res
}

func lines(s string) []string { return strings.Split(strings.TrimSuffix(s, "\n"), "\n") }

func decodeLine(t *testing.T, line string) ReplayedEvent {
	t.Helper()
	var ev ReplayedEvent
	if err := json.Unmarshal([]byte(line), &ev); err != nil {
		t.Fatalf("%q: %v", line, err)
	}
	return ev
}

func TestReplayFiltersSelectExactlyTheRightEventsAndResumeWithoutGapOrRepeat(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// Two generations, so occurred_at (the append time) spans a visible gap.
	e.generate(t, demo.Config{Users: 30, Seed: 8, Days: 2})
	time.Sleep(20 * time.Millisecond)
	e.generate(t, demo.Config{Users: 30, Seed: 9, Days: 2, Start: time.Date(2025, 4, 1, 8, 0, 0, 0, time.UTC)})
	waitVisible(t, e)
	ctx := context.Background()
	count := func(where string, args ...any) int {
		var n int
		if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM watermill_events WHERE `+where, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	full, res := replay(t, e, ReplayFilter{}, FormatNDJSON)
	again, _ := replay(t, e, ReplayFilter{}, FormatNDJSON)
	if full != again {
		t.Fatal("two replays of the same history differ")
	}
	all := lines(full)
	if len(all) != count("true") || res.Events != int64(len(all)) {
		t.Fatalf("full replay: %d lines, %d counted, the log has %d", len(all), res.Events, count("true"))
	}
	events := make([]ReplayedEvent, len(all))
	for i, l := range all {
		events[i] = decodeLine(t, l)
		if i > 0 {
			prev, _ := eventstore.ParsePosition(events[i-1].Position)
			cur, _ := eventstore.ParsePosition(events[i].Position)
			if !prev.Less(cur) {
				t.Fatalf("line %d at %s after %s", i, cur, prev)
			}
		}
	}
	if res.Last.String() != events[len(events)-1].Position {
		t.Errorf("result's last position %s, last line %s", res.Last, events[len(events)-1].Position)
	}

	inFull := map[string]bool{}
	for _, l := range all {
		inFull[l] = true
	}
	mid, late := events[len(events)/2], events[len(events)*3/4]
	since, _ := time.Parse(time.RFC3339Nano, mid.OccurredAt)
	until, _ := time.Parse(time.RFC3339Nano, late.OccurredAt)
	stream := events[5].StreamID
	cases := []struct {
		name   string
		filter ReplayFilter
		want   int
		check  func(ReplayedEvent) bool
	}{
		{"types", ReplayFilter{Types: []string{"QueueJoined", "MatchMade"}}, count(`event_type IN ('QueueJoined', 'MatchMade')`),
			func(ev ReplayedEvent) bool { return ev.EventType == "QueueJoined" || ev.EventType == "MatchMade" }},
		{"stream", ReplayFilter{Streams: []string{stream}}, count(`stream_id = $1`, stream),
			func(ev ReplayedEvent) bool { return ev.StreamID == stream }},
		{"since", ReplayFilter{Since: since}, count(`(metadata->>'occurred_at')::timestamptz >= $1`, since),
			func(ev ReplayedEvent) bool { return ev.OccurredAt >= mid.OccurredAt }},
		{"since and until", ReplayFilter{Since: since, Until: until},
			count(`(metadata->>'occurred_at')::timestamptz >= $1 AND (metadata->>'occurred_at')::timestamptz < $2`, since, until),
			func(ev ReplayedEvent) bool { return ev.OccurredAt >= mid.OccurredAt && ev.OccurredAt < late.OccurredAt }},
		{"type and until", ReplayFilter{Types: []string{"NotificationSent"}, Until: until},
			count(`event_type = 'NotificationSent' AND (metadata->>'occurred_at')::timestamptz < $1`, until),
			func(ev ReplayedEvent) bool {
				return ev.EventType == "NotificationSent" && ev.OccurredAt < late.OccurredAt
			}},
	}
	for _, c := range cases {
		out, _ := replay(t, e, c.filter, FormatNDJSON)
		got := lines(strings.TrimSpace(out))
		if out == "" {
			got = nil
		}
		if len(got) != c.want || c.want == 0 {
			t.Errorf("%s: %d events, the log has %d", c.name, len(got), c.want)
		}
		for _, l := range got {
			if ev := decodeLine(t, l); !c.check(ev) {
				t.Errorf("%s selected %s %s at %s", c.name, ev.EventType, ev.StreamID, ev.OccurredAt)
				break
			}
		}
		// Every selected line is a line of the full replay, byte for byte.
		for _, l := range got {
			if !inFull[l] {
				t.Errorf("%s: line %s is not in the full replay", c.name, l)
				break
			}
		}
	}

	// Resuming after any line's position gives exactly the lines after it.
	for _, k := range []int{0, 1, len(all) / 3, len(all) - 2, len(all) - 1} {
		after, _ := eventstore.ParsePosition(events[k].Position)
		rest, _ := replay(t, e, ReplayFilter{After: after}, FormatNDJSON)
		if want := strings.Join(all[k+1:], "\n"); strings.TrimSuffix(rest, "\n") != want {
			t.Errorf("resumed after line %d (%s): %d lines, want %d", k, after, len(lines(rest)), len(all)-k-1)
		}
	}

	// CSV has the same events and fields.
	out, _ := replay(t, e, ReplayFilter{}, FormatCSV)
	records, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(records) != len(all)+1 || strings.Join(records[0], ",") != strings.Join(csvHeader, ",") {
		t.Fatalf("csv: %d records, header %v", len(records), records[0])
	}
	for i, r := range records[1:] {
		ev := events[i]
		if got := fmt.Sprint(r[0], r[2], r[3], r[4], r[6], r[10]); got != fmt.Sprint(ev.Position, ev.StreamID, ev.StreamVersion, ev.EventType, ev.OccurredAt, string(ev.Payload)) {
			t.Fatalf("csv record %d: %v, ndjson %+v", i, r, ev)
		}
	}
	if _, err := Replay(ctx, e.store, &bytes.Buffer{}, ReplayFilter{}, "xml"); err == nil {
		t.Error("an unknown format was accepted")
	}
}

// waitVisible waits until the page reader sees every committed event: another test's
// open transaction hides newer ones for a moment (pg_snapshot_xmin is server-wide).
func waitVisible(t testing.TB, e env) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(time.Minute)
	for {
		last, err := lastCommitted(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		head, err := e.store.Head(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if head == last {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the head %s never reached the last committed event %s", head, last)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// The NDJSON replay passes stored events through without decoding them: each line is
// still exactly what encoding/json writes for the decoded event, hostile strings too.
func TestReplayLinesAreTheEncodedEnvelopes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.generate(t, demo.Config{Users: 10, Seed: 3, Days: 1})
	ctx := context.Background()
	hostile := "a \"quote\" <b>&amp; ü \u2028 \t\x01 \\ end"
	err := pgx.BeginFunc(ctx, e.pool, func(tx pgx.Tx) error {
		_, err := e.store.Append(ctx, tx, eventstore.Meta{Actor: hostile, CorrelationID: hostile, CausationID: "<>"},
			eventstore.StreamAppend{StreamID: "user-" + hostile, Expected: eventstore.NoStream, Events: []any{
				domain.UserRegistered{FirstName: hostile, LastName: "line\nbreak", Username: "</script>"},
			}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	waitVisible(t, e)
	out, _ := replay(t, e, ReplayFilter{}, FormatNDJSON)
	var want bytes.Buffer
	enc := json.NewEncoder(&want)
	enc.SetEscapeHTML(false)
	var after eventstore.Position
	for {
		page, err := e.store.ReadAll(ctx, after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, env := range page {
			if err := enc.Encode(Replayed(env)); err != nil {
				t.Fatal(err)
			}
			after = env.Position
		}
		if len(page) < 1000 {
			break
		}
	}
	if !strings.Contains(out, `"actor":"a \"quote\" <b>&amp; ü \u2028 \t\u0001 \\ end"`) {
		t.Errorf("the hostile actor is not in the replay as encoding/json writes it")
	}
	got, wantLines := lines(out), lines(want.String())
	if len(got) != len(wantLines) {
		t.Fatalf("%d lines, %d events", len(got), len(wantLines))
	}
	for i := range got {
		if got[i] != wantLines[i] {
			t.Fatalf("line %d:\n%s\nencoding/json:\n%s", i, got[i], wantLines[i])
		}
	}
}

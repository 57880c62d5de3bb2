package projections

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
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
	// Two generations a month apart in simulated time, which is their occurred_at.
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
		if events[i].Sequence != int64(i+1) {
			t.Fatalf("line %d has sequence %d", i+1, events[i].Sequence)
		}
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
		if got := fmt.Sprint(r[0], r[1], r[3], r[4], r[5], r[7], r[8], r[12]); got != fmt.Sprint(ev.Position, ev.Sequence, ev.StreamID,
			ev.StreamVersion, ev.EventType, ev.OccurredAt, ev.RecordedAt, string(ev.Payload)) {
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
	var sequence int64
	for {
		page, err := e.store.ReadAll(ctx, after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, env := range page {
			ev := Replayed(env)
			sequence++
			ev.Sequence = sequence
			if err := enc.Encode(ev); err != nil {
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

// occurred_at is the simulated time of the demo's facts and recorded_at the insert's:
// a day of the history is found by its date, and both times are those the log holds.
func TestReplayTimesAreTheFactsAndTheAppends(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.generate(t, demo.Config{Users: 20, Seed: 5, Days: 3}) // from 2025-03-03 08:00 UTC
	waitVisible(t, e)
	ctx := context.Background()
	f, err := ReplayQuery{Since: "2025-03-04", Until: "2025-03-05"}.Parse()
	if err != nil {
		t.Fatal(err)
	}
	out, _ := replay(t, e, f, FormatNDJSON)
	var want int
	if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM watermill_events
		WHERE (metadata->>'occurred_at')::timestamptz >= '2025-03-04T00:00:00Z'
			AND (metadata->>'occurred_at')::timestamptz < '2025-03-05T00:00:00Z'`).Scan(&want); err != nil {
		t.Fatal(err)
	}
	got := lines(strings.TrimSpace(out))
	if want == 0 || len(got) != want {
		t.Fatalf("the day 2025-03-04 replays %d events, the log holds %d", len(got), want)
	}
	for _, l := range got {
		ev := decodeLine(t, l)
		var occurred, recorded time.Time
		if err := e.pool.QueryRow(ctx, `SELECT (metadata->>'occurred_at')::timestamptz, created_at FROM watermill_events
			WHERE uuid = $1`, ev.EventID).Scan(&occurred, &recorded); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(ev.OccurredAt, "2025-03-04T") || ev.OccurredAt != occurred.UTC().Format(time.RFC3339Nano) ||
			ev.RecordedAt != recorded.UTC().Format(time.RFC3339Nano) || !recorded.After(occurred) {
			t.Fatalf("%s occurred at %s, recorded at %s; the log says %s and %s", ev.EventID, ev.OccurredAt, ev.RecordedAt, occurred, recorded)
		}
	}
}

// A filter that cannot match what was meant says so, naming the value, instead of
// replaying nothing.
func TestReplayFiltersRefuseWhatTheyCannotUse(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		query    ReplayQuery
		field    string
		sentinel error
		mentions []string
	}{
		{ReplayQuery{Types: []string{"QueueJoined", "Foo"}}, "type", eventstore.ErrUnknownEventType, []string{`"Foo"`, "QueueJoined", "MatchMade"}},
		{ReplayQuery{Since: "yesterday"}, "since", nil, []string{`"yesterday"`, "RFC 3339", "2025-03-05"}},
		{ReplayQuery{Until: "2025-13-01"}, "until", nil, []string{`"2025-13-01"`}},
		{ReplayQuery{Since: "2025-03-06", Until: "2025-03-05"}, "until", nil, []string{`"2025-03-05"`, "2025-03-06"}},
		{ReplayQuery{After: "12"}, "after", eventstore.ErrBadCursor, []string{`"12"`}},
	} {
		_, err := c.query.Parse()
		var bad *FilterError
		if !errors.As(err, &bad) || bad.Field != c.field || (c.sentinel != nil && !errors.Is(err, c.sentinel)) {
			t.Errorf("%+v: %v", c.query, err)
			continue
		}
		for _, m := range c.mentions {
			if !strings.Contains(err.Error(), m) {
				t.Errorf("%+v: %q does not mention %s", c.query, err, m)
			}
		}
	}
	f, err := ReplayQuery{Since: "2025-03-05", Until: "2025-03-06T12:30:00+03:00", Types: []string{"MatchMade"}}.Parse()
	if err != nil || !f.Since.Equal(time.Date(2025, 3, 5, 0, 0, 0, 0, time.UTC)) || !f.Until.Equal(time.Date(2025, 3, 6, 9, 30, 0, 0, time.UTC)) {
		t.Errorf("a date and a time with an offset: %+v, %v", f, err)
	}
}

package projections

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/supermock/engine/internal/demo"
)

// readParquet reads every row of a file as column name → value, with a reader that
// knows nothing but the file.
func readParquet(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	r := parquet.NewGenericReader[map[string]any](f, pf.Schema())
	defer r.Close()
	rows := make([]map[string]any, r.NumRows())
	for i := range rows {
		rows[i] = map[string]any{}
	}
	if n, err := r.Read(rows); n != len(rows) || (err != nil && err.Error() != "EOF") {
		t.Fatalf("%s: read %d of %d rows: %v", path, n, len(rows), err)
	}
	return rows
}

// sameValue compares a value of the JSON replay with the Parquet one: times are
// microseconds since 1970 there, numbers int64, lists and maps in parquet-go's generic
// shapes; a field the JSON leaves out (omitempty) is the zero value.
func sameValue(want, got any) bool {
	switch w := want.(type) {
	case nil:
		return got == nil || got == "" || got == int64(0) || fmt.Sprint(got) == "[]"
	case string:
		if at, err := time.Parse(time.RFC3339Nano, w); err == nil {
			return got == at.UnixMicro()
		}
		return got == w
	case float64:
		return got == int64(w)
	case bool:
		return got == w
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return len(w) == 0 && (got == nil || ok)
		}
		for i := range w {
			if !sameValue(w[i], g[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok || len(g) != len(w) {
			return len(w) == 0 && got == nil
		}
		for k, v := range w {
			if !sameValue(v, g[k]) {
				return false
			}
		}
		return true
	}
	return false
}

// Every event of the log is a row of its type's file, in log order, with the envelope
// and every payload field as columns of their own; read back with a Parquet reader,
// each row is the replay's line.
func TestParquetFilesHoldEveryEventAsTypedColumns(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.generate(t, demo.Config{Users: 60, Seed: 6, Days: 5})
	waitVisible(t, e)
	ctx := context.Background()
	out, _ := replay(t, e, ReplayFilter{}, FormatNDJSON)
	var events []ReplayedEvent
	for _, l := range lines(out) {
		events = append(events, decodeLine(t, l))
	}

	dir := t.TempDir()
	res, files, err := ReplayParquet(ctx, e.store, dir, ReplayFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Events != int64(len(events)) || res.Last.String() != events[len(events)-1].Position {
		t.Fatalf("the export wrote %d events up to %s, the replay %d", res.Events, res.Last, len(events))
	}
	types := map[string]bool{}
	for _, ev := range events {
		types[ev.EventType] = true
	}
	for _, must := range []string{"QueueJoined", "MatchMade", "FeedbackSubmitted", "MatchCancelled", "AbsenceRecorded", "FormSubmitted"} {
		if !types[must] {
			t.Fatalf("the history has no %s: the test would not see its columns (it has %v)", must, types)
		}
	}
	if len(files) != len(types) {
		t.Errorf("%d files for %d event types", len(files), len(types))
	}
	seen := 0
	for _, file := range files {
		rows := readParquet(t, file.Path)
		if filepath.Base(file.Path) != file.EventType+".parquet" || int64(len(rows)) != file.Rows {
			t.Fatalf("%s: %d rows, the export said %d", file.Path, len(rows), file.Rows)
		}
		last := int64(0)
		for _, row := range rows {
			seq, _ := row["sequence"].(int64)
			if seq <= last || seq < 1 || seq > int64(len(events)) {
				t.Fatalf("%s: sequence %v after %d", file.EventType, row["sequence"], last)
			}
			last = seq
			ev := events[seq-1]
			var payload map[string]any
			if err := json.Unmarshal(ev.Payload, &payload); err != nil {
				t.Fatal(err)
			}
			want := map[string]any{"position": ev.Position, "sequence": float64(ev.Sequence), "event_id": ev.EventID,
				"stream_id": ev.StreamID, "stream_version": float64(ev.StreamVersion), "event_type": ev.EventType,
				"schema_version": float64(ev.SchemaVersion), "occurred_at": ev.OccurredAt, "recorded_at": ev.RecordedAt,
				"correlation_id": ev.CorrelationID, "causation_id": ev.CausationID, "actor": ev.Actor}
			for k, v := range payload {
				if _, taken := want[k]; taken {
					k = "payload_" + k
				}
				want[k] = v
			}
			for k, v := range want {
				if k == "schema_version" {
					if row[k] != int32(v.(float64)) {
						t.Fatalf("%s %s: schema_version %v", ev.EventType, ev.EventID, row[k])
					}
					continue
				}
				if !sameValue(v, row[k]) {
					t.Fatalf("%s %s: column %s is %#v, the log says %#v", ev.EventType, ev.EventID, k, row[k], v)
				}
			}
			for k, v := range row {
				// Only a field the JSON leaves out when empty (omitempty) is a column
				// the line lacks.
				if _, ok := want[k]; !ok && !sameValue(nil, v) {
					t.Fatalf("%s: column %s = %v is not in the event", ev.EventType, k, v)
				}
			}
			seen++
		}
	}
	if seen != len(events) {
		t.Errorf("the files hold %d rows, the log %d events", seen, len(events))
	}
	if _, ok := readParquet(t, filepath.Join(dir, "AbsenceRecorded.parquet"))[0]["payload_recorded_at"]; !ok {
		t.Error("AbsenceRecorded's own recorded_at is not payload_recorded_at")
	}

	// A filter selects the files and their rows.
	sub := t.TempDir()
	f, err := ReplayQuery{Types: []string{"MatchMade"}, Since: "2025-03-05"}.Parse()
	if err != nil {
		t.Fatal(err)
	}
	if _, files, err = ReplayParquet(ctx, e.store, sub, f); err != nil || len(files) != 1 || files[0].EventType != "MatchMade" {
		t.Fatalf("MatchMade since 2025-03-05: %+v, %v", files, err)
	}
	for _, row := range readParquet(t, files[0].Path) {
		if at := time.UnixMicro(row["occurred_at"].(int64)).UTC(); at.Before(f.Since) {
			t.Fatalf("a match of %s", at)
		}
	}
}

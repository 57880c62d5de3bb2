package projections

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"

	"github.com/supermock/engine/eventstore"
)

// appendNDJSON appends the NDJSON line of a ReplayedEvent without decoding the stored
// event: the same bytes encoding/json writes for it (no HTML escaping), with the
// stored payload passed through.
func appendNDJSON(b []byte, e *eventstore.StoredEvent, sequence int64) []byte {
	b = append(b, `{"position":"`...)
	b = strconv.AppendUint(b, e.Position.TxID, 10)
	b = append(b, '-')
	b = strconv.AppendInt(b, e.Position.Offset, 10)
	b = append(b, `","sequence":`...)
	b = strconv.AppendInt(b, sequence, 10)
	b = append(b, `,"event_id":`...)
	b = appendJSONString(b, e.EventID)
	b = append(b, `,"stream_id":`...)
	b = appendJSONString(b, e.StreamID)
	b = append(b, `,"stream_version":`...)
	b = strconv.AppendInt(b, e.StreamVersion, 10)
	b = append(b, `,"event_type":`...)
	b = appendJSONString(b, e.EventType)
	b = append(b, `,"schema_version":`...)
	b = strconv.AppendInt(b, int64(e.SchemaVersion), 10)
	b = append(b, `,"occurred_at":`...)
	b = appendJSONString(b, e.OccurredAt)
	b = append(b, `,"recorded_at":"`...)
	b = e.RecordedAt.AppendFormat(b, time.RFC3339Nano)
	b = append(b, '"')
	b = append(b, `,"correlation_id":`...)
	b = appendJSONString(b, e.CorrelationID)
	b = append(b, `,"causation_id":`...)
	b = appendJSONString(b, e.CausationID)
	b = append(b, `,"actor":`...)
	b = appendJSONString(b, e.Actor)
	b = append(b, `,"payload":`...)
	b = append(b, compactPayload(e.Payload)...)
	return append(b, "}\n"...)
}

// plainJSON marks the bytes a JSON string holds as they are: printable ASCII but the
// quote and the backslash.
var plainJSON = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// appendJSONString appends s as a JSON string; plain ASCII is copied, anything else is
// left to encoding/json.
func appendJSONString(b, s []byte) []byte {
	for _, c := range s {
		if !plainJSON[c] {
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			_ = enc.Encode(string(s)) // a string always encodes
			return append(b, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// compactPayload is the stored payload as one line. The append stores compact JSON,
// which passes through as it is; only a payload stored otherwise (whitespace between
// tokens, the one place a raw newline or tab can be in JSON) is compacted.
func compactPayload(p []byte) []byte {
	if p == nil {
		return []byte("null")
	}
	if bytes.IndexByte(p, '\n') < 0 && bytes.IndexByte(p, '\r') < 0 && bytes.IndexByte(p, '\t') < 0 {
		return p
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, p); err != nil {
		return p // the column holds valid JSON
	}
	return buf.Bytes()
}

package eventstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// StoredEvent is one event as the log holds it, in the text of its columns: what a
// reader that passes events through (a replay) needs, without decoding payloads,
// metadata or times. Its slices are valid only until the callback that got it returns.
type StoredEvent struct {
	Position      Position
	EventID       []byte
	StreamID      []byte
	StreamVersion int64
	EventType     []byte
	SchemaVersion int
	OccurredAt    []byte // RFC 3339 in UTC, as the append wrote it
	RecordedAt    time.Time
	CorrelationID []byte
	CausationID   []byte
	Actor         []byte
	Payload       []byte // the JSON as stored, with personal fields decrypted (or erased)
}

// ScanAll calls fn for up to limit events after the position, in log order, with the
// guarantees of ReadAll (nothing skipped, whatever order writers commit in), and
// returns how many it passed.
func (s *Store) ScanAll(ctx context.Context, after Position, limit int, fn func(*StoredEvent) error) (int, error) {
	if limit <= 0 {
		return 0, fmt.Errorf("%w: page size %d", ErrInvalidEvent, limit)
	}
	// Text results: the columns arrive as the bytes they are passed on as; only the
	// insert's time comes in binary, whose form depends on no session setting.
	rows, err := s.pool.Query(ctx, `SELECT `+envelopeColumns+` FROM `+eventsTable+`
		WHERE (transaction_id, "offset") > ($1::text::xid8, $2)
			AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
		ORDER BY transaction_id, "offset"
		LIMIT $3`, storedFormats,
		strconv.FormatUint(after.TxID, 10), after.Offset, limit)
	if err != nil {
		return 0, fmt.Errorf("scan after %s: %w", after, err)
	}
	defer rows.Close()
	var (
		ev    StoredEvent
		known []byte // the last event type the codec knew
		n     int
		// From the first event whose keys are not cached on, the rest of the page is
		// copied and passed on after the rows close, once the missing keys are read in
		// one query: a key lookup never waits for a second connection while this one
		// is held.
		page    *heldPage
		held    []StoredEvent
		scratch []byte // the revealed payload of the event being passed on
		missing = map[string]bool{}
	)
	defer func() {
		if page != nil {
			page.keep(held)
			s.pages.Put(page)
		}
	}()
	pass := func(ev *StoredEvent) error {
		var err error
		if ev.Payload, err = s.reveal(ctx, s.pool, ev.EventID, ev.Payload, &scratch); err != nil {
			return fmt.Errorf("scan after %s: %w", after, err)
		}
		if err := fn(ev); err != nil {
			return err
		}
		n++
		return nil
	}
	for rows.Next() {
		if err := s.storedEvent(rows.RawValues(), &ev, &known); err != nil {
			return n, fmt.Errorf("scan after %s: %w", after, err)
		}
		s.uncachedSubjects(ev.Payload, missing)
		if page == nil && len(missing) > 0 {
			page = s.heldPage()
			held = page.events[:0]
		}
		if page != nil {
			held = append(held, ev.clone(&page.copies))
			continue
		}
		if err := pass(&ev); err != nil {
			return n, err
		}
	}
	if err := rows.Err(); err != nil {
		return n, fmt.Errorf("scan after %s: %w", after, err)
	}
	rows.Close()
	if len(missing) > 0 {
		if err := s.keys.prefetch(ctx, s.pool, slices.Collect(maps.Keys(missing))); err != nil {
			return n, fmt.Errorf("scan after %s: %w", after, err)
		}
	}
	for i := range held {
		if err := pass(&held[i]); err != nil {
			return n, err
		}
	}
	return n, nil
}

// envelope is the event as an Envelope with its own copies of the bytes: its ids and
// its occurred_at in one string, its payload in one slice.
func (e *StoredEvent) envelope() (Envelope, error) {
	fields := [...][]byte{e.EventID, e.StreamID, e.EventType, e.CorrelationID, e.CausationID, e.Actor, e.OccurredAt}
	var all strings.Builder
	n := 0
	for _, f := range fields {
		n += len(f)
	}
	all.Grow(n)
	for _, f := range fields {
		all.Write(f)
	}
	text := all.String()
	var parts [len(fields)]string
	for i, f := range fields {
		parts[i], text = text[:len(f)], text[len(f):]
	}
	env := Envelope{Position: e.Position, EventID: parts[0], StreamID: parts[1], StreamVersion: e.StreamVersion,
		EventType: parts[2], SchemaVersion: e.SchemaVersion, RecordedAt: e.RecordedAt,
		CorrelationID: parts[3], CausationID: parts[4], Actor: parts[5], Payload: bytes.Clone(e.Payload)}
	var err error
	if env.OccurredAt, err = time.Parse(time.RFC3339Nano, parts[6]); err != nil {
		return Envelope{}, fmt.Errorf("%w: occurred_at %q of %s", ErrInvalidEvent, parts[6], env.EventID)
	}
	return env, nil
}

// storedFormats are the result formats of a row of envelopeColumns for ScanAll.
var storedFormats = pgx.QueryResultFormats{pgx.TextFormatCode, pgx.TextFormatCode, pgx.TextFormatCode, pgx.TextFormatCode,
	pgx.TextFormatCode, pgx.TextFormatCode, pgx.TextFormatCode, pgx.TextFormatCode, pgx.BinaryFormatCode}

// postgresEpoch is 2000-01-01 in Unix microseconds, where PostgreSQL's binary
// timestamps count from.
const postgresEpoch = 946_684_800_000_000

// clone copies the event out of the row buffers it points into, into a.
func (e StoredEvent) clone(a *arena) StoredEvent {
	c := e
	for _, b := range []*[]byte{&c.EventID, &c.StreamID, &c.EventType, &c.OccurredAt, &c.CorrelationID, &c.CausationID, &c.Actor, &c.Payload} {
		*b = a.copy(*b)
	}
	return c
}

// arena holds the copies of a page's events in a few large buffers instead of one
// allocation per field; reset, it serves the next page with the same buffers.
type arena struct {
	chunks [][]byte
	cur    int
}

func (a *arena) copy(b []byte) []byte {
	if b == nil {
		return nil
	}
	for ; a.cur < len(a.chunks); a.cur++ {
		c := a.chunks[a.cur]
		if cap(c)-len(c) >= len(b) {
			start := len(c)
			c = append(c, b...)
			a.chunks[a.cur] = c
			return c[start:len(c):len(c)]
		}
	}
	a.chunks = append(a.chunks, make([]byte, 0, max(1<<20, len(b))))
	return a.copy(b)
}

func (a *arena) reset() {
	for i := range a.chunks {
		a.chunks[i] = a.chunks[i][:0]
	}
	a.cur = 0
}

// heldPage is what ScanAll keeps of a page while it reads the keys the page misses:
// its events and their bytes. Pages are reused, so a replay that starts with no key
// cached copies every page without allocating one.
type heldPage struct {
	events []StoredEvent
	copies arena
}

func (s *Store) heldPage() *heldPage {
	if p, ok := s.pages.Get().(*heldPage); ok {
		return p
	}
	return &heldPage{}
}

// keep takes back the events slice (grown, perhaps) for the next page, emptied so
// that it holds on to no bytes but its own.
func (p *heldPage) keep(events []StoredEvent) {
	clear(events)
	p.events = events[:0]
	p.copies.reset()
}

// storedEvent fills ev from a row of envelopeColumns in text, with the checks of
// scanEnvelopes.
func (s *Store) storedEvent(v [][]byte, ev *StoredEvent, known *[]byte) error {
	txID, ok1 := digits(v[0])
	offset, ok2 := digits(v[1])
	if !ok1 || !ok2 {
		return fmt.Errorf("%w: position %q-%q", ErrInvalidEvent, v[0], v[1])
	}
	*ev = StoredEvent{Position: Position{TxID: txID, Offset: int64(offset)}, EventID: v[2], Payload: v[3],
		StreamID: v[5], EventType: v[7]}
	var md storedBytes
	if !metadataFields(v[4], md.set) {
		var slow storedMetadata
		if err := json.Unmarshal(v[4], &slow); err != nil {
			return fmt.Errorf("%w: metadata of %s: %v", ErrInvalidEvent, ev.EventID, err)
		}
		md = slow.bytes()
	}
	version, ok := digits(md.streamVersion)
	schema, okSchema := digits(md.schemaVersion)
	if !ok || !okSchema || v[6] == nil || string(v[6]) != string(md.streamVersion) ||
		!bytes.Equal(md.streamID, ev.StreamID) || !bytes.Equal(md.eventType, ev.EventType) || len(ev.StreamID) == 0 {
		return fmt.Errorf("%w: columns of %s disagree with its metadata", ErrInvalidEvent, ev.EventID)
	}
	if len(v[8]) != 8 {
		return fmt.Errorf("%w: created_at of %s", ErrInvalidEvent, ev.EventID)
	}
	ev.RecordedAt = time.UnixMicro(postgresEpoch + int64(binary.BigEndian.Uint64(v[8]))).UTC()
	ev.StreamVersion, ev.SchemaVersion = int64(version), int(schema)
	ev.OccurredAt, ev.CorrelationID, ev.CausationID, ev.Actor = md.occurredAt, md.correlationID, md.causationID, md.actor
	if !bytes.Equal(*known, ev.EventType) {
		if !s.codec.Known(string(ev.EventType)) {
			return fmt.Errorf("event %s of type %q: %w", ev.EventID, ev.EventType, ErrUnknownEventType)
		}
		*known = append((*known)[:0], ev.EventType...)
	}
	return nil
}

// storedBytes is storedMetadata without copies.
type storedBytes struct {
	streamID, streamVersion, eventType, schemaVersion, occurredAt []byte
	correlationID, causationID, actor                             []byte
}

func (m *storedBytes) set(key, value []byte) {
	switch string(key) {
	case MetaStreamID:
		m.streamID = value
	case MetaStreamVersion:
		m.streamVersion = value
	case MetaEventType:
		m.eventType = value
	case MetaSchemaVersion:
		m.schemaVersion = value
	case MetaOccurredAt:
		m.occurredAt = value
	case MetaCorrelationID:
		m.correlationID = value
	case MetaCausationID:
		m.causationID = value
	case MetaActor:
		m.actor = value
	}
}

func (m storedBytes) strings() storedMetadata {
	return storedMetadata{StreamID: string(m.streamID), StreamVersion: string(m.streamVersion), EventType: string(m.eventType),
		SchemaVersion: string(m.schemaVersion), OccurredAt: string(m.occurredAt), CorrelationID: string(m.correlationID),
		CausationID: string(m.causationID), Actor: string(m.actor)}
}

func (m storedMetadata) bytes() storedBytes {
	return storedBytes{streamID: []byte(m.StreamID), streamVersion: []byte(m.StreamVersion), eventType: []byte(m.EventType),
		schemaVersion: []byte(m.SchemaVersion), occurredAt: []byte(m.OccurredAt), correlationID: []byte(m.CorrelationID),
		causationID: []byte(m.CausationID), actor: []byte(m.Actor)}
}

// metadataFields calls set for every key and value of a row's metadata when it is
// what the append writes, a flat JSON object of plain strings, without copying. It
// returns false for anything else (escapes, spaces, other values), which is left to
// encoding/json.
func metadataFields(data []byte, set func(key, value []byte)) bool {
	if len(data) < 2 || data[0] != '{' || data[len(data)-1] != '}' {
		return false
	}
	rest := data[1 : len(data)-1]
	for len(rest) > 0 {
		key, after, ok := plainString(rest)
		if !ok || len(after) == 0 || after[0] != ':' {
			return false
		}
		value, after, ok := plainString(after[1:])
		if !ok {
			return false
		}
		set(key, value)
		if len(after) > 0 {
			if after[0] != ',' || len(after) == 1 {
				return false
			}
			after = after[1:]
		}
		rest = after
	}
	return true
}

// plainString reads a JSON string without escapes at the start of b.
func plainString(b []byte) (value, rest []byte, ok bool) {
	if len(b) == 0 || b[0] != '"' {
		return nil, nil, false
	}
	end := bytes.IndexByte(b[1:], '"')
	if end < 0 || bytes.IndexByte(b[1:1+end], '\\') >= 0 {
		return nil, nil, false
	}
	return b[1 : 1+end], b[2+end:], true
}

// digits reads a non-negative decimal number.
func digits(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, true
}

package projections

import (
	"archive/zip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/parquet-go/parquet-go"

	"github.com/supermock/engine/domain"
	"github.com/supermock/engine/eventstore"
)

// FormatParquet is the replay into one Parquet file per event type.
const FormatParquet = "parquet"

// parquetRowGroup is how many rows a row group of an export holds at most: a file of
// a million events is read in parallel and none has to fit in memory at once.
const parquetRowGroup = 128 * 1024

// ParquetFile is one file an export wrote.
type ParquetFile struct {
	EventType string
	Path      string
	Rows      int64
}

// ReplayParquet writes the events the filter selects into dir, one file per event type
// (<EventType>.parquet, zstd), in log order. Each row holds the envelope's columns and
// the payload's fields, decoded and upcast by the codec, as typed columns named as in
// the JSON (see parquetLayout). Like Replay, it reads up to the head of the log as the
// export reaches it, and two exports of one history hold the same rows.
func ReplayParquet(ctx context.Context, store *eventstore.Store, dir string, f ReplayFilter) (ReplayResult, []ParquetFile, error) {
	layouts := map[string]*parquetLayout{}
	for _, t := range domain.EventTypes() {
		if len(f.Types) == 0 || slices.Contains(f.Types, t.Name) {
			layouts[t.Name] = newParquetLayout(t.Name, reflect.TypeOf(t.New()).Elem())
		}
	}
	writers := map[string]*parquetFile{}
	closeAll := func() error {
		var first error
		for _, w := range writers {
			if err := w.close(); err != nil && first == nil {
				first = err
			}
		}
		return first
	}
	res, err := scanReplay(ctx, store, f, func(e *eventstore.StoredEvent, seq int64) error {
		layout := layouts[string(e.EventType)]
		if layout == nil {
			return fmt.Errorf("replay %s: %w", e.EventType, eventstore.ErrUnknownEventType)
		}
		w := writers[layout.eventType]
		if w == nil {
			var err error
			if w, err = newParquetFile(filepath.Join(dir, layout.eventType+".parquet"), layout); err != nil {
				return err
			}
			writers[layout.eventType] = w
		}
		event, err := store.Decode(eventstore.Envelope{EventType: string(e.EventType), SchemaVersion: e.SchemaVersion, Payload: e.Payload})
		if err != nil {
			return fmt.Errorf("event %s: %w", e.EventID, err)
		}
		return w.write(e, seq, event)
	})
	if cerr := closeAll(); err == nil {
		err = cerr
	}
	files := make([]ParquetFile, 0, len(writers))
	for _, w := range writers {
		files = append(files, ParquetFile{EventType: w.layout.eventType, Path: w.path, Rows: w.rows})
	}
	slices.SortFunc(files, func(a, b ParquetFile) int { return strings.Compare(a.EventType, b.EventType) })
	return res, files, err
}

// ReplayParquetZip is ReplayParquet into a zip archive written to w, one entry per
// file, for an answer over HTTP. The files are made in a temporary folder first (a zip
// holds its entries one after the other) and stored uncompressed: they are compressed
// already.
func ReplayParquetZip(ctx context.Context, store *eventstore.Store, w io.Writer, f ReplayFilter) (ReplayResult, error) {
	dir, err := os.MkdirTemp("", "supermock-parquet-")
	if err != nil {
		return ReplayResult{}, fmt.Errorf("parquet export: %w", err)
	}
	defer os.RemoveAll(dir)
	res, files, err := ReplayParquet(ctx, store, dir, f)
	if err != nil {
		return res, err
	}
	zw := zip.NewWriter(w)
	for _, file := range files {
		if err := addToZip(zw, file.Path); err != nil {
			return res, fmt.Errorf("parquet export: %w", err)
		}
	}
	if err := zw.Close(); err != nil {
		return res, fmt.Errorf("parquet export: %w", err)
	}
	return res, nil
}

func addToZip(zw *zip.Writer, path string) error {
	in, err := os.Open(path)
	if err != nil {
		return err
	}
	defer in.Close()
	entry, err := zw.CreateHeader(&zip.FileHeader{Name: filepath.Base(path), Method: zip.Store})
	if err != nil {
		return err
	}
	_, err = io.Copy(entry, in)
	return err
}

// envelopeColumns are the columns every file starts with, named as in the NDJSON
// replay. A payload field of the same name is written as payload_<name>.
var envelopeColumns = []string{"position", "sequence", "event_id", "stream_id", "stream_version", "event_type",
	"schema_version", "occurred_at", "recorded_at", "correlation_id", "causation_id", "actor"}

// parquetLayout maps one event type's Go struct to a flat row struct made with
// reflect.StructOf, from which parquet-go derives the schema: the envelope's columns,
// then one column per payload field, found the way encoding/json finds them (json
// tags, embedded structs flattened). Strings, typed strings and UUIDs are UTF-8
// strings; integers int64; times microsecond UTC timestamps, null when zero; a
// uuid.NullUUID a nullable string; slices of strings lists; maps of string to integer
// maps; anything else its JSON text.
type parquetLayout struct {
	eventType string
	row       reflect.Type
	schema    *parquet.Schema
	fields    []payloadField
}

type payloadField struct {
	index   []int // of the field in the event's struct
	convert func(reflect.Value) reflect.Value
}

var (
	timeType     = reflect.TypeFor[time.Time]()
	uuidType     = reflect.TypeFor[uuid.UUID]()
	nullUUIDType = reflect.TypeFor[uuid.NullUUID]()
	stringType   = reflect.TypeFor[string]()
)

func newParquetLayout(eventType string, t reflect.Type) *parquetLayout {
	l := &parquetLayout{eventType: eventType}
	fields := []reflect.StructField{
		column("position", stringType, ""), column("sequence", reflect.TypeFor[int64](), ""),
		column("event_id", stringType, ""), column("stream_id", stringType, ""),
		column("stream_version", reflect.TypeFor[int64](), ""), column("event_type", stringType, ""),
		column("schema_version", reflect.TypeFor[int32](), ""),
		column("occurred_at", timeType, "timestamp(microsecond)"), column("recorded_at", timeType, "timestamp(microsecond)"),
		column("correlation_id", stringType, ""), column("causation_id", stringType, ""), column("actor", stringType, ""),
	}
	for _, f := range jsonFields(t, nil) {
		name := f.name
		if slices.Contains(envelopeColumns, name) {
			name = "payload_" + name
		}
		goType, tag, convert := parquetType(f.typ)
		fields = append(fields, column(name, goType, tag))
		l.fields = append(l.fields, payloadField{index: f.index, convert: convert})
	}
	l.row = reflect.StructOf(fields)
	l.schema = parquet.NewSchema(eventType, parquet.SchemaOf(reflect.New(l.row).Interface()))
	return l
}

func column(name string, t reflect.Type, options string) reflect.StructField {
	tag := name
	if options != "" {
		tag += "," + options
	}
	return reflect.StructField{Name: fmt.Sprintf("C_%s", name), Type: t, Tag: reflect.StructTag(`parquet:"` + tag + `"`)}
}

type jsonField struct {
	name  string
	index []int
	typ   reflect.Type
}

// jsonFields are the fields encoding/json writes for t, in order.
func jsonFields(t reflect.Type, index []int) []jsonField {
	var out []jsonField
	for i := range t.NumField() {
		f := t.Field(i)
		at := append(slices.Clone(index), i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			out = append(out, jsonFields(f.Type, at)...)
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, jsonField{name: name, index: at, typ: f.Type})
	}
	return out
}

// parquetType is the row struct's type and tag options for a payload field of type t,
// and how to turn a value of t into it.
func parquetType(t reflect.Type) (reflect.Type, string, func(reflect.Value) reflect.Value) {
	zero := reflect.Zero(t)
	switch {
	case t == timeType:
		ptr := reflect.PointerTo(timeType)
		return ptr, "optional,timestamp(microsecond)", func(v reflect.Value) reflect.Value {
			at := v.Interface().(time.Time)
			if at.IsZero() {
				return reflect.Zero(ptr)
			}
			at = at.UTC()
			return reflect.ValueOf(&at)
		}
	case t == uuidType:
		return stringType, "", func(v reflect.Value) reflect.Value {
			return reflect.ValueOf(v.Interface().(uuid.UUID).String())
		}
	case t == nullUUIDType:
		ptr := reflect.PointerTo(stringType)
		return ptr, "optional", func(v reflect.Value) reflect.Value {
			n := v.Interface().(uuid.NullUUID)
			if !n.Valid {
				return reflect.Zero(ptr)
			}
			s := n.UUID.String()
			return reflect.ValueOf(&s)
		}
	case t.Kind() == reflect.String:
		return stringType, "", func(v reflect.Value) reflect.Value { return reflect.ValueOf(v.String()) }
	case t.Kind() == reflect.Bool:
		return reflect.TypeFor[bool](), "", func(v reflect.Value) reflect.Value { return reflect.ValueOf(v.Bool()) }
	case zero.CanInt():
		return reflect.TypeFor[int64](), "", func(v reflect.Value) reflect.Value { return reflect.ValueOf(v.Int()) }
	case zero.CanFloat():
		return reflect.TypeFor[float64](), "", func(v reflect.Value) reflect.Value { return reflect.ValueOf(v.Float()) }
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.String:
		list := reflect.TypeFor[[]string]()
		return list, "list", func(v reflect.Value) reflect.Value {
			out := make([]string, v.Len())
			for i := range out {
				out[i] = v.Index(i).String()
			}
			return reflect.ValueOf(out)
		}
	case t.Kind() == reflect.Map && t.Key().Kind() == reflect.String && reflect.Zero(t.Elem()).CanInt():
		m := reflect.TypeFor[map[string]int64]()
		return m, "", func(v reflect.Value) reflect.Value {
			out := make(map[string]int64, v.Len())
			for it := v.MapRange(); it.Next(); {
				out[it.Key().String()] = it.Value().Int()
			}
			return reflect.ValueOf(out)
		}
	default:
		return stringType, "json", func(v reflect.Value) reflect.Value {
			raw, _ := json.Marshal(v.Interface()) // decoded from JSON, so it encodes
			return reflect.ValueOf(string(raw))
		}
	}
}

// parquetFile is the writer of one event type's file.
type parquetFile struct {
	path   string
	layout *parquetLayout
	file   *os.File
	w      *parquet.Writer
	row    reflect.Value
	rows   int64
}

func newParquetFile(path string, layout *parquetLayout) (*parquetFile, error) {
	file, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("parquet export: %w", err)
	}
	w := parquet.NewWriter(file, layout.schema, parquet.Compression(&parquet.Zstd), parquet.MaxRowsPerRowGroup(parquetRowGroup),
		parquet.CreatedBy("supermock", "", ""))
	return &parquetFile{path: path, layout: layout, file: file, w: w, row: reflect.New(layout.row)}, nil
}

func (p *parquetFile) write(e *eventstore.StoredEvent, seq int64, event any) error {
	occurred, err := time.Parse(time.RFC3339Nano, string(e.OccurredAt))
	if err != nil {
		return fmt.Errorf("%w: occurred_at %q of %s", eventstore.ErrInvalidEvent, e.OccurredAt, e.EventID)
	}
	row := p.row.Elem()
	for i, v := range []any{e.Position.String(), seq, string(e.EventID), string(e.StreamID), e.StreamVersion,
		string(e.EventType), int32(e.SchemaVersion), occurred.UTC(), e.RecordedAt, string(e.CorrelationID),
		string(e.CausationID), string(e.Actor)} {
		row.Field(i).Set(reflect.ValueOf(v))
	}
	payload := reflect.ValueOf(event)
	for i, f := range p.layout.fields {
		row.Field(len(envelopeColumns) + i).Set(f.convert(payload.FieldByIndex(f.index)))
	}
	if err := p.w.Write(p.row.Interface()); err != nil {
		return fmt.Errorf("parquet export of %s: %w", e.EventID, err)
	}
	p.rows++
	return nil
}

func (p *parquetFile) close() error {
	err := p.w.Close()
	if cerr := p.file.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("parquet export %s: %w", p.path, err)
	}
	return nil
}

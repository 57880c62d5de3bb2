package projections

import (
	"encoding/json"
	"maps"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/supermock/engine/domain"
)

// Col is one column's value; Row is columns in a fixed order, so the SQL made of them
// is the same text every time (one prepared statement per shape).
type Col struct {
	Name  string
	Value any
}

type Row []Col

type opKind uint8

const (
	opInsert opKind = iota
	opUpsert
	opUpdate
	opDelete
	opUpdateAll
)

// op is one change of one table. key is the table's partition column: the first
// column of its primary key. Changes of one key keep their order; changes of different
// keys commute, which is what lets a rebuild batch them.
type op struct {
	kind  opKind
	table string
	key   Col
	cols  Row // for insert and upsert, the other columns; for update, the ones it sets
}

// Changes collects what events change, in order.
type Changes struct {
	ops []op
}

// Insert adds a row; its first column is the key.
func (c *Changes) Insert(table string, row Row) {
	row = storable(row)
	c.ops = append(c.ops, op{kind: opInsert, table: table, key: row[0], cols: row[1:]})
}

// Upsert adds a row or, when a row with its key (the first column, a unique key) is
// there, sets the row's other given columns.
func (c *Changes) Upsert(table string, row Row) {
	row = storable(row)
	c.ops = append(c.ops, op{kind: opUpsert, table: table, key: row[0], cols: row[1:]})
}

// Update sets columns of the rows whose key column equals key.
func (c *Changes) Update(table string, key Col, set Row) {
	c.ops = append(c.ops, op{kind: opUpdate, table: table, key: key, cols: storable(set)})
}

// UpdateAll sets columns of every row whose column where equals its value, whatever
// their keys: an erasure clears a user's rows in tables keyed by interview. It runs
// after every change recorded before it and before every change recorded after it.
func (c *Changes) UpdateAll(table string, where Col, set Row) {
	c.ops = append(c.ops, op{kind: opUpdateAll, table: table, key: where, cols: storable(set)})
}

// Delete removes the rows whose key column equals key.
func (c *Changes) Delete(table string, key Col) {
	c.ops = append(c.ops, op{kind: opDelete, table: table, key: key})
}

// storable cleans the text of a row on its way in (domain.CleanText, line breaks kept):
// an older version of the code let NULs, control characters and direction overrides
// into the log, and PostgreSQL refuses a NUL in text, which would stall the projection
// on that event for good. Live and rebuilt rows are cleaned alike.
func storable(row Row) Row {
	for i := range row {
		if s, ok := row[i].Value.(string); ok {
			row[i].Value = domain.CleanText(s, true)
		}
	}
	return row
}

// PostgreSQL refuses \u0000 in jsonb, so the strings of a JSON column are cleaned
// before they are encoded.

// storableList is the JSON array of list's strings, cleaned.
func storableList(list []string) string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = domain.CleanText(s, false)
	}
	b, _ := json.Marshal(out) // a []string always marshals
	return string(b)
}

// storableScores is the JSON object of scores with cleaned names; names that clean to
// the same one keep the score of the first in sorted order, so every run agrees.
func storableScores(scores map[string]int) string {
	out := make(map[string]int, len(scores))
	for _, name := range slices.Sorted(maps.Keys(scores)) {
		clean := domain.CleanText(name, false)
		if _, taken := out[clean]; !taken {
			out[clean] = scores[name]
		}
	}
	b, _ := json.Marshal(out) // a map[string]int always marshals, keys sorted
	return string(b)
}

func (c *Changes) reset() { c.ops = c.ops[:0] }

// Values for nullable columns: the zero value is NULL.

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

func nullUUID(id uuid.UUID) any {
	if id == uuid.Nil {
		return nil
	}
	return id
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

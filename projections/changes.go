package projections

import (
	"time"

	"github.com/google/uuid"
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
	c.ops = append(c.ops, op{kind: opInsert, table: table, key: row[0], cols: row[1:]})
}

// Upsert adds a row or, when a row with its key (the first column, a unique key) is
// there, sets the row's other given columns.
func (c *Changes) Upsert(table string, row Row) {
	c.ops = append(c.ops, op{kind: opUpsert, table: table, key: row[0], cols: row[1:]})
}

// Update sets columns of the rows whose key column equals key.
func (c *Changes) Update(table string, key Col, set Row) {
	c.ops = append(c.ops, op{kind: opUpdate, table: table, key: key, cols: set})
}

// Delete removes the rows whose key column equals key.
func (c *Changes) Delete(table string, key Col) {
	c.ops = append(c.ops, op{kind: opDelete, table: table, key: key})
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

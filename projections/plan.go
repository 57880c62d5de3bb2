package projections

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// statement is one SQL statement of a plan; every argument is an array with one
// element per row, so the text is the same whatever the number of rows.
type statement struct {
	sql  string
	args []any
}

// customPlans plans the statements after it in its transaction for the tables as they
// are at each run; a plan that finds rows to change (an update, a delete) starts with
// it. A read table grows from empty (a new site, a rebuild's shadow) faster than
// autovacuum's ANALYZE follows it, and the plan a connection caches for an update
// while the table is small (a sequential scan) would stay as it grows: every batch
// would then read the whole table to change a few rows of it.
var customPlans = statement{sql: `SELECT set_config('plan_cache_mode', 'force_custom_plan', true)`}

// schema holds the SQL types of the read tables' columns, read from the catalog, so
// array arguments can be cast without a second copy of the DDL in Go.
type schema struct {
	types map[string]map[string]string // table → column → type
}

type queryer interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func loadSchema(ctx context.Context, db queryer, projections []Projection) (*schema, error) {
	s := &schema{types: map[string]map[string]string{}}
	for _, p := range projections {
		for _, table := range p.Tables() {
			rows, err := db.Query(ctx, `SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
				WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped`, table)
			if err != nil {
				return nil, fmt.Errorf("columns of %s: %w", table, err)
			}
			cols := map[string]string{}
			for rows.Next() {
				var name, typ string
				if err := rows.Scan(&name, &typ); err != nil {
					rows.Close()
					return nil, fmt.Errorf("columns of %s: %w", table, err)
				}
				cols[name] = typ
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return nil, fmt.Errorf("columns of %s: %w", table, err)
			}
			if len(cols) == 0 {
				return nil, fmt.Errorf("read table %s has no columns: are the migrations applied?", table)
			}
			s.types[table] = cols
		}
	}
	return s, nil
}

// group is the ops of one wave that share a shape (kind, table, columns): one statement.
type group struct {
	op   op // the first op, for the shape
	rows [][]any
}

type rowKey struct {
	table string
	key   any
}

type placed struct {
	wave  int
	shape string
}

// plan turns ops into statements. Ops of one key keep their order across waves; the
// ops of a wave touch distinct keys, so each shape of a wave is one multi-row
// statement. Inserts of one key (several professions of a user) may share a wave.
// table maps a read table to the physical one (live or shadow).
func (s *schema) plan(ops []op, table func(string) string) ([]statement, error) {
	var waves []map[string]*group
	var order [][]string // shapes of each wave in first-seen order: the plan is deterministic
	last := make(map[rowKey]placed, len(ops))
	floor := 0 // the first wave after the last UpdateAll: nothing recorded later runs before it
	for _, o := range ops {
		sh := shape(o)
		k := rowKey{o.table, o.key.Value}
		w := 0
		if p, ok := last[k]; ok {
			w = p.wave + 1
			if o.kind == opInsert && p.shape == sh {
				w = p.wave
			}
		}
		w = max(w, floor)
		if o.kind == opUpdateAll {
			w = len(waves)
			floor = w + 1
		}
		for len(waves) <= w {
			waves = append(waves, map[string]*group{})
			order = append(order, nil)
		}
		g, ok := waves[w][sh]
		if !ok {
			g = &group{op: o}
			waves[w][sh] = g
			order[w] = append(order[w], sh)
		}
		row := make([]any, 0, len(o.cols)+1)
		row = append(row, o.key.Value)
		for _, c := range o.cols {
			row = append(row, c.Value)
		}
		g.rows = append(g.rows, row)
		last[k] = placed{w, sh}
	}
	var out []statement
	if slices.ContainsFunc(ops, func(o op) bool { return o.kind == opUpdate || o.kind == opUpdateAll || o.kind == opDelete }) {
		out = append(out, customPlans)
	}
	for w, shapes := range order {
		for _, sh := range shapes {
			st, err := s.statement(waves[w][sh], table)
			if err != nil {
				return nil, err
			}
			out = append(out, st)
		}
	}
	return out, nil
}

func shape(o op) string {
	var b strings.Builder
	b.WriteString(strconv.Itoa(int(o.kind)) + " " + o.table + " " + o.key.Name)
	for _, c := range o.cols {
		b.WriteString("," + c.Name)
	}
	return b.String()
}

// statement writes the SQL of a group: unnest over one array per column.
func (s *schema) statement(g *group, table func(string) string) (statement, error) {
	o := g.op
	types, ok := s.types[o.table]
	if !ok {
		return statement{}, fmt.Errorf("unknown read table %s", o.table)
	}
	names := make([]string, 0, len(o.cols)+1)
	names = append(names, o.key.Name)
	for _, c := range o.cols {
		names = append(names, c.Name)
	}
	arrays := make([]string, len(names))
	args := make([]any, len(names))
	for i, n := range names {
		typ, ok := types[n]
		if !ok {
			return statement{}, fmt.Errorf("read table %s has no column %s", o.table, n)
		}
		arrays[i] = "$" + strconv.Itoa(i+1) + "::" + typ + "[]"
		column := make([]any, len(g.rows))
		for r, row := range g.rows {
			column[r] = row[i]
		}
		args[i] = column
	}
	t := pgx.Identifier{table(o.table)}.Sanitize()
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = pgx.Identifier{n}.Sanitize()
	}
	unnest := "unnest(" + strings.Join(arrays, ", ") + ")"
	var sql string
	switch o.kind {
	case opInsert, opUpsert:
		sql = "INSERT INTO " + t + " (" + strings.Join(quoted, ", ") + ") SELECT * FROM " + unnest
		if o.kind == opUpsert {
			sets := make([]string, 0, len(quoted)-1)
			for _, q := range quoted[1:] {
				sets = append(sets, q+" = EXCLUDED."+q)
			}
			sql += " ON CONFLICT (" + quoted[0] + ") DO UPDATE SET " + strings.Join(sets, ", ")
		}
	case opUpdate, opUpdateAll:
		sets := make([]string, 0, len(quoted)-1)
		for _, q := range quoted[1:] {
			sets = append(sets, q+" = v."+q)
		}
		sql = "UPDATE " + t + " AS t SET " + strings.Join(sets, ", ") + " FROM " + unnest +
			" AS v(" + strings.Join(quoted, ", ") + ") WHERE t." + quoted[0] + " = v." + quoted[0]
	case opDelete:
		sql = "DELETE FROM " + t + " WHERE " + quoted[0] + " = ANY(" + arrays[0] + ")"
	}
	return statement{sql: sql, args: args}, nil
}

// live is the table mapping of the live runner.
func live(table string) string { return table }

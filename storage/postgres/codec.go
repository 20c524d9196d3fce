package postgres

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// querier is what *pgxpool.Conn and pgx.Tx have in common, so that a helper
// can run inside or outside a transaction.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// scanner is what pgx.Row and pgx.Rows have in common.
type scanner interface {
	Scan(dest ...any) error
}

// timeCol scans a timestamptz column into a time.Time in UTC; NULL becomes
// the zero time. pgx would otherwise return times in time.Local.
type timeCol struct{ dst *time.Time }

func (c timeCol) ScanTimestamptz(v pgtype.Timestamptz) error {
	if !v.Valid {
		*c.dst = time.Time{}
		return nil
	}
	*c.dst = v.Time.UTC()
	return nil
}

// nullTimeCol scans a nullable timestamptz column into a *time.Time.
type nullTimeCol struct{ dst **time.Time }

func (c nullTimeCol) ScanTimestamptz(v pgtype.Timestamptz) error {
	if !v.Valid {
		*c.dst = nil
		return nil
	}
	t := v.Time.UTC()
	*c.dst = &t
	return nil
}

// optTime encodes a time that may be unset (auth_time before login) as NULL
// when it is the zero time.
func optTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// optTimePtr encodes an optional time as NULL when nil.
func optTimePtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return *t
}

// list encodes a string list for a NOT NULL text[] column: pgx sends a nil
// slice as NULL, so nil becomes the empty array.
func list(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

// lists fixes up text[] columns after Scan: pgx scans '{}' as an empty,
// non-nil slice, and the contract (like the SQLite backend) returns nil.
func lists(ls ...*[]string) {
	for _, l := range ls {
		if len(*l) == 0 {
			*l = nil
		}
	}
}

// jsonObject encodes a free-form JSON object for a nullable jsonb column
// (user attributes, audit details): an empty or nil map is NULL. Reading
// back, pgx unmarshals jsonb into a *map[string]any (NULL gives nil).
type jsonObject map[string]any

func (o jsonObject) Value() (driver.Value, error) {
	if len(o) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(map[string]any(o))
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// table describes a table whose first keys columns are its primary key, so
// that the SELECT, INSERT and UPDATE statements of a record are generated
// from one column list and cannot drift from the scan and args functions.
type table struct {
	name string
	cols []string
	keys int
}

func (t table) columns() string { return strings.Join(t.cols, ", ") }

// selectSQL returns "SELECT <cols> FROM <name>", for callers to add WHERE.
func (t table) selectSQL() string { return "SELECT " + t.columns() + " FROM " + t.name }

func (t table) insertSQL() string {
	ph := make([]string, len(t.cols))
	for i := range ph {
		ph[i] = "$" + strconv.Itoa(i+1)
	}
	return "INSERT INTO " + t.name + " (" + t.columns() + ") VALUES (" + strings.Join(ph, ", ") + ")"
}

// updateSQL sets every non-key column, by primary key; pass updateArgs.
func (t table) updateSQL() string {
	n := 0
	next := func() string { n++; return "$" + strconv.Itoa(n) }
	set := make([]string, 0, len(t.cols)-t.keys)
	for _, c := range t.cols[t.keys:] {
		set = append(set, c+" = "+next())
	}
	where := make([]string, 0, t.keys)
	for _, c := range t.cols[:t.keys] {
		where = append(where, c+" = "+next())
	}
	return "UPDATE " + t.name + " SET " + strings.Join(set, ", ") + " WHERE " + strings.Join(where, " AND ")
}

// updateArgs reorders insert args (keys first) for updateSQL (keys last).
func (t table) updateArgs(args []any) []any {
	out := make([]any, 0, len(args))
	out = append(out, args[t.keys:]...)
	return append(out, args[:t.keys]...)
}

// selectForUpdateSQL returns the SELECT that locks one record by primary key for the
// rest of the transaction (read-modify-write in Update* closures).
func (t table) selectForUpdateSQL() string {
	where := make([]string, 0, t.keys)
	for i, c := range t.cols[:t.keys] {
		where = append(where, c+" = $"+strconv.Itoa(i+1))
	}
	return t.selectSQL() + " WHERE " + strings.Join(where, " AND ") + " FOR UPDATE"
}

package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/herald-idp/herald/storage"
)

// querier is what *sql.DB, *sql.Tx and *sql.Conn have in common, so that a
// helper can run inside or outside a transaction.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// rowExecer is what a transaction's hot statements (hotTx) and *sql.Tx
// have in common.
type rowExecer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// scanner is what *sql.Row and *sql.Rows have in common.
type scanner interface {
	Scan(dest ...any) error
}

// Times are stored as unix nanoseconds, which cover 1678..2262. Times beyond
// are clamped so that "never expires" style values still order correctly.
var (
	minStorableTime = time.Unix(0, math.MinInt64+1)
	maxStorableTime = time.Unix(0, math.MaxInt64)
)

// encTime encodes t as unix nanoseconds; the zero time is 0.
func encTime(t time.Time) int64 {
	switch {
	case t.IsZero():
		return 0
	case t.Before(minStorableTime):
		return math.MinInt64 + 1
	case t.After(maxStorableTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// decTime is the inverse of encTime; times come back in UTC.
func decTime(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// encTimePtr encodes an optional time as NULL when nil.
func encTimePtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return encTime(*t)
}

// timeCol scans an INTEGER column into a time.Time.
type timeCol struct{ dst *time.Time }

func (c timeCol) Scan(src any) error {
	n, ok := src.(int64)
	if !ok {
		return fmt.Errorf("time column: unexpected type %T", src)
	}
	*c.dst = decTime(n)
	return nil
}

// nullTimeCol scans a nullable INTEGER column into a *time.Time.
type nullTimeCol struct{ dst **time.Time }

func (c nullTimeCol) Scan(src any) error {
	if src == nil {
		*c.dst = nil
		return nil
	}
	n, ok := src.(int64)
	if !ok {
		return fmt.Errorf("time column: unexpected type %T", src)
	}
	t := decTime(n)
	*c.dst = &t
	return nil
}

// list is a string list stored as a JSON array. Empty lists are stored as
// "[]" and come back as nil.
type list []string

func (l list) Value() (driver.Value, error) {
	if len(l) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal([]string(l))
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// listCol scans a JSON TEXT column into a []string.
type listCol struct{ dst *[]string }

func (c listCol) Scan(src any) error {
	var raw []byte
	switch v := src.(type) {
	case string:
		raw = []byte(v)
	case []byte:
		raw = v
	case nil:
		*c.dst = nil
		return nil
	default:
		return fmt.Errorf("list column: unexpected type %T", src)
	}
	var out []string
	if err := json.Unmarshal(raw, &out); err != nil {
		return fmt.Errorf("list column: %w", err)
	}
	if len(out) == 0 {
		out = nil
	}
	*c.dst = out
	return nil
}

// encJSON encodes a document column (tenant settings).
func encJSON(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// encObject encodes a free-form JSON object column (user attributes,
// audit details); an empty or nil map is stored as NULL.
func encObject(m map[string]any) (any, error) {
	if len(m) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// jsonCol scans a JSON TEXT column into dst (a pointer); NULL leaves the
// zero value. JSON numbers in free-form values come back as float64.
type jsonCol struct{ dst any }

func (c jsonCol) Scan(src any) error {
	var raw []byte
	switch v := src.(type) {
	case string:
		raw = []byte(v)
	case []byte:
		raw = v
	case nil:
		return nil
	default:
		return fmt.Errorf("json column: unexpected type %T", src)
	}
	if err := json.Unmarshal(raw, c.dst); err != nil {
		return fmt.Errorf("json column: %w", err)
	}
	return nil
}

// mapErr turns driver errors into the storage sentinels. what names the
// record ("client \"web\"") and must never contain a secret or a hash of one.
func mapErr(err error, what string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, storage.ErrNotFound)
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("%s: %w", what, storage.ErrAlreadyExists)
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			// The only foreign keys point at tenants.
			return fmt.Errorf("%s: tenant: %w", what, storage.ErrNotFound)
		}
	}
	return fmt.Errorf("%s: %w", what, err)
}

// requireAffected returns ErrNotFound when a statement touched no row.
func requireAffected(res sql.Result, what string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if n == 0 {
		return fmt.Errorf("%s: %w", what, storage.ErrNotFound)
	}
	return nil
}

// requireKeys rejects records whose key fields are empty: they are caller
// bugs, and storing them would make the row unreachable.
func requireKeys(what string, keys ...string) error {
	for _, k := range keys {
		if k == "" {
			return fmt.Errorf("%s: tenant and id must not be empty", what)
		}
	}
	return nil
}

// inTx runs fn in a write transaction (BEGIN IMMEDIATE through the DSN, on
// the single writer connection) and commits unless fn fails or panics.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			_ = tx.Rollback()
		}
	}()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	committed = true
	return nil
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
	return "INSERT INTO " + t.name + " (" + t.columns() + ") VALUES (" +
		strings.TrimSuffix(strings.Repeat("?, ", len(t.cols)), ", ") + ")"
}

// updateSQL sets every non-key column, by primary key; pass updateArgs.
func (t table) updateSQL() string {
	set := make([]string, 0, len(t.cols)-t.keys)
	for _, c := range t.cols[t.keys:] {
		set = append(set, c+" = ?")
	}
	where := make([]string, 0, t.keys)
	for _, c := range t.cols[:t.keys] {
		where = append(where, c+" = ?")
	}
	return "UPDATE " + t.name + " SET " + strings.Join(set, ", ") + " WHERE " + strings.Join(where, " AND ")
}

// updateArgs reorders insert args (keys first) for updateSQL (keys last).
func (t table) updateArgs(args []any) []any {
	out := make([]any, 0, len(args))
	out = append(out, args[t.keys:]...)
	return append(out, args[:t.keys]...)
}

package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// record ties a model type to its table: how to scan a row into it and how
// to list its column values in table order. The generic helpers below keep
// the per-record files down to their SQL and their rules.
type record[T any] struct {
	table table
	scan  func(scanner) (*T, error)
	args  func(*T) []any
}

// insert stores one record (ErrAlreadyExists on a taken key, ErrNotFound
// for an unknown tenant).
func (r record[T]) insert(ctx context.Context, s *Store, what string, v *T) error {
	return s.run(ctx, what, func(ctx context.Context, q querier) error {
		_, err := q.Exec(ctx, r.table.insertSQL(), r.args(v)...)
		return mapErr(err, what)
	})
}

// get returns the one row of query, ErrNotFound if there is none.
func (r record[T]) get(ctx context.Context, s *Store, what, query string, args ...any) (*T, error) {
	var out *T
	err := s.run(ctx, what, func(ctx context.Context, q querier) error {
		v, err := r.scan(q.QueryRow(ctx, query, args...))
		out = v
		return mapErr(err, what)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// list returns every row of query.
func (r record[T]) list(ctx context.Context, s *Store, what, query string, args ...any) ([]*T, error) {
	var out []*T
	err := s.run(ctx, what, func(ctx context.Context, q querier) error {
		rows, err := q.Query(ctx, query, args...)
		if err != nil {
			return mapErr(err, what)
		}
		defer rows.Close()
		for rows.Next() {
			v, err := r.scan(rows)
			if err != nil {
				return mapErr(err, what)
			}
			out = append(out, v)
		}
		return mapErr(rows.Err(), what)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// update is the read-modify-write of every Update* method: in one
// transaction it locks the row selected by query (which must end in FOR
// UPDATE), applies update, validates the result with check and stores it.
// Concurrent updates of one record queue on the row lock instead of losing
// each other's changes. An error from update is returned unchanged and
// nothing is stored.
func (r record[T]) update(ctx context.Context, s *Store, what, query string, args []any,
	update func(*T) error, check func(*T) error) (*T, error) {
	var out *T
	err := s.inTx(ctx, what, func(ctx context.Context, tx pgx.Tx) error {
		v, err := r.scan(tx.QueryRow(ctx, query, args...))
		if err != nil {
			return mapErr(err, what)
		}
		if err := update(v); err != nil {
			return err
		}
		if err := check(v); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, r.table.updateSQL(), r.table.updateArgs(r.args(v))...); err != nil {
			return mapErr(err, what)
		}
		out = v
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

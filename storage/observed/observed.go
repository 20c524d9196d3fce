// Package observed wraps a storage.Store so that every call is timed by
// backend and operation (herald_storage_operation_duration_seconds) and,
// when tracing is on, becomes a child span of the request's span. It is
// applied once, by cmd/herald serve; the storage packages themselves know
// nothing of metrics or tracing.
//
// Methods are wrapped by generated code (gen.go, observed_gen.go);
// accessors and methods added to storage later pass through unobserved
// until it is run again.
package observed

//go:generate go run gen.go

import (
	"context"
	"errors"

	"github.com/herald-idp/herald/internal/telemetry"
	"github.com/herald-idp/herald/storage"
)

// Store is an observed storage.Store.
type Store struct {
	storage.Store
	w subStores
}

// Wrap returns s observed through t, or s itself when t is nil. durable
// names the backend of the durable records (sqlite, postgres); short, when
// not empty, the backend holding authorization requests, codes, sessions
// and login attempts (redis, as storage.Combine arranges).
func Wrap(s storage.Store, t *telemetry.Telemetry, durable, short string) storage.Store {
	if t == nil {
		return s
	}
	if short == "" {
		short = durable
	}
	d := &ops{t.StorageOps(durable, operations)}
	sh := d
	if short != durable {
		sh = &ops{t.StorageOps(short, operations)}
	}
	return &Store{Store: s, w: wrapAll(s, d, sh)}
}

// Unwrap returns the store Wrap was given.
func (s *Store) Unwrap() storage.Store { return s.Store }

type ops struct{ s *telemetry.StorageOps }

type call struct{ c telemetry.StorageCall }

func (o *ops) start(ctx context.Context, op int) (context.Context, call) {
	ctx, c := o.s.Start(ctx, op)
	return ctx, call{c}
}

func (c call) end(err error) { c.c.End(err, isAnswer) }

// isAnswer tells errors that are answers (not found, already used,
// revoked, already exists) from failures of the backend.
func isAnswer(err error) bool {
	return errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrAlreadyUsed) ||
		errors.Is(err, storage.ErrAlreadyExists) || errors.Is(err, storage.ErrRevoked)
}

package storage

import (
	"errors"
	"fmt"
)

// Sentinel errors every backend returns (wrapped or bare) so that callers can
// decide with errors.Is, whatever the backend.
var (
	// ErrNotFound: no such record in this tenant, or it has expired.
	ErrNotFound = errors.New("storage: not found")
	// ErrAlreadyExists: a record with the same unique key exists (tenant name,
	// client ID, username within a tenant, ...).
	ErrAlreadyExists = errors.New("storage: already exists")
	// ErrAlreadyUsed: a single-use record (authorization code, refresh token)
	// was consumed before. The record is still returned where the interface
	// says so, so that the caller can revoke what the first use issued.
	ErrAlreadyUsed = errors.New("storage: already used")
)

// Kinds of record named by Record.
const (
	KindTenant = "tenant"
	KindClient = "client"
	KindUser   = "user"
	// KindSigningKey names a signing key by key ID, or a tenant's keys of
	// one algorithm by the algorithm's name.
	KindSigningKey = "signing key"
)

// Record names one record in an error: its kind, the tenant it belongs to
// (empty for a tenant) and its ID (a tenant's name, a client ID, a user ID
// or username).
type Record struct {
	Kind   string // KindTenant, KindClient, KindUser, KindSigningKey
	Tenant string
	ID     string
}

// String is how every message names a record: `tenant "acme"`,
// `client "web" in tenant "acme"`.
func (r Record) String() string {
	s := fmt.Sprintf("%s %q", r.Kind, r.ID)
	if r.Tenant != "" && r.Kind != KindTenant {
		s += fmt.Sprintf(" in tenant %q", r.Tenant)
	}
	return s
}

// NotFoundError says which record was not found, so that callers can name it
// without taking error strings apart. It matches ErrNotFound (errors.Is).
type NotFoundError struct{ Record }

func (e *NotFoundError) Error() string { return e.Record.String() + " not found" }

// Unwrap makes errors.Is(err, ErrNotFound) hold.
func (e *NotFoundError) Unwrap() error { return ErrNotFound }

// ConflictError says which record could not be stored because something
// unique is taken: the record's own key (Field empty: a tenant name, client
// ID or username in use) or, with Field set, the value of that field (a
// hostname another tenant claims). It matches ErrAlreadyExists, and
// ErrHostnameTaken when Err is that.
type ConflictError struct {
	Record
	// Field is the field whose value is taken, in snake_case as the
	// registry names fields ("hostnames"); empty when the record's key
	// itself is taken.
	Field string
	// Message says what is taken in Field (`hostname "a.example" is
	// claimed by tenant "acme"`); unused when Field is empty.
	Message string
	// Err is the sentinel matched: ErrAlreadyExists or ErrHostnameTaken
	// (nil means ErrAlreadyExists).
	Err error
}

func (e *ConflictError) Error() string {
	if e.Field == "" {
		return e.Record.String() + " already exists"
	}
	return e.Record.String() + ": " + e.Message
}

// Unwrap makes errors.Is(err, ErrAlreadyExists) hold, and
// errors.Is(err, ErrHostnameTaken) where Err is that.
func (e *ConflictError) Unwrap() error {
	if e.Err == nil {
		return ErrAlreadyExists
	}
	return e.Err
}

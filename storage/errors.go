package storage

import "errors"

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

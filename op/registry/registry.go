package registry

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/herald-idp/herald/keys"
	"github.com/herald-idp/herald/op/password"
	"github.com/herald-idp/herald/storage"
)

// Registry creates, changes and deletes tenants, clients and users after
// validating them, and records every change in the audit log. Store is
// required; Keys is needed by CreateTenant and Passwords by the user methods
// that take a plain-text password.
type Registry struct {
	Store     storage.Store
	Keys      *keys.Manager
	Passwords *password.Hasher
	// PublicURL is the base of every issuer (see IssuerURL).
	PublicURL string
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// OnChange, if set, is called after every change to a tenant or one of
	// its clients (or keys), with the tenant's name, so that the server can
	// drop what it caches and tell other replicas (see changes.go). User
	// changes do not call it: users are read fresh on every use.
	OnChange func(ctx context.Context, tenant string)

	// actor is recorded in the audit log (see As); zero means CLI.
	actor Actor
}

// IssuerURL is the issuer of a tenant: publicURL + "/t/" + tenant. The public
// URL carries no trailing slash (op.Config.Validate insists), but one is
// tolerated here so that callers cannot produce "//t/".
func IssuerURL(publicURL, tenant string) string {
	return strings.TrimRight(publicURL, "/") + "/t/" + tenant
}

func (r *Registry) now() time.Time {
	if r.Now != nil {
		return r.Now().UTC()
	}
	return time.Now().UTC()
}

// ValidationError says what is wrong with one field of a spec. Several are
// returned together with errors.Join; ValidationErrors takes them apart.
type ValidationError struct {
	Field   string // the spec field, in snake_case (redirect_uris, username, ...)
	Message string
}

func (e *ValidationError) Error() string { return e.Field + ": " + e.Message }

// ValidationErrors returns every *ValidationError in err's tree, in order; nil
// if err is not a validation failure.
func ValidationErrors(err error) []*ValidationError {
	var out []*ValidationError
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		if ve, ok := e.(*ValidationError); ok {
			out = append(out, ve)
			return
		}
		switch u := e.(type) {
		case interface{ Unwrap() []error }:
			for _, inner := range u.Unwrap() {
				walk(inner)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	walk(err)
	return out
}

// problems collects validation errors of one spec.
type problems []error

func (p *problems) add(field, format string, args ...any) {
	*p = append(*p, &ValidationError{Field: field, Message: fmt.Sprintf(format, args...)})
}

func (p problems) err() error { return errors.Join(p...) }

// maxLabelLength bounds free-text labels (display names, client names, the
// parts of a user's name): they are shown on pages, not used as keys.
const maxLabelLength = 200

// storeError turns a storage error about rec into one that names it: the
// sentinels become a *storage.NotFoundError or *storage.ConflictError (a
// taken hostname naming the field), so that the admin API and the CLI render
// them without reading error text, and messages read the same whatever the
// backend. Other errors keep their text, prefixed with rec.
func storeError(err error, rec storage.Record) error {
	var nf *storage.NotFoundError
	var ce *storage.ConflictError
	switch {
	case errors.As(err, &nf), errors.As(err, &ce):
		return err // already names its record
	case errors.Is(err, storage.ErrHostnameTaken):
		return &storage.ConflictError{Record: rec, Field: "hostnames",
			Message: "a hostname is claimed by another tenant", Err: storage.ErrHostnameTaken}
	case errors.Is(err, storage.ErrAlreadyExists):
		return &storage.ConflictError{Record: rec}
	case errors.Is(err, storage.ErrNotFound):
		return &storage.NotFoundError{Record: rec}
	}
	return fmt.Errorf("%s: %w", rec, err)
}

func tenantRecord(name string) storage.Record {
	return storage.Record{Kind: storage.KindTenant, ID: name}
}

func clientRecord(tenant, id string) storage.Record {
	return storage.Record{Kind: storage.KindClient, Tenant: tenant, ID: id}
}

func userRecord(tenant, id string) storage.Record {
	return storage.Record{Kind: storage.KindUser, Tenant: tenant, ID: id}
}

// checkLabel accepts optional free text: bounded, valid UTF-8, no control
// characters (they break log lines and page layout).
func checkLabel(p *problems, field, s string) {
	switch {
	case !utf8.ValidString(s):
		p.add(field, "must be valid UTF-8")
	case utf8.RuneCountInString(s) > maxLabelLength:
		p.add(field, "must be at most %d characters", maxLabelLength)
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		p.add(field, "must not contain control characters")
	}
}

package registry

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/herald-idp/herald/keys"
	"github.com/herald-idp/herald/op/password"
	"github.com/herald-idp/herald/storage"
)

// Registry creates tenants, clients and users after validating them.
// Store is required; Keys is needed by CreateTenant and Passwords by the
// user methods that take a plain-text password.
type Registry struct {
	Store     storage.Store
	Keys      *keys.Manager
	Passwords *password.Hasher
	// PublicURL is the base of every issuer (see IssuerURL).
	PublicURL string
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
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

// Signing algorithms a tenant may choose (the JWS alg names of RFC 7518 and
// RFC 8037). RS256 is always published as well: OIDC Core §15.1 makes it the
// one algorithm every relying party supports.
const (
	AlgRS256 = "RS256"
	AlgES256 = "ES256"
	AlgEdDSA = "EdDSA"
)

var tenantNamePattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// maxLabelLength bounds free-text labels (display names, client names, the
// parts of a user's name): they are shown on pages, not used as keys.
const maxLabelLength = 200

// TenantSpec describes a tenant to create.
type TenantSpec struct {
	Name             string // lower-case letters, digits and inner hyphens; 1-63 chars
	DisplayName      string // shown on the login pages; defaults to Name
	SigningAlgorithm string // RS256 (default), ES256 or EdDSA
}

// CreateTenant validates spec, stores the tenant and makes sure it has signing
// keys (RS256 plus the chosen algorithm). If the keys cannot be created the
// tenant is removed again, so that no issuer exists without keys.
func (r *Registry) CreateTenant(ctx context.Context, spec TenantSpec) (*storage.Tenant, error) {
	var p problems
	if !tenantNamePattern.MatchString(spec.Name) {
		p.add("name", "must be 1-63 lower-case letters, digits or hyphens, starting and ending with a letter or digit")
	}
	checkLabel(&p, "display_name", spec.DisplayName)
	alg := spec.SigningAlgorithm
	if alg == "" {
		alg = AlgRS256
	}
	if alg != AlgRS256 && alg != AlgES256 && alg != AlgEdDSA {
		p.add("signing_alg", "must be RS256, ES256 or EdDSA, not %q", spec.SigningAlgorithm)
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	if r.Keys == nil {
		return nil, errors.New("registry: no key manager configured")
	}
	display := strings.TrimSpace(spec.DisplayName)
	if display == "" {
		display = spec.Name
	}
	now := r.now()
	t := &storage.Tenant{
		Name:             spec.Name,
		DisplayName:      display,
		SigningAlgorithm: alg,
		CreatedAt:        now,
		UpdatedAt:        now,
	}
	if err := r.Store.Tenants().CreateTenant(ctx, t); err != nil {
		return nil, storeError(err, "tenant %q", spec.Name)
	}
	algs := []string{AlgRS256}
	if alg != AlgRS256 {
		algs = append(algs, alg)
	}
	if err := r.Keys.EnsureKeys(ctx, t.Name, algs...); err != nil {
		// Roll back: a tenant without keys could not sign anything. The
		// delete uses a fresh context so a cancelled ctx does not leave the
		// half-made tenant behind.
		_ = r.Store.Tenants().DeleteTenant(context.WithoutCancel(ctx), t.Name)
		return nil, fmt.Errorf("create signing keys for tenant %q: %w", t.Name, err)
	}
	return t, nil
}

// ListTenants returns every tenant.
func (r *Registry) ListTenants(ctx context.Context) ([]*storage.Tenant, error) {
	return r.Store.Tenants().ListTenants(ctx)
}

// tenant loads a tenant, wrapping storage.ErrNotFound with its name.
func (r *Registry) tenant(ctx context.Context, name string) (*storage.Tenant, error) {
	t, err := r.Store.Tenants().Tenant(ctx, name)
	if err != nil {
		return nil, storeError(err, "tenant %q", name)
	}
	return t, nil
}

// storeError wraps a storage error with what it concerns. The sentinels
// ErrNotFound and ErrAlreadyExists replace the backend's own text, so that
// messages read the same whatever the backend ("tenant "acme": storage: not
// found"); other errors keep theirs.
func storeError(err error, format string, args ...any) error {
	for _, sentinel := range []error{storage.ErrNotFound, storage.ErrAlreadyExists} {
		if errors.Is(err, sentinel) {
			return fmt.Errorf(format+": %w", append(args, sentinel)...)
		}
	}
	return fmt.Errorf(format+": %w", append(args, err)...)
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

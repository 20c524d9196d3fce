package registry

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/herald-idp/herald/keys"
	"github.com/herald-idp/herald/storage"
)

// SystemTenant is the reserved tenant of the admin API: tokens its clients
// obtain with AdminScope (client_credentials) authorise /admin/v1. Only
// Bootstrap creates it, and it cannot be disabled or deleted, so that admins
// cannot lock themselves out.
const SystemTenant = "system"

// AdminScope is the scope an access token of SystemTenant needs for the
// admin API.
const AdminScope = "herald:admin"

var tenantNamePattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// ValidTenantName reports whether name could be a tenant's: the server
// answers 404 for any other /t/{name} without asking storage.
func ValidTenantName(name string) bool { return tenantNamePattern.MatchString(name) }

// TenantSpec describes a tenant to create.
type TenantSpec struct {
	Name             string // lower-case letters, digits and inner hyphens; 1-63 chars
	DisplayName      string // shown on the login pages; defaults to Name
	SigningAlgorithm string // RS256 (default), ES256 or EdDSA
	// Hostnames the tenant is also served at (issuer https://{hostname}).
	Hostnames []string
	Settings  storage.TenantSettings
}

// CreateTenant validates spec, stores the tenant and makes sure it has signing
// keys (RS256 plus the chosen algorithm). If the keys cannot be created the
// tenant is removed again, so that no issuer exists without keys. The name
// SystemTenant is reserved for Bootstrap.
func (r *Registry) CreateTenant(ctx context.Context, spec TenantSpec) (*storage.Tenant, error) {
	if spec.Name == SystemTenant {
		return nil, &ValidationError{Field: "name", Message: fmt.Sprintf("%q is reserved for the admin tenant; create it with herald admin bootstrap", SystemTenant)}
	}
	return r.createTenant(ctx, spec)
}

func (r *Registry) createTenant(ctx context.Context, spec TenantSpec) (*storage.Tenant, error) {
	var p problems
	if !tenantNamePattern.MatchString(spec.Name) {
		p.add("name", "must be 1-63 lower-case letters, digits or hyphens, starting and ending with a letter or digit")
	}
	now := r.now()
	t := &storage.Tenant{
		Name:             spec.Name,
		DisplayName:      spec.DisplayName,
		SigningAlgorithm: spec.SigningAlgorithm,
		Hostnames:        spec.Hostnames,
		Settings:         spec.Settings,
		CreatedAt:        now,
		UpdatedAt:        now,
	}
	if t.SigningAlgorithm == "" {
		t.SigningAlgorithm = keys.DefaultAlgorithm
	}
	r.checkTenant(&p, t)
	if err := p.err(); err != nil {
		return nil, err
	}
	if r.Keys == nil {
		return nil, errors.New("registry: no key manager configured")
	}
	if err := r.checkHostnamesFree(ctx, t.Name, t.Hostnames); err != nil {
		return nil, err
	}
	if err := r.Store.Tenants().CreateTenant(ctx, t); err != nil {
		return nil, storeError(err, tenantRecord(spec.Name))
	}
	if err := r.Keys.EnsureKeys(ctx, t.Name, t.SigningAlgorithm); err != nil {
		// Roll back: a tenant without keys could not sign anything. The
		// delete uses a fresh context so a cancelled ctx does not leave the
		// half-made tenant behind.
		_ = r.Store.Tenants().DeleteTenant(context.WithoutCancel(ctx), t.Name)
		return nil, fmt.Errorf("create signing keys for tenant %q: %w", t.Name, err)
	}
	r.changed(ctx, t.Name)
	err := r.audit(ctx, ActionTenantCreate, t.Name, TargetTenant, t.Name, map[string]any{
		"display_name": t.DisplayName, "signing_alg": t.SigningAlgorithm, "hostnames": t.Hostnames,
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// checkTenant validates t and normalises it in place: the display name
// trimmed (the name when empty), hostnames and settings as checkHostnames
// and checkSettings return them.
func (r *Registry) checkTenant(p *problems, t *storage.Tenant) {
	checkLabel(p, "display_name", t.DisplayName)
	t.DisplayName = strings.TrimSpace(t.DisplayName)
	if t.DisplayName == "" {
		t.DisplayName = t.Name
	}
	if !keys.ValidAlgorithm(t.SigningAlgorithm) {
		p.add("signing_alg", "must be one of %s, not %q", strings.Join(keys.Algorithms(), ", "), t.SigningAlgorithm)
	}
	t.Hostnames = r.checkHostnames(p, t.Hostnames)
	t.Settings = checkSettings(p, t.Settings, t.SigningAlgorithm)
}

// GetTenant returns a tenant (storage.ErrNotFound if unknown).
func (r *Registry) GetTenant(ctx context.Context, name string) (*storage.Tenant, error) {
	return r.tenant(ctx, name)
}

// ListTenants returns every tenant.
func (r *Registry) ListTenants(ctx context.Context) ([]*storage.Tenant, error) {
	return r.Store.Tenants().ListTenants(ctx)
}

// TenantUpdate changes a tenant: every non-nil field replaces the stored
// value; Settings changes only the settings it names.
type TenantUpdate struct {
	DisplayName      *string
	SigningAlgorithm *string
	Hostnames        *[]string
	Settings         *SettingsUpdate
	Disabled         *bool
}

// changed names the fields u changes, as the audit log records them.
func (u TenantUpdate) changed() []string {
	var out []string
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"display_name", u.DisplayName != nil}, {"signing_alg", u.SigningAlgorithm != nil},
		{"hostnames", u.Hostnames != nil}, {"disabled", u.Disabled != nil},
	} {
		if f.set {
			out = append(out, f.name)
		}
	}
	if u.Settings != nil {
		out = append(out, u.Settings.changed()...)
	}
	return out
}

func (u TenantUpdate) apply(t *storage.Tenant) {
	if u.DisplayName != nil {
		t.DisplayName = *u.DisplayName
	}
	if u.SigningAlgorithm != nil {
		t.SigningAlgorithm = *u.SigningAlgorithm
	}
	if u.Hostnames != nil {
		t.Hostnames = slices.Clone(*u.Hostnames)
	}
	if u.Settings != nil {
		u.Settings.Apply(&t.Settings)
	}
	if u.Disabled != nil {
		t.Disabled = *u.Disabled
	}
}

// UpdateTenant applies u to the tenant atomically and validates the result
// as CreateTenant would. A new signing algorithm gets its key before the
// tenant switches to it.
func (r *Registry) UpdateTenant(ctx context.Context, name string, u TenantUpdate) (*storage.Tenant, error) {
	if name == SystemTenant && u.Disabled != nil && *u.Disabled {
		return nil, &ValidationError{Field: "disabled", Message: "the system tenant holds the admin clients and cannot be disabled"}
	}
	current, err := r.tenant(ctx, name)
	if err != nil {
		return nil, err
	}
	changed := u.changed()
	if len(changed) == 0 {
		return current, nil
	}
	// Validate against the current state first, so that nothing (keys) is
	// made for an update that cannot succeed; the update below validates
	// again against the state it actually changes.
	var p problems
	u.apply(current)
	r.checkTenant(&p, current)
	if err := p.err(); err != nil {
		return nil, err
	}
	if u.Hostnames != nil {
		if err := r.checkHostnamesFree(ctx, name, current.Hostnames); err != nil {
			return nil, err
		}
	}
	if u.SigningAlgorithm != nil {
		if r.Keys == nil {
			return nil, errors.New("registry: no key manager configured")
		}
		if err := r.Keys.EnsureKeys(ctx, name, current.SigningAlgorithm); err != nil {
			return nil, fmt.Errorf("create signing keys for tenant %q: %w", name, err)
		}
	}
	now := r.now()
	t, err := r.Store.Tenants().UpdateTenant(ctx, name, func(t *storage.Tenant) error {
		var p problems
		u.apply(t)
		r.checkTenant(&p, t)
		t.UpdatedAt = now
		return p.err()
	})
	if IsValidationError(err) {
		return nil, err
	}
	if err != nil {
		return nil, storeError(err, tenantRecord(name))
	}
	action, details := ActionTenantUpdate, map[string]any{"changed": changed}
	if len(changed) == 1 && u.Disabled != nil {
		action, details = ActionTenantEnable, nil
		if *u.Disabled {
			action = ActionTenantDisable
		}
	}
	r.changed(ctx, name)
	if err := r.audit(ctx, action, name, TargetTenant, name, details); err != nil {
		return nil, err
	}
	return t, nil
}

// DisableTenant stops serving the tenant: its discovery answers 404 and its
// tokens are refused. Nothing is deleted.
func (r *Registry) DisableTenant(ctx context.Context, name string) (*storage.Tenant, error) {
	disabled := true
	return r.UpdateTenant(ctx, name, TenantUpdate{Disabled: &disabled})
}

// EnableTenant serves a disabled tenant again.
func (r *Registry) EnableTenant(ctx context.Context, name string) (*storage.Tenant, error) {
	disabled := false
	return r.UpdateTenant(ctx, name, TenantUpdate{Disabled: &disabled})
}

// DeleteTenant removes the tenant and everything in it (clients, users,
// keys, sessions, tokens). It cannot be undone.
func (r *Registry) DeleteTenant(ctx context.Context, name string) error {
	if name == SystemTenant {
		return &ValidationError{Field: "name", Message: "the system tenant holds the admin clients and cannot be deleted"}
	}
	if _, err := r.tenant(ctx, name); err != nil {
		return err
	}
	if err := r.Store.Tenants().DeleteTenant(ctx, name); err != nil {
		return storeError(err, tenantRecord(name))
	}
	if r.Keys != nil {
		r.Keys.Invalidate(name)
	}
	r.changed(ctx, name)
	return r.audit(ctx, ActionTenantDelete, name, TargetTenant, name, nil)
}

// tenant loads a tenant, wrapping storage.ErrNotFound with its name.
func (r *Registry) tenant(ctx context.Context, name string) (*storage.Tenant, error) {
	t, err := r.Store.Tenants().Tenant(ctx, name)
	if err != nil {
		return nil, storeError(err, tenantRecord(name))
	}
	return t, nil
}

// KeyInfo is the public description of a signing key: never key material.
type KeyInfo struct {
	ID        string // the JWS kid
	Algorithm string // RS256, ES256, EdDSA
	Status    string // storage.KeyActive or storage.KeyRetired
	CreatedAt time.Time
}

// ListKeys describes the tenant's signing keys, newest first. It reads the
// store (not the key cache), so a rotation shows at once, and copies only
// the public attributes of each record.
func (r *Registry) ListKeys(ctx context.Context, tenant string) ([]KeyInfo, error) {
	if _, err := r.tenant(ctx, tenant); err != nil {
		return nil, err
	}
	recs, err := r.Store.Keys().ListKeys(ctx, tenant)
	if err != nil {
		return nil, storeError(err, tenantRecord(tenant))
	}
	out := make([]KeyInfo, 0, len(recs))
	for _, k := range recs {
		out = append(out, KeyInfo{ID: k.ID, Algorithm: k.Algorithm, Status: k.Status, CreatedAt: k.CreatedAt})
	}
	return out, nil
}

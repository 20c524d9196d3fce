package registry

import (
	"context"
	"fmt"
	"maps"
	"strings"

	"github.com/herald-idp/herald/storage"
)

// GetUser returns a user of the tenant by ID. PasswordHash is cleared: the
// hash never leaves the registry.
func (r *Registry) GetUser(ctx context.Context, tenant, id string) (*storage.User, error) {
	if _, err := r.tenant(ctx, tenant); err != nil {
		return nil, err
	}
	u, err := r.Store.Users().User(ctx, tenant, id)
	if err != nil {
		return nil, storeError(err, userRecord(tenant, id))
	}
	u.PasswordHash = ""
	return u, nil
}

// ListUsers returns the users of the tenant, without password hashes.
func (r *Registry) ListUsers(ctx context.Context, tenant string) ([]*storage.User, error) {
	if _, err := r.tenant(ctx, tenant); err != nil {
		return nil, err
	}
	us, err := r.Store.Users().ListUsers(ctx, tenant)
	if err != nil {
		return nil, storeError(err, tenantRecord(tenant))
	}
	for _, u := range us {
		u.PasswordHash = ""
	}
	return us, nil
}

// UserUpdate changes a user: each non-nil field replaces the stored value.
// Attributes replace all attributes (an empty map removes them). Changing
// the e-mail address without saying whether the new one is verified marks
// it unverified.
type UserUpdate struct {
	Email                       *string
	EmailVerified               *bool
	Name, GivenName, FamilyName *string
	Attributes                  *map[string]any
	Disabled                    *bool
}

func (u UserUpdate) changed() []string {
	var out []string
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"email", u.Email != nil}, {"email_verified", u.EmailVerified != nil}, {"name", u.Name != nil},
		{"given_name", u.GivenName != nil}, {"family_name", u.FamilyName != nil},
		{"attributes", u.Attributes != nil}, {"disabled", u.Disabled != nil},
	} {
		if f.set {
			out = append(out, f.name)
		}
	}
	return out
}

// UpdateUser validates u and applies it to the user atomically. Disabling a
// user ends their SSO sessions, as a password change does.
func (r *Registry) UpdateUser(ctx context.Context, tenant, id string, u UserUpdate) (*storage.User, error) {
	var p problems
	var email string
	if u.Email != nil {
		if email = strings.TrimSpace(*u.Email); email != "" {
			if msg := emailProblem(email); msg != "" {
				p.add("email", "%s", msg)
			}
		}
	}
	for _, l := range []struct {
		field string
		v     *string
	}{{"name", u.Name}, {"given_name", u.GivenName}, {"family_name", u.FamilyName}} {
		if l.v != nil {
			checkLabel(&p, l.field, *l.v)
		}
	}
	var attrs map[string]any
	if u.Attributes != nil {
		attrs = checkAttributes(&p, *u.Attributes)
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	if _, err := r.tenant(ctx, tenant); err != nil {
		return nil, err
	}
	changed := u.changed()
	if len(changed) == 0 {
		return r.GetUser(ctx, tenant, id)
	}
	now := r.now()
	stored, err := r.Store.Users().UpdateUser(ctx, tenant, id, func(s *storage.User) error {
		if u.Email != nil && email != s.Email {
			s.Email, s.EmailVerified = email, false
		}
		setIf(&s.EmailVerified, u.EmailVerified)
		trimIf(&s.Name, u.Name)
		trimIf(&s.GivenName, u.GivenName)
		trimIf(&s.FamilyName, u.FamilyName)
		if u.Attributes != nil {
			s.Attributes = maps.Clone(attrs)
		}
		setIf(&s.Disabled, u.Disabled)
		s.UpdatedAt = now
		return nil
	})
	if err != nil {
		return nil, storeError(err, userRecord(tenant, id))
	}
	if stored.Disabled {
		if err := r.Store.Sessions().DeleteUserSessions(ctx, tenant, id); err != nil {
			return nil, fmt.Errorf("end sessions of user %q in tenant %q: %w", id, tenant, err)
		}
		// Disabling ends every grant, offline_access included: enabling
		// again does not revive them.
		if err := r.Store.Grants().RevokeUserGrants(ctx, tenant, id, now); err != nil {
			return nil, fmt.Errorf("revoke grants of user %q in tenant %q: %w", id, tenant, err)
		}
	}
	details := map[string]any{"changed": changed}
	if u.Disabled != nil {
		details["disabled"] = *u.Disabled
	}
	if err := r.audit(ctx, ActionUserUpdate, tenant, TargetUser, id, details); err != nil {
		return nil, err
	}
	stored.PasswordHash = ""
	return stored, nil
}

func trimIf(dst *string, v *string) {
	if v != nil {
		*dst = strings.TrimSpace(*v)
	}
}

// DeleteUser removes a user and ends their SSO sessions.
func (r *Registry) DeleteUser(ctx context.Context, tenant, id string) error {
	if _, err := r.tenant(ctx, tenant); err != nil {
		return err
	}
	if err := r.Store.Users().DeleteUser(ctx, tenant, id); err != nil {
		return storeError(err, userRecord(tenant, id))
	}
	if err := r.Store.Sessions().DeleteUserSessions(ctx, tenant, id); err != nil {
		return fmt.Errorf("end sessions of user %q in tenant %q: %w", id, tenant, err)
	}
	return r.audit(ctx, ActionUserDelete, tenant, TargetUser, id, nil)
}

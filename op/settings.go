package op

import (
	"slices"

	"github.com/herald-idp/herald/storage"
)

// This file applies a tenant's own settings (storage.TenantSettings) on top
// of the server's configuration.

// tenantLifetimes returns the server defaults overridden by the tenant's
// settings. A client's own token lifetimes override both (client.go).
func tenantLifetimes(defaults Lifetimes, t *storage.Tenant) Lifetimes {
	l := defaults
	if t == nil {
		return l
	}
	st := t.Settings
	l.AccessToken = orDefault(st.AccessTokenLifetime, l.AccessToken)
	l.IDToken = orDefault(st.IDTokenLifetime, l.IDToken)
	l.RefreshToken = orDefault(st.RefreshTokenLifetime, l.RefreshToken)
	l.SessionIdle = orDefault(st.SessionIdleTimeout, l.SessionIdle)
	l.SessionAbsolute = orDefault(st.SessionAbsoluteLifetime, l.SessionAbsolute)
	if l.SessionIdle > l.SessionAbsolute {
		l.SessionIdle = l.SessionAbsolute
	}
	return l
}

// customClaims maps user attributes into claims for target, following the
// tenant's CustomClaims: a mapping applies when its scope was granted (or it
// has none) and it names target (or no targets at all). Attributes the
// user lacks are left out rather than sent as null.
func customClaims(t *storage.Tenant, u *storage.User, scopes []string, target string) map[string]any {
	if t == nil || u == nil || len(t.Settings.CustomClaims) == 0 || len(u.Attributes) == 0 {
		return nil
	}
	var out map[string]any
	for _, m := range t.Settings.CustomClaims {
		if m.Scope != "" && !slices.Contains(scopes, m.Scope) {
			continue
		}
		if len(m.Targets) > 0 && !slices.Contains(m.Targets, target) {
			continue
		}
		v, ok := u.Attributes[m.Attribute]
		if !ok {
			continue
		}
		if out == nil {
			out = map[string]any{}
		}
		out[m.Claim] = v
	}
	return out
}

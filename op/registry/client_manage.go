package registry

import (
	"context"
	"time"

	"github.com/herald-idp/herald/storage"
)

// GetClient returns a client of the tenant. Its SecretHash is cleared: the
// hash never leaves the registry.
func (r *Registry) GetClient(ctx context.Context, tenant, id string) (*storage.Client, error) {
	if _, err := r.tenant(ctx, tenant); err != nil {
		return nil, err
	}
	c, err := r.Store.Clients().Client(ctx, tenant, id)
	if err != nil {
		return nil, storeError(err, clientRecord(tenant, id))
	}
	c.SecretHash = ""
	return c, nil
}

// ListClients returns the clients of the tenant, without secret hashes.
func (r *Registry) ListClients(ctx context.Context, tenant string) ([]*storage.Client, error) {
	if _, err := r.tenant(ctx, tenant); err != nil {
		return nil, err
	}
	cs, err := r.Store.Clients().ListClients(ctx, tenant)
	if err != nil {
		return nil, storeError(err, tenantRecord(tenant))
	}
	for _, c := range cs {
		c.SecretHash = ""
	}
	return cs, nil
}

// ClientUpdate changes a client: each non-nil field replaces the stored
// value. A client cannot change between public and confidential (a public
// client has no secret to authenticate with, and a confidential one would
// lose its secret); register a new client instead.
type ClientUpdate struct {
	Name *string
	// AuthMethod: client_secret_basic or client_secret_post for confidential
	// clients; "none" (unchanged) for public ones.
	AuthMethod *string
	// ApplicationType: web for confidential clients; native or user_agent
	// for public ones.
	ApplicationType                      *string
	RedirectURIs, PostLogoutRedirectURIs *[]string
	CORSOrigins, GrantTypes, Scopes      *[]string
	FirstParty                           *bool
	AccessTokenFormat                    *string
	AccessTokenLifetime, IDTokenLifetime *time.Duration
	RefreshTokenLifetime                 *time.Duration
}

func (u ClientUpdate) changed() []string {
	var out []string
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"name", u.Name != nil}, {"auth_method", u.AuthMethod != nil}, {"application_type", u.ApplicationType != nil},
		{"redirect_uris", u.RedirectURIs != nil}, {"post_logout_redirect_uris", u.PostLogoutRedirectURIs != nil},
		{"cors_origins", u.CORSOrigins != nil}, {"grant_types", u.GrantTypes != nil}, {"scopes", u.Scopes != nil},
		{"first_party", u.FirstParty != nil}, {"access_token_format", u.AccessTokenFormat != nil},
		{"access_token_lifetime", u.AccessTokenLifetime != nil}, {"id_token_lifetime", u.IDTokenLifetime != nil},
		{"refresh_token_lifetime", u.RefreshTokenLifetime != nil},
	} {
		if f.set {
			out = append(out, f.name)
		}
	}
	return out
}

// specOf is the ClientSpec that would create c, with u applied, so that an
// update is validated by the same rules as a creation.
func specOf(c *storage.Client, u ClientUpdate) (ClientSpec, error) {
	var p problems
	public := c.IsPublic()
	spec := ClientSpec{
		ID: c.ID, Name: c.Name, Public: public && c.ApplicationType != storage.AppTypeNative,
		Native: c.ApplicationType == storage.AppTypeNative, AuthMethod: c.AuthMethod,
		RedirectURIs: c.RedirectURIs, PostLogoutRedirectURIs: c.PostLogoutRedirectURIs,
		CORSOrigins: c.CORSOrigins, GrantTypes: c.GrantTypes, Scopes: c.Scopes,
		FirstParty: c.FirstParty, AccessTokenFormat: c.AccessTokenFormat,
		AccessTokenLifetime: c.AccessTokenLifetime, IDTokenLifetime: c.IDTokenLifetime,
		RefreshTokenLifetime: c.RefreshTokenLifetime,
	}
	setIf(&spec.Name, u.Name)
	if u.AuthMethod != nil {
		if (*u.AuthMethod == storage.AuthMethodNone) != public {
			p.add("auth_method", "a client cannot change between public (none) and confidential; register a new client")
		} else {
			spec.AuthMethod = *u.AuthMethod
		}
	}
	if u.ApplicationType != nil {
		switch t := *u.ApplicationType; {
		case public && (t == storage.AppTypeNative || t == storage.AppTypeUserAgent):
			spec.Native, spec.Public = t == storage.AppTypeNative, t != storage.AppTypeNative
		case !public && t == storage.AppTypeWeb:
		case public:
			p.add("application_type", "a public client is native or user_agent, not %q", t)
		default:
			p.add("application_type", "a confidential client is web, not %q", t)
		}
	}
	setIf(&spec.RedirectURIs, u.RedirectURIs)
	setIf(&spec.PostLogoutRedirectURIs, u.PostLogoutRedirectURIs)
	setIf(&spec.CORSOrigins, u.CORSOrigins)
	setIf(&spec.GrantTypes, u.GrantTypes)
	setIf(&spec.Scopes, u.Scopes)
	setIf(&spec.FirstParty, u.FirstParty)
	setIf(&spec.AccessTokenFormat, u.AccessTokenFormat)
	setIf(&spec.AccessTokenLifetime, u.AccessTokenLifetime)
	setIf(&spec.IDTokenLifetime, u.IDTokenLifetime)
	setIf(&spec.RefreshTokenLifetime, u.RefreshTokenLifetime)
	return spec, p.err()
}

// UpdateClient applies u to the client atomically, validating the result
// with the rules of CreateClient. The secret is kept (RotateClientSecret
// replaces it). The returned client has no SecretHash.
func (r *Registry) UpdateClient(ctx context.Context, tenant, id string, u ClientUpdate) (*storage.Client, error) {
	if _, err := r.tenant(ctx, tenant); err != nil {
		return nil, err
	}
	changed := u.changed()
	if len(changed) == 0 {
		return r.GetClient(ctx, tenant, id)
	}
	now := r.now()
	c, err := r.Store.Clients().UpdateClient(ctx, tenant, id, func(c *storage.Client) error {
		spec, err := specOf(c, u)
		if err != nil {
			return err
		}
		nc, err := buildClient(spec)
		if err != nil {
			return err
		}
		nc.TenantID, nc.SecretHash, nc.CreatedAt, nc.UpdatedAt = c.TenantID, c.SecretHash, c.CreatedAt, now
		nc.UID = c.UID // the same registration: its grants stay valid
		*c = *nc
		return nil
	})
	if IsValidationError(err) {
		return nil, err
	}
	if err != nil {
		return nil, storeError(err, clientRecord(tenant, id))
	}
	r.changed(ctx, tenant)
	if err := r.audit(ctx, ActionClientUpdate, tenant, TargetClient, id, map[string]any{"changed": changed}); err != nil {
		return nil, err
	}
	c.SecretHash = ""
	return c, nil
}

// DeleteClient removes a client; the store revokes its grants (and with
// them every token issued to it) and forgets its users' consents in the
// same transaction. A client registered again under the ID gets a new
// registration UID and inherits nothing.
func (r *Registry) DeleteClient(ctx context.Context, tenant, id string) error {
	if _, err := r.tenant(ctx, tenant); err != nil {
		return err
	}
	if _, err := r.Store.Clients().Client(ctx, tenant, id); err != nil {
		return storeError(err, clientRecord(tenant, id))
	}
	if err := r.Store.Clients().DeleteClient(ctx, tenant, id); err != nil {
		return storeError(err, clientRecord(tenant, id))
	}
	r.changed(ctx, tenant)
	return r.audit(ctx, ActionClientDelete, tenant, TargetClient, id, nil)
}

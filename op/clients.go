package op

import (
	"context"
	"errors"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/herald-idp/herald/op/registry"
	"github.com/herald-idp/herald/storage"
)

// This file is Herald's own client service: the token, introspection,
// userinfo and page handlers look clients up here, with the tenant their
// request was resolved to, never through the zitadel adapter (storage.go).

// errNoTenant is a wiring bug: a tenant route always resolves its tenant
// before any handler runs (tenants.go).
var errNoTenant = errors.New("op: no tenant resolved for this request")

// lookupClient returns client id of tenant t (cached, tenantcache.go) as
// the op.Client the library and the grants use, with t's token lifetimes
// as its defaults. An unknown client is storage.ErrNotFound.
func (s *Server) lookupClient(ctx context.Context, t *storage.Tenant, id string) (*client, error) {
	if t == nil {
		return nil, errNoTenant
	}
	c, err := s.caches.client(ctx, t.Name, id)
	if err != nil {
		return nil, err
	}
	if info := requestInfoFromContext(ctx); info != nil {
		info.clientID = c.ID // for the request's span
	}
	return &client{c: c, tenant: t, defaults: tenantLifetimes(s.cfg.Lifetimes, t)}, nil
}

// authenticateClient authenticates a confidential client of t by its
// secret. The stored hash is a SHA-256 of a 256-bit random secret, compared
// in constant time. An unknown client, a public one and a wrong secret are
// the same invalid_client (RFC 6749 §5.2): nothing tells them apart.
func (s *Server) authenticateClient(ctx context.Context, t *storage.Tenant, id, secret string) (*client, error) {
	c, err := s.lookupClient(ctx, t, id)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return nil, storageError(ctx, "client", err)
	}
	if c == nil || c.c.IsPublic() || !registry.VerifyClientSecret(secret, c.c.SecretHash) {
		return nil, oidc.ErrInvalidClient().WithDescription("client authentication failed")
	}
	return c, nil
}

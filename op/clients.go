package op

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"

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

// presentedCredentials is how a request to the token, introspection or
// revocation endpoint authenticated its client: the client ID, the secret
// if one was sent, and the transport it came by (storage.AuthMethodBasic,
// AuthMethodPost or AuthMethodNone).
type presentedCredentials struct {
	clientID, secret, method string
}

// errTwoMethods answers a request that authenticates its client in more
// than one way: RFC 6749 §2.3 says a client "MUST NOT use more than one
// authentication method in each request".
func errTwoMethods() error {
	return oidc.ErrInvalidRequest().WithDescription("client authentication must not use more than one method")
}

// clientCredentials reads how the client authenticated from the request's
// header and form. The library has already taken the ID and secret out of
// a Basic header (and decoded them, RFC 6749 §2.3.1); it refuses a Basic
// header next to client_id plus client_secret in the body, but not next to
// a lone client_secret in the body, which this refuses too.
func clientCredentials(h http.Header, form url.Values, id, secret string) (presentedCredentials, error) {
	_, _, basic := basicAuth(h)
	switch {
	case basic && form.Get("client_secret") != "":
		return presentedCredentials{}, errTwoMethods()
	case basic && secret == "":
		// Basic with an empty password carries no secret: a public client
		// identifying itself, as golang.org/x/oauth2 sends it by default.
		return presentedCredentials{clientID: id, method: storage.AuthMethodNone}, nil
	case basic:
		return presentedCredentials{id, secret, storage.AuthMethodBasic}, nil
	case secret != "":
		return presentedCredentials{id, secret, storage.AuthMethodPost}, nil
	}
	return presentedCredentials{clientID: id, method: storage.AuthMethodNone}, nil
}

func basicAuth(h http.Header) (string, string, bool) {
	r := http.Request{Header: h}
	return r.BasicAuth()
}

// secretMethods are the two transports of one client secret. A client
// registered with either may use either (checklist D2): they carry the
// same secret, and popular relying parties default to client_secret_post
// (openid-client) or client_secret_basic (golang.org/x/oauth2) without
// reading the registration. The registered method stays what discovery of
// the client reports.
var secretMethods = []string{storage.AuthMethodBasic, storage.AuthMethodPost}

// methodAccepted reports whether a client registered for registered may
// authenticate by presented. A public client (none) may send no secret at
// all; a client with a secret must send it by one of secretMethods; any
// other registration (a key-based method such as private_key_jwt, should
// one be added) accepts no secret.
func methodAccepted(registered, presented string) bool {
	switch {
	case registered == storage.AuthMethodNone:
		return presented == storage.AuthMethodNone
	case slices.Contains(secretMethods, registered):
		return slices.Contains(secretMethods, presented)
	}
	return false
}

// authenticateClient authenticates a client of t by what the request
// presented. The stored hash is a SHA-256 of a 256-bit random secret,
// compared in constant time. An unknown client, a method the client may
// not use (a secret from a public client, none from a client with a
// secret) and a wrong secret are the same invalid_client (RFC 6749 §5.2,
// with status 401): nothing tells them apart.
func (s *Server) authenticateClient(ctx context.Context, t *storage.Tenant, cc presentedCredentials) (*client, error) {
	c, err := s.lookupClient(ctx, t, cc.clientID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, invalidClient()
	}
	if err != nil {
		return nil, storageError(ctx, "client", err)
	}
	if !methodAccepted(c.c.AuthMethod, cc.method) {
		return nil, invalidClient()
	}
	if !c.c.IsPublic() && !registry.VerifyClientSecret(cc.secret, c.c.SecretHash) {
		return nil, invalidClient()
	}
	return c, nil
}

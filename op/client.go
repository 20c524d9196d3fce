package op

import (
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/herald-idp/herald/storage"
)

// client adapts a storage.Client to zitadel's op.Client. Herald's own
// authorize endpoint does redirect and scope validation, so the methods the
// library uses are those of the token, introspection, revocation and logout
// endpoints.
type client struct {
	c *storage.Client
	// tenant is the tenant the client was looked up in: the request's, so
	// that the grants need not look it up again.
	tenant   *storage.Tenant
	defaults Lifetimes
}

var _ zop.Client = (*client)(nil)

func (c *client) GetID() string                    { return c.c.ID }
func (c *client) RedirectURIs() []string           { return c.c.RedirectURIs }
func (c *client) PostLogoutRedirectURIs() []string { return c.c.PostLogoutRedirectURIs }

func (c *client) ApplicationType() zop.ApplicationType {
	switch c.c.ApplicationType {
	case storage.AppTypeNative:
		return zop.ApplicationTypeNative
	case storage.AppTypeUserAgent:
		return zop.ApplicationTypeUserAgent
	default:
		return zop.ApplicationTypeWeb
	}
}

func (c *client) AuthMethod() oidc.AuthMethod {
	switch c.c.AuthMethod {
	case storage.AuthMethodNone:
		return oidc.AuthMethodNone
	case storage.AuthMethodPost:
		return oidc.AuthMethodPost
	default:
		return oidc.AuthMethodBasic
	}
}

func (c *client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}

func (c *client) GrantTypes() []oidc.GrantType {
	out := make([]oidc.GrantType, 0, len(c.c.GrantTypes))
	for _, g := range c.c.GrantTypes {
		out = append(out, oidc.GrantType(g))
	}
	return out
}

func (c *client) hasGrant(g oidc.GrantType) bool { return slices.Contains(c.c.GrantTypes, string(g)) }

// LoginURL is unused: Herald's authorize endpoint sends the browser to the
// login page itself.
func (c *client) LoginURL(string) string { return "" }

func (c *client) AccessTokenType() zop.AccessTokenType {
	if c.c.AccessTokenFormat == storage.AccessTokenOpaque {
		return zop.AccessTokenTypeBearer
	}
	return zop.AccessTokenTypeJWT
}

func (c *client) IDTokenLifetime() time.Duration {
	return orDefault(c.c.IDTokenLifetime, c.defaults.IDToken)
}

func (c *client) accessTokenLifetime() time.Duration {
	return orDefault(c.c.AccessTokenLifetime, c.defaults.AccessToken)
}

func (c *client) refreshTokenLifetime() time.Duration {
	return orDefault(c.c.RefreshTokenLifetime, c.defaults.RefreshToken)
}

func (c *client) DevMode() bool { return false }

func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

// IsScopeAllowed reports whether the client may request scope.
func (c *client) IsScopeAllowed(scope string) bool { return scopeAllowed(c.c, scope) }

func (c *client) IDTokenUserinfoClaimsAssertion() bool { return true }
func (c *client) ClockSkew() time.Duration             { return 0 }

func orDefault(v, def time.Duration) time.Duration {
	if v > 0 {
		return v
	}
	return def
}

// standardScopes are the scopes every client may request unless its
// registration narrows them. address and phone are accepted so that a
// relying party asking for them is not refused, but they release nothing:
// users have no such claims (OIDC Core §5.4 lets the provider return fewer
// claims than asked), so discovery does not advertise them
// (advertisedScopes) and the consent page does not list them.
var standardScopes = []string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail, oidc.ScopeOfflineAccess, oidc.ScopeAddress, oidc.ScopePhone}

// advertisedScopes is discovery's scopes_supported: the standard scopes
// that release something.
var advertisedScopes = []string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail, oidc.ScopeOfflineAccess}

func scopeAllowed(c *storage.Client, scope string) bool {
	if len(c.Scopes) == 0 {
		return slices.Contains(standardScopes, scope)
	}
	return slices.Contains(c.Scopes, scope)
}

package registry

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/herald-idp/herald/storage"
)

// Grant types a client may be registered for. Implicit, the resource owner
// password grant and others are deliberately absent (RFC 9700 §2.1.2, §2.4).
const (
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
	GrantClientCredentials = "client_credentials"
)

var allowedGrants = []string{GrantAuthorizationCode, GrantRefreshToken, GrantClientCredentials}

// StandardScopes are the OIDC scopes (Core §5.4 plus offline_access, §11).
// A client with no scope list may request exactly these.
var StandardScopes = []string{"openid", "profile", "email", "offline_access", "address", "phone"}

// scopeTokenPattern is RFC 6749 §3.3's scope-token (printable ASCII without
// space, '"' or '\'), capped in length. Clients may register API scopes
// such as "orders:read" for client_credentials and resource servers.
var scopeTokenPattern = regexp.MustCompile(`^[\x21\x23-\x5B\x5D-\x7E]{1,128}$`)

var clientIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{3,64}$`)

// ClientSpec describes a client to create. Zero values take defaults.
type ClientSpec struct {
	ID   string // 3-64 of [A-Za-z0-9._-]; random when empty
	Name string // defaults to the ID
	// Public clients (SPAs, native apps) hold no secret and must use PKCE;
	// Native marks a public client as an installed app (implies Public).
	Public, Native bool
	// AuthMethod of a confidential client: client_secret_basic (default) or
	// client_secret_post. Public clients: empty or "none".
	AuthMethod                           string
	RedirectURIs, PostLogoutRedirectURIs []string
	CORSOrigins                          []string
	GrantTypes                           []string // default authorization_code, refresh_token
	Scopes                               []string // empty: StandardScopes
	FirstParty                           bool     // skips the consent page
	AccessTokenFormat                    string   // jwt (default) or opaque
	AccessTokenLifetime, IDTokenLifetime time.Duration
	RefreshTokenLifetime                 time.Duration // 0 = server default
}

// CreateClient validates spec and registers the client in tenant. For a
// confidential client it returns the generated secret; only its hash is
// stored, so this is the one time anyone sees it.
func (r *Registry) CreateClient(ctx context.Context, tenant string, spec ClientSpec) (*storage.Client, string, error) {
	c, err := buildClient(spec)
	if err != nil {
		return nil, "", err
	}
	if _, err := r.tenant(ctx, tenant); err != nil {
		return nil, "", err
	}
	if c.ID == "" {
		if c.ID, err = randomHex(16); err != nil {
			return nil, "", fmt.Errorf("generate client ID: %w", err)
		}
		if c.Name == "" {
			c.Name = c.ID
		}
	}
	var secret string
	if !c.IsPublic() {
		if secret, err = NewClientSecret(); err != nil {
			return nil, "", err
		}
		c.SecretHash = HashClientSecret(secret)
	}
	c.TenantID = tenant
	c.CreatedAt = r.now()
	c.UpdatedAt = c.CreatedAt
	if err := r.Store.Clients().CreateClient(ctx, c); err != nil {
		return nil, "", storeError(err, clientRecord(tenant, c.ID))
	}
	r.changed(ctx, tenant)
	if err := r.audit(ctx, ActionClientCreate, tenant, TargetClient, c.ID, map[string]any{
		"public": c.IsPublic(), "grant_types": c.GrantTypes, "scopes": c.Scopes, "redirect_uris": c.RedirectURIs,
	}); err != nil {
		return nil, "", err
	}
	return c, secret, nil
}

// RotateClientSecret gives a confidential client a new secret and returns it.
// The old secret stops working at once.
func (r *Registry) RotateClientSecret(ctx context.Context, tenant, clientID string) (string, error) {
	if _, err := r.tenant(ctx, tenant); err != nil {
		return "", err
	}
	secret, err := NewClientSecret()
	if err != nil {
		return "", err
	}
	now := r.now()
	_, err = r.Store.Clients().UpdateClient(ctx, tenant, clientID, func(c *storage.Client) error {
		if c.IsPublic() {
			return &ValidationError{Field: "id", Message: fmt.Sprintf("client %q is public and has no secret", clientID)}
		}
		c.SecretHash = HashClientSecret(secret)
		c.UpdatedAt = now
		return nil
	})
	if IsValidationError(err) {
		return "", err
	}
	if err != nil {
		return "", storeError(err, clientRecord(tenant, clientID))
	}
	r.changed(ctx, tenant)
	if err := r.audit(ctx, ActionClientRotateSecret, tenant, TargetClient, clientID, nil); err != nil {
		return "", err
	}
	return secret, nil
}

// Access-token lifetime caps, also applied when tokens are minted.
const (
	MaxAccessTokenLifetime      = 24 * time.Hour
	MaxAdminAccessTokenLifetime = time.Hour
)

// buildClient validates spec and turns it into a client record (without
// tenant, secret or timestamps). All problems are reported at once.
func buildClient(spec ClientSpec) (*storage.Client, error) {
	var p problems
	if spec.ID != "" && !clientIDPattern.MatchString(spec.ID) {
		p.add("id", "must be 3-64 characters of A-Z, a-z, 0-9, '.', '_' or '-'")
	}
	checkLabel(&p, "name", spec.Name)

	public := spec.Public || spec.Native
	c := &storage.Client{
		ID:                spec.ID,
		Name:              spec.Name,
		FirstParty:        spec.FirstParty,
		AccessTokenFormat: spec.AccessTokenFormat,
	}
	if c.Name == "" {
		c.Name = spec.ID
	}
	switch {
	case public:
		c.AuthMethod = storage.AuthMethodNone
		c.ApplicationType = storage.AppTypeUserAgent
		if spec.Native {
			c.ApplicationType = storage.AppTypeNative
		}
		if spec.AuthMethod != "" && spec.AuthMethod != storage.AuthMethodNone {
			p.add("auth_method", "a public client has no secret; its auth method is %q, not %q", storage.AuthMethodNone, spec.AuthMethod)
		}
	default:
		c.ApplicationType = storage.AppTypeWeb
		switch spec.AuthMethod {
		case "", storage.AuthMethodBasic:
			c.AuthMethod = storage.AuthMethodBasic
		case storage.AuthMethodPost:
			c.AuthMethod = storage.AuthMethodPost
		case storage.AuthMethodNone:
			p.add("auth_method", "%q is for public clients; register the client as public instead", storage.AuthMethodNone)
		default:
			p.add("auth_method", "must be %s or %s, not %q", storage.AuthMethodBasic, storage.AuthMethodPost, spec.AuthMethod)
		}
	}

	c.GrantTypes = checkGrants(&p, spec.GrantTypes, public, len(spec.RedirectURIs) > 0)
	c.RedirectURIs = checkURIs(&p, "redirect_uris", spec.RedirectURIs, spec.Native)
	c.PostLogoutRedirectURIs = checkURIs(&p, "post_logout_redirect_uris", spec.PostLogoutRedirectURIs, spec.Native)
	c.CORSOrigins = dedupe(spec.CORSOrigins)
	for _, o := range c.CORSOrigins {
		if msg := corsOriginProblem(o); msg != "" {
			p.add("cors_origins", "%s", msg)
		}
	}
	c.Scopes = dedupe(spec.Scopes)
	for _, s := range c.Scopes {
		if !scopeTokenPattern.MatchString(s) {
			p.add("scopes", "scope %q is not a valid scope token (RFC 6749 §3.3)", s)
		}
	}

	switch spec.AccessTokenFormat {
	case "":
		c.AccessTokenFormat = storage.AccessTokenJWT
	case storage.AccessTokenJWT, storage.AccessTokenOpaque:
	default:
		p.add("access_token_format", "must be jwt or opaque, not %q", spec.AccessTokenFormat)
	}
	for _, l := range []struct {
		field string
		d     time.Duration
		dst   *time.Duration
	}{
		{"access_token_lifetime", spec.AccessTokenLifetime, &c.AccessTokenLifetime},
		{"id_token_lifetime", spec.IDTokenLifetime, &c.IDTokenLifetime},
		{"refresh_token_lifetime", spec.RefreshTokenLifetime, &c.RefreshTokenLifetime},
	} {
		if l.d < 0 {
			p.add(l.field, "must not be negative (0 means the server default)")
		}
		*l.dst = l.d
	}
	// Lifetime caps (docs/tokens.md): a JWT access token verified offline
	// cannot be recalled from a resource server, so it must be short.
	switch {
	case slices.Contains(c.Scopes, AdminScope) && c.AccessTokenLifetime > MaxAdminAccessTokenLifetime:
		p.add("access_token_lifetime", "must be at most %s for a client with the %s scope", MaxAdminAccessTokenLifetime, AdminScope)
	case c.AccessTokenLifetime > MaxAccessTokenLifetime:
		p.add("access_token_lifetime", "must be at most %s", MaxAccessTokenLifetime)
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	return c, nil
}

// checkGrants applies the grant-type rules and returns the effective list.
func checkGrants(p *problems, grants []string, public, hasRedirect bool) []string {
	grants = dedupe(grants)
	if len(grants) == 0 {
		grants = []string{GrantAuthorizationCode, GrantRefreshToken}
	}
	ok := true
	for _, g := range grants {
		if !slices.Contains(allowedGrants, g) {
			p.add("grant_types", "unknown grant type %q (allowed: authorization_code, refresh_token, client_credentials)", g)
			ok = false
		}
	}
	if !ok {
		return grants
	}
	if public && slices.Contains(grants, GrantClientCredentials) {
		// A public client cannot authenticate, so it cannot act for itself
		// (RFC 6749 §4.4).
		p.add("grant_types", "client_credentials needs a confidential client")
	}
	if slices.Contains(grants, GrantRefreshToken) && !slices.Contains(grants, GrantAuthorizationCode) {
		p.add("grant_types", "refresh_token needs authorization_code (refresh tokens are issued only with codes)")
	}
	if slices.Contains(grants, GrantAuthorizationCode) && !hasRedirect {
		p.add("redirect_uris", "authorization_code needs at least one redirect URI")
	}
	return grants
}

// checkURIs validates redirect-style URIs and returns them without
// duplicates.
func checkURIs(p *problems, field string, uris []string, native bool) []string {
	uris = dedupe(uris)
	for _, u := range uris {
		if msg := redirectURIProblem(u, native); msg != "" {
			p.add(field, "%s", msg)
		}
	}
	return uris
}

// dedupe returns s without repeated values, in first-seen order (nil for
// an empty list).
func dedupe(s []string) []string {
	var out []string
	for _, v := range s {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// IsValidationError reports whether err is (or contains) a ValidationError.
func IsValidationError(err error) bool {
	var ve *ValidationError
	return errors.As(err, &ve)
}

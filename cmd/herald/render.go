package main

import (
	"slices"
	"strings"
	"time"

	"github.com/herald-idp/herald/op/registry"
	"github.com/herald-idp/herald/storage"
)

// The JSON the data commands print: the shapes of the admin API
// (op/admin, docs/admin-api.md), so that scripts can switch between the two.
// Lifetimes are in seconds there and here (0: the default), whatever the
// flags that set them take (Go durations). op/admin keeps its renderers
// unexported, so they are mirrored, not shared.

type tenantJSON struct {
	Name        string       `json:"name"`
	DisplayName string       `json:"display_name"`
	Issuer      string       `json:"issuer"`
	SigningAlg  string       `json:"signing_alg"`
	Hostnames   []string     `json:"hostnames"`
	Settings    settingsJSON `json:"settings"`
	Disabled    bool         `json:"disabled"`
	CreatedAt   time.Time    `json:"created_at"`
	UpdatedAt   time.Time    `json:"updated_at"`
}

type settingsJSON struct {
	LogoURL                  string      `json:"logo_url"`
	AccentColor              string      `json:"accent_color"`
	AccessTokenLifetime      int64       `json:"access_token_lifetime"`
	IDTokenLifetime          int64       `json:"id_token_lifetime"`
	RefreshTokenLifetime     int64       `json:"refresh_token_lifetime"`
	SessionIdleTimeout       int64       `json:"session_idle_timeout"`
	SessionAbsoluteLifetime  int64       `json:"session_absolute_lifetime"`
	AllowedSigningAlgorithms []string    `json:"allowed_signing_algorithms"`
	PasswordMinLength        int         `json:"password_min_length"`
	CustomClaims             []claimJSON `json:"custom_claims"`
}

type claimJSON struct {
	Claim     string   `json:"claim"`
	Attribute string   `json:"attribute"`
	Scope     string   `json:"scope,omitempty"`
	Targets   []string `json:"targets,omitempty"`
}

func secondsOf(d time.Duration) int64 { return int64(d / time.Second) }

func renderTenant(publicURL string, t *storage.Tenant) tenantJSON {
	s := t.Settings
	claims := make([]claimJSON, 0, len(s.CustomClaims))
	for _, c := range s.CustomClaims {
		claims = append(claims, claimJSON(c))
	}
	return tenantJSON{
		Name: t.Name, DisplayName: t.DisplayName, Issuer: registry.IssuerURL(publicURL, t.Name),
		SigningAlg: t.SigningAlgorithm, Hostnames: nonNil(t.Hostnames), Disabled: t.Disabled,
		CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt,
		Settings: settingsJSON{
			LogoURL: s.LogoURL, AccentColor: s.AccentColor,
			AccessTokenLifetime:      secondsOf(s.AccessTokenLifetime),
			IDTokenLifetime:          secondsOf(s.IDTokenLifetime),
			RefreshTokenLifetime:     secondsOf(s.RefreshTokenLifetime),
			SessionIdleTimeout:       secondsOf(s.SessionIdleTimeout),
			SessionAbsoluteLifetime:  secondsOf(s.SessionAbsoluteLifetime),
			AllowedSigningAlgorithms: nonNil(s.AllowedSigningAlgorithms),
			PasswordMinLength:        s.PasswordMinLength,
			CustomClaims:             claims,
		},
	}
}

// clientJSON is a client in RFC 7591 §3.2.1 form plus Herald's metadata and
// the tenant's issuer. ClientSecret is set only right after creation or
// rotation: only its hash is stored.
type clientJSON struct {
	ClientID                string    `json:"client_id"`
	ClientSecret            string    `json:"client_secret,omitempty"`
	ClientSecretExpiresAt   *int64    `json:"client_secret_expires_at,omitempty"`
	ClientIDIssuedAt        int64     `json:"client_id_issued_at"`
	ClientName              string    `json:"client_name"`
	RedirectURIs            []string  `json:"redirect_uris"`
	PostLogoutRedirectURIs  []string  `json:"post_logout_redirect_uris"`
	GrantTypes              []string  `json:"grant_types"`
	ResponseTypes           []string  `json:"response_types"`
	TokenEndpointAuthMethod string    `json:"token_endpoint_auth_method"`
	ApplicationType         string    `json:"application_type"`
	Scope                   string    `json:"scope,omitempty"`
	CORSOrigins             []string  `json:"cors_origins"`
	FirstParty              bool      `json:"first_party"`
	AccessTokenFormat       string    `json:"access_token_format"`
	AccessTokenLifetime     int64     `json:"access_token_lifetime"`
	IDTokenLifetime         int64     `json:"id_token_lifetime"`
	RefreshTokenLifetime    int64     `json:"refresh_token_lifetime"`
	Tenant                  string    `json:"tenant"`
	Issuer                  string    `json:"issuer"`
	UpdatedAt               time.Time `json:"updated_at"`
}

func renderClient(publicURL string, c *storage.Client, secret string) clientJSON {
	out := clientJSON{
		ClientID: c.ID, ClientIDIssuedAt: c.CreatedAt.Unix(), ClientName: c.Name,
		RedirectURIs: nonNil(c.RedirectURIs), PostLogoutRedirectURIs: nonNil(c.PostLogoutRedirectURIs),
		GrantTypes: nonNil(c.GrantTypes), ResponseTypes: []string{},
		TokenEndpointAuthMethod: c.AuthMethod, ApplicationType: c.ApplicationType,
		Scope: strings.Join(c.Scopes, " "), CORSOrigins: nonNil(c.CORSOrigins), FirstParty: c.FirstParty,
		AccessTokenFormat:    c.AccessTokenFormat,
		AccessTokenLifetime:  secondsOf(c.AccessTokenLifetime),
		IDTokenLifetime:      secondsOf(c.IDTokenLifetime),
		RefreshTokenLifetime: secondsOf(c.RefreshTokenLifetime),
		Tenant:               c.TenantID, Issuer: registry.IssuerURL(publicURL, c.TenantID),
		UpdatedAt: c.UpdatedAt,
	}
	if slices.Contains(c.GrantTypes, registry.GrantAuthorizationCode) {
		out.ResponseTypes = []string{"code"}
	}
	if secret != "" {
		// RFC 7591 §3.2.1: 0 means the secret does not expire.
		never := int64(0)
		out.ClientSecret, out.ClientSecretExpiresAt = secret, &never
	}
	return out
}

// userJSON is a user: never the password hash.
type userJSON struct {
	ID            string         `json:"id"`
	Tenant        string         `json:"tenant"`
	Username      string         `json:"username"`
	Email         string         `json:"email"`
	EmailVerified bool           `json:"email_verified"`
	Name          string         `json:"name"`
	GivenName     string         `json:"given_name"`
	FamilyName    string         `json:"family_name"`
	Attributes    map[string]any `json:"attributes"`
	Disabled      bool           `json:"disabled"`
	CreatedAt     time.Time      `json:"created_at"`
	UpdatedAt     time.Time      `json:"updated_at"`
}

func renderUser(u *storage.User) userJSON {
	attrs := u.Attributes
	if attrs == nil {
		attrs = map[string]any{}
	}
	return userJSON{
		ID: u.ID, Tenant: u.TenantID, Username: u.Username, Email: u.Email, EmailVerified: u.EmailVerified,
		Name: u.Name, GivenName: u.GivenName, FamilyName: u.FamilyName, Attributes: attrs,
		Disabled: u.Disabled, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt,
	}
}

type keyJSON struct {
	KeyID     string    `json:"kid"`
	Algorithm string    `json:"alg"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
}

type auditEventJSON struct {
	ID           string         `json:"id"`
	Time         time.Time      `json:"time"`
	ActorTenant  string         `json:"actor_tenant"`
	Actor        string         `json:"actor"`
	Action       string         `json:"action"`
	TargetTenant string         `json:"target_tenant"`
	TargetType   string         `json:"target_type"`
	TargetID     string         `json:"target_id"`
	Details      map[string]any `json:"details,omitempty"`
}

// deletedJSON is what a delete command prints: the API answers 204 with no
// body, but a script reading stdout deserves a line saying what went.
type deletedJSON struct {
	Deleted  bool   `json:"deleted"`
	Tenant   string `json:"tenant"`
	ClientID string `json:"client_id,omitempty"`
	UserID   string `json:"id,omitempty"`
	Username string `json:"username,omitempty"`
}

// nonNil renders a missing list as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

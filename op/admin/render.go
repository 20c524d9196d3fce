package admin

import (
	"slices"
	"strings"
	"time"

	"github.com/herald-idp/herald/op/registry"
	"github.com/herald-idp/herald/storage"
)

// The admin API's wire format: the JSON it answers with. The herald CLI's
// data commands print the same shapes through these types and renderers, so
// that scripts can switch between the API and the command line; docs/
// openapi.yaml documents them (TestOpenAPISchemasMatchTypes keeps it in
// step). Lifetimes are in seconds, 0 meaning the default; a missing list is
// [] rather than null.

// TenantJSON is a tenant as the admin API shows it, shared with the CLI.
type TenantJSON struct {
	Name        string       `json:"name"`
	DisplayName string       `json:"display_name"`
	Issuer      string       `json:"issuer"`
	SigningAlg  string       `json:"signing_alg"`
	Hostnames   []string     `json:"hostnames"`
	Settings    SettingsJSON `json:"settings"`
	Disabled    bool         `json:"disabled"`
	CreatedAt   time.Time    `json:"created_at"`
	UpdatedAt   time.Time    `json:"updated_at"`
}

// SettingsJSON is a tenant's settings in the admin API's wire format.
// Lifetimes are in seconds; 0 means the server default.
type SettingsJSON struct {
	LogoURL                  string            `json:"logo_url"`
	AccentColor              string            `json:"accent_color"`
	AccessTokenLifetime      int64             `json:"access_token_lifetime"`
	IDTokenLifetime          int64             `json:"id_token_lifetime"`
	RefreshTokenLifetime     int64             `json:"refresh_token_lifetime"`
	SessionIdleTimeout       int64             `json:"session_idle_timeout"`
	SessionAbsoluteLifetime  int64             `json:"session_absolute_lifetime"`
	AllowedSigningAlgorithms []string          `json:"allowed_signing_algorithms"`
	PasswordMinLength        int               `json:"password_min_length"`
	PasswordMinScore         int               `json:"password_min_score"`
	LoginThrottle            LoginThrottleJSON `json:"login_throttle"`
	CustomClaims             []ClaimJSON       `json:"custom_claims"`
	ConnectorsOnly           bool              `json:"connectors_only"`
	MFA                      MFASettingsJSON   `json:"mfa"`
}

// MFASettingsJSON is a tenant's second-factor policy (docs/mfa.md):
// policy is off, optional (the default), required or clients.
type MFASettingsJSON struct {
	Policy  string   `json:"policy"`
	Clients []string `json:"clients"`
}

// LoginThrottleJSON is storage.LoginThrottleSettings on the wire; delays
// in milliseconds, 0 = the default.
type LoginThrottleJSON struct {
	AddressFree        int   `json:"address_free"`
	AccountFree        int   `json:"account_free"`
	AccountAddressFree int   `json:"account_address_free"`
	BaseDelayMS        int64 `json:"base_delay_ms"`
	MaxDelayMS         int64 `json:"max_delay_ms"`
	PendingPerAddress  int   `json:"pending_per_address"`
}

func (j LoginThrottleJSON) settings() storage.LoginThrottleSettings {
	return storage.LoginThrottleSettings{
		AddressFree: j.AddressFree, AccountFree: j.AccountFree, AccountAddressFree: j.AccountAddressFree,
		BaseDelay: time.Duration(j.BaseDelayMS) * time.Millisecond, MaxDelay: time.Duration(j.MaxDelayMS) * time.Millisecond,
		PendingPerAddress: j.PendingPerAddress,
	}
}

func renderLoginThrottle(t storage.LoginThrottleSettings) LoginThrottleJSON {
	return LoginThrottleJSON{
		AddressFree: t.AddressFree, AccountFree: t.AccountFree, AccountAddressFree: t.AccountAddressFree,
		BaseDelayMS: t.BaseDelay.Milliseconds(), MaxDelayMS: t.MaxDelay.Milliseconds(),
		PendingPerAddress: t.PendingPerAddress,
	}
}

// ClaimJSON is a custom claim mapping in the admin API's wire format, both
// in answers and in requests.
type ClaimJSON struct {
	Claim     string   `json:"claim"`
	Attribute string   `json:"attribute"`
	Scope     string   `json:"scope,omitempty"`
	Targets   []string `json:"targets,omitempty"`
}

// RenderTenant shows t as the admin API does; publicURL is the server's
// public URL, from which t's path issuer is derived.
func RenderTenant(publicURL string, t *storage.Tenant) TenantJSON {
	s := t.Settings
	claims := make([]ClaimJSON, 0, len(s.CustomClaims))
	for _, c := range s.CustomClaims {
		claims = append(claims, ClaimJSON(c))
	}
	return TenantJSON{
		Name: t.Name, DisplayName: t.DisplayName, Issuer: registry.IssuerURL(publicURL, t.Name),
		SigningAlg: t.SigningAlgorithm, Hostnames: nonNil(t.Hostnames), Disabled: t.Disabled,
		CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt,
		Settings: SettingsJSON{
			LogoURL: s.LogoURL, AccentColor: s.AccentColor,
			AccessTokenLifetime:      secondsOf(s.AccessTokenLifetime),
			IDTokenLifetime:          secondsOf(s.IDTokenLifetime),
			RefreshTokenLifetime:     secondsOf(s.RefreshTokenLifetime),
			SessionIdleTimeout:       secondsOf(s.SessionIdleTimeout),
			SessionAbsoluteLifetime:  secondsOf(s.SessionAbsoluteLifetime),
			AllowedSigningAlgorithms: nonNil(s.AllowedSigningAlgorithms),
			PasswordMinLength:        s.PasswordMinLength,
			PasswordMinScore:         s.PasswordMinScore,
			LoginThrottle:            renderLoginThrottle(s.LoginThrottle),
			CustomClaims:             claims,
			ConnectorsOnly:           s.ConnectorsOnly,
			MFA:                      MFASettingsJSON{Policy: orOptional(s.MFA.Policy), Clients: nonNil(s.MFA.Clients)},
		},
	}
}

// ClientJSON is a client as the admin API shows it, shared with the CLI: RFC
// 7591 §3.2.1 form plus Herald's metadata. ClientSecret is set only right
// after creation or rotation: only its hash is stored.
type ClientJSON struct {
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
	UpdatedAt               time.Time `json:"updated_at"`
}

// RenderClient shows c as the admin API does; secret is the plain secret
// just generated, or "".
func RenderClient(c *storage.Client, secret string) ClientJSON {
	out := ClientJSON{
		ClientID: c.ID, ClientIDIssuedAt: c.CreatedAt.Unix(), ClientName: c.Name,
		RedirectURIs: nonNil(c.RedirectURIs), PostLogoutRedirectURIs: nonNil(c.PostLogoutRedirectURIs),
		GrantTypes: nonNil(c.GrantTypes), ResponseTypes: []string{},
		TokenEndpointAuthMethod: c.AuthMethod, ApplicationType: c.ApplicationType,
		Scope: strings.Join(c.Scopes, " "), CORSOrigins: nonNil(c.CORSOrigins), FirstParty: c.FirstParty,
		AccessTokenFormat:    c.AccessTokenFormat,
		AccessTokenLifetime:  secondsOf(c.AccessTokenLifetime),
		IDTokenLifetime:      secondsOf(c.IDTokenLifetime),
		RefreshTokenLifetime: secondsOf(c.RefreshTokenLifetime),
		Tenant:               c.TenantID, UpdatedAt: c.UpdatedAt,
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

// UserJSON is a user as the admin API shows it, shared with the CLI: never
// the password hash.
type UserJSON struct {
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

// RenderUser shows u as the admin API does; u.PasswordHash is left out
// whatever it holds.
func RenderUser(u *storage.User) UserJSON {
	attrs := u.Attributes
	if attrs == nil {
		attrs = map[string]any{}
	}
	return UserJSON{
		ID: u.ID, Tenant: u.TenantID, Username: u.Username, Email: u.Email, EmailVerified: u.EmailVerified,
		Name: u.Name, GivenName: u.GivenName, FamilyName: u.FamilyName, Attributes: attrs,
		Disabled: u.Disabled, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt,
	}
}

// KeyJSON describes a signing key as the admin API shows it, shared with the
// CLI: the public keys are in the tenant's JWKS, the private ones never
// leave Herald.
type KeyJSON struct {
	KeyID     string    `json:"kid"`
	Algorithm string    `json:"alg"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
}

// RenderKey shows k as the admin API does.
func RenderKey(k registry.KeyInfo) KeyJSON {
	return KeyJSON{KeyID: k.ID, Algorithm: k.Algorithm, Status: k.Status, CreatedAt: k.CreatedAt}
}

// AuditEventJSON is an audit event as the admin API shows it, shared with
// the CLI.
type AuditEventJSON struct {
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

// RenderAuditEvent shows e as the admin API does.
func RenderAuditEvent(e *storage.AuditEvent) AuditEventJSON {
	return AuditEventJSON{
		ID: e.ID, Time: e.Time, ActorTenant: e.ActorTenant, Actor: e.Actor, Action: e.Action,
		TargetTenant: e.TargetTenant, TargetType: e.TargetType, TargetID: e.TargetID, Details: e.Details,
	}
}

// RenderList is the admin API's list answer, {"<key>":[...]}, shared with the
// CLI: every item rendered, in order; [] (never null) when there are none.
func RenderList[T, J any](key string, items []T, render func(T) J) map[string][]J {
	out := make([]J, 0, len(items))
	for _, it := range items {
		out = append(out, render(it))
	}
	return map[string][]J{key: out}
}

func secondsOf(d time.Duration) int64 { return int64(d / time.Second) }

// nonNil renders a missing list as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// orOptional shows the default second-factor policy by its name.
func orOptional(policy string) string {
	if policy == "" {
		return storage.MFAOptional
	}
	return policy
}

package storage

import (
	"fmt"
	"time"
	"unicode/utf8"
)

// Tenant is one issuer: its own clients, users, keys and sessions.
type Tenant struct {
	Name        string // [a-z0-9-], 1-63 chars; primary key
	DisplayName string
	// SigningAlgorithm is the JWS alg the tenant signs tokens with: RS256
	// (default), ES256 or EdDSA. An RS256 key is always published as well.
	SigningAlgorithm string
	// Hostnames the tenant is also served at, as the issuer
	// https://{hostname} (lower-case, no port). Unique across tenants.
	Hostnames []string
	Settings  TenantSettings
	Disabled  bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// TenantSettings are a tenant's own policies; zero values mean the server
// defaults. Stored as one document: adding a setting needs no migration.
type TenantSettings struct {
	LogoURL     string `json:"logo_url,omitempty"`
	AccentColor string `json:"accent_color,omitempty"` // #rrggbb

	AccessTokenLifetime     time.Duration `json:"access_token_lifetime,omitempty"`
	IDTokenLifetime         time.Duration `json:"id_token_lifetime,omitempty"`
	RefreshTokenLifetime    time.Duration `json:"refresh_token_lifetime,omitempty"`
	SessionIdleTimeout      time.Duration `json:"session_idle_timeout,omitempty"`
	SessionAbsoluteLifetime time.Duration `json:"session_absolute_lifetime,omitempty"`

	// AllowedSigningAlgorithms limits SigningAlgorithm; empty allows all.
	AllowedSigningAlgorithms []string `json:"allowed_signing_algorithms,omitempty"`
	// PasswordMinLength is the minimum password length in characters
	// (default 12); common passwords are always refused.
	PasswordMinLength int `json:"password_min_length,omitempty"`
	// PasswordMinScore is the lowest zxcvbn strength score (1-4) a new
	// password must reach; 0 means the default, 3.
	PasswordMinScore int `json:"password_min_score,omitempty"`
	// LoginThrottle tunes the login back-off; zero fields are defaults.
	LoginThrottle LoginThrottleSettings `json:"login_throttle,omitzero"`

	// CustomClaims map user attributes into tokens.
	CustomClaims []ClaimMapping `json:"custom_claims,omitempty"`

	// ConnectorsOnly shows only the connector buttons on the login page
	// and refuses password logins, while the tenant has an enabled
	// connector (docs/federation.md).
	ConnectorsOnly bool `json:"connectors_only,omitempty"`
	// MFA is the second-factor policy (docs/mfa.md).
	MFA MFASettings `json:"mfa,omitzero"`
}

// Second-factor policies (MFASettings.Policy).
const (
	// MFAOff: no second factor is asked for or can be set up.
	MFAOff = "off"
	// MFAOptional (the default, also ""): users who set up TOTP are asked
	// for it; acr_values can demand it.
	MFAOptional = "optional"
	// MFARequired: every sign-in needs a second factor; users without one
	// set it up at their next sign-in.
	MFARequired = "required"
	// MFARequiredForClients: as MFARequired for sign-ins to the clients in
	// MFASettings.Clients, as MFAOptional for the others.
	MFARequiredForClients = "clients"
)

// MFASettings is a tenant's second-factor policy.
type MFASettings struct {
	Policy  string   `json:"policy,omitempty"`  // MFAOff, MFAOptional (""), MFARequired, MFARequiredForClients
	Clients []string `json:"clients,omitempty"` // client IDs, for MFARequiredForClients
}

// LoginThrottleSettings tune a tenant's login throttle (docs/security.md,
// "Login throttling"); zero fields take the defaults.
type LoginThrottleSettings struct {
	// Attempts that go through without delay per source address, per
	// account and per account from one address.
	AddressFree        int `json:"address_free,omitempty"`
	AccountFree        int `json:"account_free,omitempty"`
	AccountAddressFree int `json:"account_address_free,omitempty"`
	// BaseDelay is the first delay, doubled with every further attempt up
	// to MaxDelay.
	BaseDelay time.Duration `json:"base_delay,omitempty"`
	MaxDelay  time.Duration `json:"max_delay,omitempty"`
	// PendingPerAddress caps the authorization requests one source address
	// may start per authorization-request lifetime.
	PendingPerAddress int `json:"pending_per_address,omitempty"`
}

// ClaimMapping puts the user attribute Attribute into tokens as the claim
// Claim whenever Scope was granted ("" = always).
type ClaimMapping struct {
	Claim     string `json:"claim"`
	Attribute string `json:"attribute"`
	Scope     string `json:"scope,omitempty"`
	// Where the claim goes: "id_token", "access_token", "userinfo"; empty
	// means all three.
	Targets []string `json:"targets,omitempty"`
}

// Client authentication methods (RFC 7591 token_endpoint_auth_method).
const (
	AuthMethodBasic = "client_secret_basic"
	AuthMethodPost  = "client_secret_post"
	AuthMethodNone  = "none" // public client: PKCE instead of a secret
)

// Access token formats.
const (
	AccessTokenJWT    = "jwt"    // RFC 9068 at+jwt, verifiable offline through JWKS
	AccessTokenOpaque = "opaque" // 256-bit random reference, stored hashed, checked by introspection
)

// Application types (OIDC Dynamic Registration application_type plus SPA).
const (
	AppTypeWeb       = "web"
	AppTypeNative    = "native"
	AppTypeUserAgent = "user_agent"
)

// Client is a relying party registered in a tenant.
type Client struct {
	TenantID string
	ID       string
	// UID identifies this registration of the ID: the store sets a random
	// one at creation when it is empty. Grants remember it, so that a client
	// deleted and registered again under the same ID inherits nothing.
	UID  string
	Name string
	// SecretHash is the hex SHA-256 of the client secret; empty for public
	// clients. Herald generates secrets with 256 bits of entropy, so a fast
	// hash is enough and the token endpoint stays fast.
	SecretHash             string
	AuthMethod             string // AuthMethodBasic, AuthMethodPost or AuthMethodNone
	ApplicationType        string // AppTypeWeb, AppTypeNative, AppTypeUserAgent
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	CORSOrigins            []string
	GrantTypes             []string // authorization_code, refresh_token, client_credentials
	// Scopes the client may request; empty means the standard OIDC scopes.
	Scopes            []string
	FirstParty        bool   // first-party clients skip the consent page
	AccessTokenFormat string // AccessTokenJWT (default) or AccessTokenOpaque
	// Lifetimes; zero means the server default.
	AccessTokenLifetime  time.Duration
	IDTokenLifetime      time.Duration
	RefreshTokenLifetime time.Duration
	CreatedAt            time.Time
	UpdatedAt            time.Time
}

// IsPublic reports whether the client authenticates with PKCE only.
func (c *Client) IsPublic() bool { return c.AuthMethod == AuthMethodNone }

// User is an end user of a tenant. ID is the stable OIDC subject.
type User struct {
	TenantID      string
	ID            string
	Username      string
	Email         string
	EmailVerified bool
	Name          string
	GivenName     string
	FamilyName    string
	// PasswordHash is a PHC string: $argon2id$... or a bcrypt $2a$/$2b$ hash
	// of an imported user (rehashed to argon2id at the next login).
	PasswordHash string
	// Attributes are free-form (JSON) values a tenant may map into tokens
	// as custom claims: tenant_id, plan_level, groups, ...
	Attributes map[string]any
	Disabled   bool
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Key states, in lifecycle order (see docs/keys.md). A key is created as
// KeyNext, promoted to KeyActive by a rotation, retired by the next rotation
// and deleted once every token it signed has expired. KeyRevoked takes a key
// out of service at once (compromise): never published, never signs.
const (
	KeyNext    = "next"    // published, not yet signing (pre-publication)
	KeyActive  = "active"  // signs new tokens and is published
	KeyRetired = "retired" // published only, to verify tokens it signed
	KeyRevoked = "revoked" // neither published nor signing; kept for the record
)

// SigningKey is a tenant's private signing key.
type SigningKey struct {
	TenantID  string
	ID        string // the JWS kid
	Algorithm string // RS256, ES256, EdDSA
	// PrivateKey is the PKCS#8 DER of the private key, sealed by the keys
	// package (AEAD with the configured key-encryption key) when one is set.
	PrivateKey []byte
	Status     string // KeyNext, KeyActive, KeyRetired or KeyRevoked
	// CreatedAt is when the key was created and first published (every key
	// is published from creation, as next or active).
	CreatedAt time.Time
	// ActivatedAt is when the key was promoted to active; zero if never.
	ActivatedAt time.Time
	// RetiredAt is when the key stopped signing (retired or revoked); zero
	// while it is next or active.
	RetiredAt time.Time
}

// KeySetChange is what a storage.Keys UpdateKeySet closure asks to write.
type KeySetChange struct {
	Create []*SigningKey // new keys (ErrAlreadyExists if a kid is taken)
	Update []*SigningKey // changed keys; tenant, kid and algorithm must not change
	Delete []string      // kids to delete
}

// Check refuses a change that would leave its tenant and algorithm, update
// or delete a key that is not in current, or store an empty private key.
// Backends call it before writing.
func (c *KeySetChange) Check(tenant, alg string, current []*SigningKey) error {
	known := make(map[string]bool, len(current))
	for _, k := range current {
		known[k.ID] = true
	}
	for i, k := range append(append([]*SigningKey(nil), c.Create...), c.Update...) {
		if k == nil || k.TenantID != tenant || k.Algorithm != alg || k.ID == "" {
			return fmt.Errorf("tenant %q: %s key set change: key %d is outside the set or has no kid", tenant, alg, i)
		}
		if len(k.PrivateKey) == 0 {
			return fmt.Errorf("tenant %q: signing key %q: private key must not be empty", tenant, k.ID)
		}
		if i >= len(c.Create) && !known[k.ID] {
			return fmt.Errorf("tenant %q: signing key %q: %w", tenant, k.ID, ErrNotFound)
		}
	}
	for _, id := range c.Delete {
		if !known[id] {
			return fmt.Errorf("tenant %q: signing key %q: %w", tenant, id, ErrNotFound)
		}
	}
	return nil
}

// AuthRequest is an authorization request waiting for login and consent.
type AuthRequest struct {
	TenantID            string
	ID                  string
	ClientID            string
	RedirectURI         string
	Scopes              []string
	State               string
	Nonce               string
	ResponseType        string
	ResponseMode        string
	CodeChallenge       string
	CodeChallengeMethod string
	Prompt              []string
	// MaxAge is the max_age parameter in seconds; nil when absent.
	MaxAge    *int64
	LoginHint string
	// HintSubject is the sub of a valid id_token_hint, if one was sent.
	HintSubject string
	// RequiredACR is the authentication context class the request asked
	// for through acr_values, when Herald knows it ("" for none): the
	// multi-factor class makes login ask for the second factor even within
	// a password-only session (docs/mfa.md).
	RequiredACR string

	// Set once the user has authenticated.
	UserID    string
	SessionID string
	AuthTime  time.Time
	AMR       []string

	CreatedAt time.Time
	ExpiresAt time.Time
}

// AuthCode is an issued authorization code with everything needed to mint
// tokens from it. It is stored under the hex SHA-256 of the code.
type AuthCode struct {
	TenantID string
	CodeHash string
	GrantID  string // shared by every token minted from this code
	// Issuer is the issuer URL the code was issued at; it is redeemed there
	// only.
	Issuer              string
	ClientID            string
	RedirectURI         string
	UserID              string
	SessionID           string
	Scopes              []string
	Nonce               string
	CodeChallenge       string
	CodeChallengeMethod string
	AuthTime            time.Time
	AMR                 []string
	CreatedAt           time.Time
	ExpiresAt           time.Time
	UsedAt              *time.Time
}

// Session is an SSO session, stored under the hex SHA-256 of its cookie value.
type Session struct {
	TenantID          string
	ID                string
	UserID            string
	AuthTime          time.Time
	AMR               []string
	CreatedAt         time.Time
	IdleExpiresAt     time.Time
	AbsoluteExpiresAt time.Time
	// UserAgent is a short label of the browser and system the session was
	// started from ("Firefox on Linux"), shown on the account page; never
	// the raw User-Agent header. At most MaxSessionUserAgent bytes.
	UserAgent string
	// LastUsedAt is when the session was last used (set by CreateSession
	// from CreatedAt when zero, and by TouchSession).
	LastUsedAt time.Time
}

// MaxSessionUserAgent bounds Session.UserAgent; longer labels are cut by
// the backends (CutUserAgent).
const MaxSessionUserAgent = 128

// CutUserAgent cuts a session's user-agent label to MaxSessionUserAgent
// bytes without splitting a UTF-8 sequence.
func CutUserAgent(label string) string {
	if len(label) <= MaxSessionUserAgent {
		return label
	}
	cut := MaxSessionUserAgent
	for cut > 0 && !utf8.RuneStart(label[cut]) {
		cut--
	}
	return label[:cut]
}

// LastUsed is when s was last used: LastUsedAt, or its creation for a
// session stored before uses were recorded.
func (s *Session) LastUsed() time.Time {
	if s.LastUsedAt.IsZero() {
		return s.CreatedAt
	}
	return s.LastUsedAt
}

// AccessToken is the record of an access token. Only opaque ones are
// stored, under the hex SHA-256 of the token; JWT ones carry the same
// fields as claims (their jti is ID, their grant_id GrantID).
type AccessToken struct {
	TenantID  string
	ID        string
	GrantID   string
	ClientID  string
	Subject   string // user ID, or the client ID for client_credentials
	Audience  []string
	Scopes    []string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// RefreshToken is the record of an issued refresh token, stored under the hex
// SHA-256 of the token.
type RefreshToken struct {
	TenantID  string
	ID        string
	GrantID   string
	ClientID  string
	UserID    string
	SessionID string
	Audience  []string
	Scopes    []string
	AuthTime  time.Time
	AMR       []string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time // set when rotated; a second use is reuse
}

// Consent is what a user granted a client.
type Consent struct {
	TenantID  string
	UserID    string
	ClientID  string
	Scopes    []string
	UpdatedAt time.Time
}

// AuditEvent records an administrative action: who did what to which
// object, and when.
type AuditEvent struct {
	ID           string
	Time         time.Time
	ActorTenant  string // the tenant of the actor's token (normally "system")
	Actor        string // the admin client ID, or "cli" for the command line
	Action       string // e.g. "tenant.create", "client.rotate_secret"
	TargetTenant string
	TargetType   string // tenant, client, user, key
	TargetID     string
	// Details is a small JSON-able summary; never secrets.
	Details map[string]any
}

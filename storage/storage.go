package storage

import (
	"context"
	"time"
)

// Store is a complete backend. Each accessor returns the part of the store
// that holds one kind of record; a composite backend (durable records in
// PostgreSQL, short-lived ones in Redis) may answer the accessors from
// different places.
type Store interface {
	Tenants() Tenants
	Clients() Clients
	Users() Users
	Keys() Keys
	Secrets() Secrets
	AuthRequests() AuthRequests
	AuthCodes() AuthCodes
	Sessions() Sessions
	Tokens() Tokens
	Grants() Grants
	Consents() Consents
	Audit() AuditLog
	// LoginAttempts are the login throttle's counters (in Redis when it is
	// configured, so that every replica shares them).
	LoginAttempts() LoginAttempts
	// AuthEvents is the authentication audit trail.
	AuthEvents() AuthEvents
	// SecondFactors are the users' TOTP second factors (durable).
	SecondFactors() SecondFactors
	// Connectors are the upstream identity providers and account links.
	Connectors() Connectors

	// Ping reports whether the backend is reachable (used by /readyz).
	Ping(ctx context.Context) error
	// Sweep deletes records whose expiry has passed. Backends with native
	// expiry (Redis TTLs) may do nothing. Safe to call concurrently.
	Sweep(ctx context.Context, now time.Time) error
	Close() error
}

// Tenants holds the issuers Herald serves. A tenant's Name is its primary key
// and the last path segment of its issuer ({public_url}/t/{name}).
//
// Hostnames are checked and normalised with NormalizeHostnames (Tenant and
// ListTenants return them sorted). A hostname another tenant claims makes
// CreateTenant and UpdateTenant fail with ErrHostnameTaken, which matches
// ErrAlreadyExists. Settings round-trip as JSON: durations as nanoseconds.
type Tenants interface {
	CreateTenant(ctx context.Context, t *Tenant) error
	// Tenant returns ErrNotFound for an unknown name.
	Tenant(ctx context.Context, name string) (*Tenant, error)
	// TenantByHostname returns the tenant that claims host, compared
	// exactly with the stored (lower-case, port-less) hostnames; callers
	// normalise the request's host first. ErrNotFound if none claims it.
	TenantByHostname(ctx context.Context, host string) (*Tenant, error)
	// ListTenants returns every tenant ordered by name.
	ListTenants(ctx context.Context) ([]*Tenant, error)
	// UpdateTenant loads the tenant, applies update and stores the result
	// atomically, hostnames included (the stored set is replaced). An error
	// from update aborts the change and is returned.
	UpdateTenant(ctx context.Context, name string, update func(*Tenant) error) (*Tenant, error)
	// DeleteTenant removes the tenant and every record scoped to it, its
	// hostnames included (audit events stay).
	DeleteTenant(ctx context.Context, name string) error
}

// Clients holds the relying parties registered in each tenant.
type Clients interface {
	// CreateClient returns ErrAlreadyExists if the ID is taken in the tenant.
	CreateClient(ctx context.Context, c *Client) error
	Client(ctx context.Context, tenant, id string) (*Client, error)
	ListClients(ctx context.Context, tenant string) ([]*Client, error)
	UpdateClient(ctx context.Context, tenant, id string, update func(*Client) error) (*Client, error)
	// DeleteClient removes the client, its users' consents and revokes its
	// grants, atomically; ErrNotFound if there is none.
	DeleteClient(ctx context.Context, tenant, id string) error
}

// Users holds the end users of each tenant. Usernames are unique per tenant
// (compared exactly; callers normalise before storing and looking up).
type Users interface {
	// CreateUser returns ErrAlreadyExists if the username is taken in the tenant.
	CreateUser(ctx context.Context, u *User) error
	User(ctx context.Context, tenant, id string) (*User, error)
	UserByUsername(ctx context.Context, tenant, username string) (*User, error)
	ListUsers(ctx context.Context, tenant string) ([]*User, error)
	UpdateUser(ctx context.Context, tenant, id string, update func(*User) error) (*User, error)
	// DeleteUser removes the user and their consents and revokes their
	// grants, atomically; ErrNotFound if there is none.
	DeleteUser(ctx context.Context, tenant, id string) error
}

// Keys holds each tenant's signing keys.
type Keys interface {
	CreateKey(ctx context.Context, k *SigningKey) error
	// ListKeys returns the tenant's keys, newest first.
	ListKeys(ctx context.Context, tenant string) ([]*SigningKey, error)
	UpdateKey(ctx context.Context, tenant, id string, update func(*SigningKey) error) (*SigningKey, error)
	// UpdateKeySet is the one way to move keys through their lifecycle
	// (rotate, revoke, remove). It reads the tenant's keys of alg, newest
	// first, and calls update with them while holding a lock that serialises
	// every UpdateKeySet of that tenant and algorithm across all replicas
	// (PostgreSQL: a transaction-scoped advisory lock; SQLite: the write
	// transaction). The change update returns (nil: none) is written in the
	// same transaction: either all of it or nothing. Because update sees the
	// state left by the previous caller, two replicas that both decide "a
	// rotation is due" produce exactly one new key. update's error is
	// returned unchanged with nothing stored. update must not block (no
	// key generation inside the lock).
	UpdateKeySet(ctx context.Context, tenant, alg string, update func(keys []*SigningKey) (*KeySetChange, error)) error
}

// Secrets holds installation-wide secrets that every replica must share
// (the CSRF key).
type Secrets interface {
	// Secret returns the secret stored under name. If there is none it stores
	// the value generate returns and returns that. When two replicas race, both
	// get the value of the one that stored first.
	Secret(ctx context.Context, name string, generate func() ([]byte, error)) ([]byte, error)
	// SwapSecret replaces the secret called name with new if its stored value
	// is still old (compare-and-set; used to re-encrypt a sealed secret under
	// a new key-encryption key). It reports whether it replaced it; a missing
	// secret is ErrNotFound.
	SwapSecret(ctx context.Context, name string, old, new []byte) (bool, error)
}

// AuthRequests holds authorization requests between /authorize and the
// issuing of a code (login and consent happen in between).
type AuthRequests interface {
	CreateAuthRequest(ctx context.Context, r *AuthRequest) error
	// AuthRequest returns ErrNotFound for unknown or expired requests.
	AuthRequest(ctx context.Context, tenant, id string) (*AuthRequest, error)
	UpdateAuthRequest(ctx context.Context, tenant, id string, update func(*AuthRequest) error) (*AuthRequest, error)
	DeleteAuthRequest(ctx context.Context, tenant, id string) error
	// ConsumeAuthRequest deletes the request and returns it, atomically: of
	// concurrent calls for one request exactly one gets it, the others
	// ErrNotFound. Issuing a code consumes its request, so one request
	// yields at most one code.
	ConsumeAuthRequest(ctx context.Context, tenant, id string) (*AuthRequest, error)
}

// AuthCodes holds issued authorization codes, keyed by the SHA-256 hash of the
// code (the code itself is never stored).
type AuthCodes interface {
	CreateAuthCode(ctx context.Context, c *AuthCode) error
	// AuthCode returns the code, used or not, without consuming it (so that
	// the redeeming client, redirect URI, PKCE verifier and issuer are
	// checked before a wrong party can burn it). ErrNotFound for unknown
	// codes and codes expired at now.
	AuthCode(ctx context.Context, tenant, codeHash string, now time.Time) (*AuthCode, error)
	// ConsumeAuthCode marks the code used and returns it, atomically: of any
	// number of concurrent calls for one code exactly one succeeds. Later
	// calls return the code together with ErrAlreadyUsed (so the caller can
	// revoke the grant it produced). Unknown or expired codes: ErrNotFound.
	ConsumeAuthCode(ctx context.Context, tenant, codeHash string, now time.Time) (*AuthCode, error)
}

// Sessions holds SSO sessions, keyed by the SHA-256 hash of the cookie value.
type Sessions interface {
	CreateSession(ctx context.Context, s *Session) error
	// Session returns ErrNotFound for unknown sessions and for sessions past
	// their idle or absolute expiry at now.
	Session(ctx context.Context, tenant, id string, now time.Time) (*Session, error)
	// TouchSession records a use at now (LastUsedAt) and slides the idle
	// expiry to idleExpiresAt (never beyond the absolute expiry) without a
	// read-modify-write race.
	TouchSession(ctx context.Context, tenant, id string, now, idleExpiresAt time.Time) error
	DeleteSession(ctx context.Context, tenant, id string) error
	// DeleteUserSessions ends every session of a user in the tenant.
	DeleteUserSessions(ctx context.Context, tenant, userID string) error
	// ListUserSessions returns the user's sessions that are live at now,
	// most recently created first (the account page).
	ListUserSessions(ctx context.Context, tenant, userID string, now time.Time) ([]*Session, error)
}

// Tokens holds opaque access tokens (by the hex SHA-256 of the token; JWT
// access tokens are not stored) and refresh tokens (by the hex SHA-256 of
// the token). Every token names its grant (see Grants): a token is returned
// only while its grant is live.
type Tokens interface {
	// IssueTokens stores an access token and/or a refresh token (either may
	// be nil), atomically, after checking in the same transaction that the
	// grant of each is live at its CreatedAt; otherwise it stores nothing
	// and returns ErrRevoked.
	IssueTokens(ctx context.Context, at *AccessToken, rt *RefreshToken) error
	// AccessToken returns ErrNotFound for unknown or expired tokens and for
	// tokens whose grant is not live at now.
	AccessToken(ctx context.Context, tenant, id string, now time.Time) (*AccessToken, error)
	// RefreshToken returns the token even when it was used before
	// (UsedAt set), so that the caller can detect reuse; ErrNotFound for
	// unknown or expired tokens and for tokens whose grant is not live.
	RefreshToken(ctx context.Context, tenant, id string, now time.Time) (*RefreshToken, error)
	// RotateRefreshToken marks the refresh token oldID used and stores the
	// successors (either may be nil), atomically. If oldID was used already
	// it stores nothing and returns ErrAlreadyUsed: of concurrent rotations
	// exactly one succeeds. If the grant is not live: ErrRevoked, nothing
	// stored.
	RotateRefreshToken(ctx context.Context, tenant, oldID string, now time.Time, at *AccessToken, rt *RefreshToken) error
}

// Consents remembers which scopes a user granted to a client.
type Consents interface {
	// Consent returns the scopes granted so far (ErrNotFound if none).
	Consent(ctx context.Context, tenant, userID, clientID string) (*Consent, error)
	// GrantConsent adds scopes to what the user granted the client.
	GrantConsent(ctx context.Context, c *Consent) error
	// RevokeConsent forgets the consent and revokes the user's grants to
	// the client, atomically.
	RevokeConsent(ctx context.Context, tenant, userID, clientID string) error
	// ListUserConsents returns every consent of the user, ordered by
	// client ID (the account page).
	ListUserConsents(ctx context.Context, tenant, userID string) ([]*Consent, error)
}

// AuditLog is an append-only record of administrative actions. Events are
// not scoped by a tenant: those about a deleted tenant outlive it.
type AuditLog interface {
	// AppendAudit stores e, filling in e.ID (random) and e.Time (now) when
	// they are empty. A duplicate ID is ErrAlreadyExists. Details must be
	// JSON-encodable; numbers come back as float64.
	AppendAudit(ctx context.Context, e *AuditEvent) error
	// ListAudit returns the newest events first (insertion order breaks
	// ties); tenant "" lists every tenant's events, otherwise those whose
	// TargetTenant is tenant. limit ≤ 0 means DefaultAuditLimit (100);
	// more than MaxAuditLimit (1000) means MaxAuditLimit.
	ListAudit(ctx context.Context, tenant string, limit int) ([]*AuditEvent, error)
}

// Notifier is implemented by backends that can tell other replicas that a
// cached record changed (Redis pub/sub, PostgreSQL LISTEN/NOTIFY). Caches
// still expire on a short TTL, so a lost message delays but never breaks.
type Notifier interface {
	// Publish announces that the records of tenant changed.
	Publish(ctx context.Context, tenant string) error
	// Subscribe blocks, calling fn with the tenant of every announcement
	// (its own included), one at a time, until ctx ends; then it returns
	// nil. It reconnects by itself. Each time the subscription is
	// (re)established it first calls fn("") — announcements made while it
	// was not listening are lost, so "" means "any tenant may have
	// changed". The first fn("") also tells that it is listening.
	Subscribe(ctx context.Context, fn func(tenant string)) error
}

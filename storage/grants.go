package storage

import (
	"context"
	"errors"
	"time"
)

// Grant kinds.
const (
	// GrantAuthorizationCode is a user's authorization of a client, created
	// when a code is redeemed.
	GrantAuthorizationCode = "authorization_code"
	// GrantClientCredentials is a client's authorization of itself (RFC 6749
	// §4.4): one per client registration, shared by all its tokens.
	GrantClientCredentials = "client_credentials"
)

// GrantTombstoneLifetime is how long a grant revoked before it was created
// (a code replay that beat the first redemption to the store) is remembered:
// longer than any authorization code lives.
const GrantTombstoneLifetime = 24 * time.Hour

// ErrRevoked: the grant a token belongs to is revoked, expired or unknown,
// so no token of it may be minted (IssueTokens, RotateRefreshToken).
var ErrRevoked = errors.New("storage: grant revoked")

// Grant is the unit of revocation: every access and refresh token names one,
// and a token is valid only while its grant is (docs/tokens.md).
type Grant struct {
	TenantID string
	ID       string
	Kind     string // GrantAuthorizationCode or GrantClientCredentials
	ClientID string
	// ClientUID is the Client.UID the grant was made to: a client deleted
	// and registered again under the same ID has a new UID and inherits
	// nothing.
	ClientUID string
	UserID    string // "" for client_credentials
	// SessionID is set for session-bound grants: logging out of that SSO
	// session revokes them. offline_access grants have none.
	SessionID string
	// Issuer is the issuer URL the grant was made at; its refresh tokens are
	// redeemed at that issuer only.
	Issuer    string
	Scopes    []string
	CreatedAt time.Time
	// ExpiresAt is the absolute lifetime of the grant (the refresh-token
	// family): no token of it outlives it, however often it is refreshed.
	ExpiresAt time.Time
	RevokedAt *time.Time
}

// Live reports whether tokens of g may be used or minted at now.
func (g *Grant) Live(now time.Time) bool {
	return g != nil && g.RevokedAt == nil && now.Before(g.ExpiresAt)
}

// Grants holds grants. Revoking is one write whatever the number of tokens,
// and it is ordered with minting by the store: IssueTokens and
// RotateRefreshToken check the grant in the same transaction as their
// write, and AccessToken and RefreshToken return only tokens of live grants,
// so a token minted concurrently with a revocation dies with its grant.
type Grants interface {
	// CreateGrant stores g. ErrAlreadyExists if the ID is taken — also by a
	// grant revoked before it was created (see RevokeGrant).
	CreateGrant(ctx context.Context, g *Grant) error
	// Grant returns the grant, revoked or expired included; ErrNotFound if
	// unknown.
	Grant(ctx context.Context, tenant, id string) (*Grant, error)
	// RevokeGrant marks the grant revoked at now. An unknown ID is recorded
	// as a revoked grant (a tombstone that lives GrantTombstoneLifetime), so
	// a later CreateGrant of that ID fails: a code replay that reaches the
	// store before the first redemption still wins. Revoking twice is no
	// error and keeps the first time.
	RevokeGrant(ctx context.Context, tenant, id string, now time.Time) error
	// RevokeUserGrants revokes every grant of the user (password change,
	// disable, delete).
	RevokeUserGrants(ctx context.Context, tenant, userID string, now time.Time) error
	// RevokeClientGrants revokes every grant of the client ID (delete).
	RevokeClientGrants(ctx context.Context, tenant, clientID string, now time.Time) error
	// RevokeSessionGrants revokes the grants bound to the session (logout).
	RevokeSessionGrants(ctx context.Context, tenant, sessionID string, now time.Time) error
	// RevokeUserGrantsExcept revokes every grant of the user except those
	// bound to the session keepSessionID (a password change on the account
	// page keeps the session it was made in); offline_access grants, bound
	// to no session, are revoked too. keepSessionID must not be empty.
	RevokeUserGrantsExcept(ctx context.Context, tenant, userID, keepSessionID string, now time.Time) error
}

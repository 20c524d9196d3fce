package storage

import (
	"context"
	"time"
)

// Connector types.
const (
	ConnectorOIDC   = "oidc"   // any OpenID provider, found by discovery
	ConnectorGitHub = "github" // GitHub OAuth 2.0 plus its user and e-mail APIs
)

// Connector is an upstream identity provider of a tenant: people sign in
// there and come back as a local user.
type Connector struct {
	TenantID    string
	ID          string
	Type        string // ConnectorOIDC or ConnectorGitHub
	DisplayName string
	// Issuer is the upstream issuer (oidc) or the API base URL (github;
	// empty means https://api.github.com).
	Issuer   string
	ClientID string
	// ClientSecret is sealed under the key-encryption key
	// (keys.Manager.SealConnectorSecret); never the plain secret.
	ClientSecret []byte
	Scopes       []string
	// ClaimMapping maps a local field (email, name, given_name,
	// family_name, username, email_verified) to the upstream claim it is
	// read from; unset fields use the standard claim of the same name.
	ClaimMapping map[string]string
	// JITCreate lets a first sign-in create a local user.
	JITCreate bool
	// LinkByEmail lets a first sign-in attach to the existing local user
	// with the same e-mail, when the upstream says the e-mail is verified.
	LinkByEmail bool
	Disabled    bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// UserLink ties an upstream account (connector, subject) to a local user.
type UserLink struct {
	TenantID    string
	ConnectorID string
	Subject     string // the upstream subject (sub, or GitHub's numeric user ID)
	UserID      string
	CreatedAt   time.Time
}

// UpstreamState is the server-side half of one upstream sign-in: it is
// created when the browser is sent to the upstream provider and consumed
// (once) on the callback. It is stored under the SHA-256 of the state value
// sent upstream.
type UpstreamState struct {
	TenantID      string
	StateHash     string
	ConnectorID   string
	AuthRequestID string
	Nonce         string
	CodeVerifier  string
	CreatedAt     time.Time
	ExpiresAt     time.Time
}

// Connectors holds each tenant's upstream identity providers, the links of
// upstream accounts to local users and the pending upstream sign-ins.
// Deleting a tenant removes all three; deleting a connector or a user
// removes their links.
type Connectors interface {
	// CreateConnector returns ErrAlreadyExists if the ID is taken in the
	// tenant, ErrNotFound for an unknown tenant.
	CreateConnector(ctx context.Context, c *Connector) error
	Connector(ctx context.Context, tenant, id string) (*Connector, error)
	// ListConnectors returns the tenant's connectors ordered by ID.
	ListConnectors(ctx context.Context, tenant string) ([]*Connector, error)
	UpdateConnector(ctx context.Context, tenant, id string, update func(*Connector) error) (*Connector, error)
	// DeleteConnector removes the connector and its links; ErrNotFound if
	// there is none.
	DeleteConnector(ctx context.Context, tenant, id string) error

	// CreateUserLink returns ErrAlreadyExists if the upstream account is
	// linked already, ErrNotFound for an unknown connector or user.
	CreateUserLink(ctx context.Context, l *UserLink) error
	UserLink(ctx context.Context, tenant, connectorID, subject string) (*UserLink, error)
	// ListUserLinks returns the user's links ordered by connector, subject.
	ListUserLinks(ctx context.Context, tenant, userID string) ([]*UserLink, error)
	// DeleteUserLink: ErrNotFound if there is no such link.
	DeleteUserLink(ctx context.Context, tenant, connectorID, subject string) error

	// UsersByEmail returns the tenant's users whose e-mail equals email,
	// compared case-insensitively (ASCII), ordered by ID: the candidates
	// for linking a first upstream sign-in by verified e-mail.
	UsersByEmail(ctx context.Context, tenant, email string) ([]*User, error)

	CreateUpstreamState(ctx context.Context, s *UpstreamState) error
	// ConsumeUpstreamState deletes the state and returns it, atomically: of
	// concurrent calls exactly one gets it. Unknown or expired at now:
	// ErrNotFound.
	ConsumeUpstreamState(ctx context.Context, tenant, stateHash string, now time.Time) (*UpstreamState, error)
}

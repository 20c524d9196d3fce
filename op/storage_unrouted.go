package op

import (
	"context"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/herald-idp/herald/keys"
	"github.com/herald-idp/herald/storage"
)

// The op.Storage methods in this file are never called: each serves a
// library handler or helper that Herald's own code replaces (routes in
// server.go, the protocolServer overrides in grants.go, introspect.go and
// discovery.go). They exist because op.Storage requires them. Those that
// would have an obvious correct answer delegate to Herald's services, so
// that a future library version reaching them still behaves; the others
// answer with an error rather than pretend.

func errNotRouted() *oidc.Error { return oidc.ErrServerError().WithDescription("not supported") }

// AuthorizeClientIDSecret is called by the library's VerifyClient and
// Introspect; protocolServer overrides both (both call Server.authenticateClient).
func (a *opStorage) AuthorizeClientIDSecret(ctx context.Context, clientID, secret string) error {
	_, err := a.s.authenticateClient(ctx, tenantFromContext(ctx), presentedCredentials{clientID, secret, storage.AuthMethodPost})
	return err
}

type signingKey struct{ k *keys.Key }

func (k signingKey) SignatureAlgorithm() jose.SignatureAlgorithm {
	return jose.SignatureAlgorithm(k.k.Algorithm)
}
func (k signingKey) Key() any   { return k.k.Private }
func (k signingKey) ID() string { return k.k.ID }

// SigningKey is called by the library's token minting (CreateJWT,
// CreateIDToken) inside its grant handlers, which protocolServer overrides;
// Herald mints every token itself (tokens.go).
func (a *opStorage) SigningKey(ctx context.Context) (zop.SigningKey, error) {
	k, err := a.s.minter.signingKey(ctx, tenantFromContext(ctx))
	if err != nil {
		return nil, storageError(ctx, "signing key", err)
	}
	return signingKey{k}, nil
}

// SignatureAlgorithms is called by the library's discovery document, which
// protocolServer.Discovery replaces (discovery.go).
func (a *opStorage) SignatureAlgorithms(ctx context.Context) ([]jose.SignatureAlgorithm, error) {
	algs, err := a.s.minter.publishedAlgorithms(ctx, tenantName(ctx))
	if err != nil {
		return nil, storageError(ctx, "key set", err)
	}
	out := make([]jose.SignatureAlgorithm, 0, len(algs))
	for _, alg := range algs {
		out = append(out, jose.SignatureAlgorithm(alg))
	}
	return out, nil
}

// SetUserinfoFromToken is called by the library's UserInfo, which
// protocolServer.UserInfo replaces so that it can answer invalid_token.
func (a *opStorage) SetUserinfoFromToken(context.Context, *oidc.UserInfo, string, string, string) error {
	return errNotRouted()
}

// SetIntrospectionFromToken is called by the library's Introspect, which
// protocolServer.Introspect replaces.
func (a *opStorage) SetIntrospectionFromToken(context.Context, *oidc.IntrospectionResponse, string, string, string) error {
	return errNotRouted()
}

// CreateAuthRequest is called by the library's authorization endpoint;
// Herald routes /authorize to its own handler (authorize.go).
func (a *opStorage) CreateAuthRequest(context.Context, *oidc.AuthRequest, string) (zop.AuthRequest, error) {
	return nil, errNotRouted()
}

// AuthRequestByID is called by the library's login callback, which Herald
// does not route: its own login and consent pages continue the request.
func (a *opStorage) AuthRequestByID(context.Context, string) (zop.AuthRequest, error) {
	return nil, errNotRouted()
}

// AuthRequestByCode is called by the library's CodeExchange, which
// protocolServer.CodeExchange replaces (it consumes the code atomically).
func (a *opStorage) AuthRequestByCode(context.Context, string) (zop.AuthRequest, error) {
	return nil, errNotRouted()
}

// SaveAuthCode is called by the library's authorization callback; Herald
// issues codes itself (authorize.go).
func (a *opStorage) SaveAuthCode(context.Context, string, string) error { return errNotRouted() }

// DeleteAuthRequest is called by the library's token minting after a code
// exchange; protocolServer.CodeExchange replaces it.
func (a *opStorage) DeleteAuthRequest(context.Context, string) error { return errNotRouted() }

// CreateAccessToken is called by the library's grant handlers, which
// protocolServer overrides; tokens.go mints every token.
func (a *opStorage) CreateAccessToken(context.Context, zop.TokenRequest) (string, time.Time, error) {
	return "", time.Time{}, errNotRouted()
}

// CreateAccessAndRefreshTokens: as CreateAccessToken.
func (a *opStorage) CreateAccessAndRefreshTokens(context.Context, zop.TokenRequest, string) (string, string, time.Time, error) {
	return "", "", time.Time{}, errNotRouted()
}

// TokenRequestByRefreshToken is called by the library's RefreshToken, which
// protocolServer.RefreshToken replaces.
func (a *opStorage) TokenRequestByRefreshToken(context.Context, string) (zop.RefreshTokenRequest, error) {
	return nil, errNotRouted()
}

// TerminateSession is called by the library's EndSession; Herald routes
// /end_session to its own handler (logout.go).
func (a *opStorage) TerminateSession(context.Context, string, string) error { return errNotRouted() }

// SetUserinfoFromScopes is called by the library's ID token minting, which
// Herald does not use (tokens.go fills the claims).
func (a *opStorage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

// GetPrivateClaimsFromScopes: as SetUserinfoFromScopes, for access tokens.
func (a *opStorage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

// GetKeyByIDAndClientID serves private_key_jwt client assertions and the
// JWT profile grant; protocolServer.VerifyClient refuses assertions and
// JWTProfile answers unsupported_grant_type before the library asks.
func (a *opStorage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, oidc.ErrInvalidClient().WithDescription("private_key_jwt is not supported")
}

// ValidateJWTProfileScopes serves the JWT profile grant, which
// protocolServer.JWTProfile refuses.
func (a *opStorage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, oidc.ErrUnsupportedGrantType()
}

// GetRefreshTokenInfo and RevokeToken serve the library's revocation
// endpoint; protocolServer.Revocation (revoke.go) replaces it, revoking
// the grant of either token type whatever the hint.
func (a *opStorage) GetRefreshTokenInfo(context.Context, string, string) (string, string, error) {
	return "", "", errNotRouted()
}

func (a *opStorage) RevokeToken(context.Context, string, string, string) *oidc.Error {
	return errNotRouted()
}

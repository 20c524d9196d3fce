package op

import (
	"context"
	"errors"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/herald-idp/herald/keys"
	"github.com/herald-idp/herald/storage"
)

// opStorage is the thin adapter zitadel's op.Storage needs, and nothing
// more: Herald's own handlers call Herald's own services (clients.go, the
// minter in tokens.go, tenantcache.go) with the tenant their request was
// resolved to. The library still calls, on routes Herald leaves to it:
//
//   - GetClientByClientID: end_session (ValidateEndSessionRequest, used by
//     logout.go);
//   - KeySet: the JWKS endpoint and every token verifier (id_token_hint,
//     access tokens at userinfo, introspection and the admin API);
//   - GetRefreshTokenInfo and RevokeToken: the revocation endpoint;
//   - Health: the library's /ready probe under a tenant's routes.
//
// Every other method is in storage_unrouted.go, saying why it is never
// called. Each method reads the tenant the request was resolved to from
// ctx; none fetches it.
type opStorage struct {
	s *Server
}

var _ zop.Storage = (*opStorage)(nil)

func (a *opStorage) GetClientByClientID(ctx context.Context, clientID string) (zop.Client, error) {
	c, err := a.s.lookupClient(ctx, tenantFromContext(ctx), clientID)
	if err != nil {
		return nil, clientLookupError(ctx, err)
	}
	return c, nil
}

type publicKey struct{ k *keys.Key }

func (k publicKey) ID() string                         { return k.k.ID }
func (k publicKey) Algorithm() jose.SignatureAlgorithm { return jose.SignatureAlgorithm(k.k.Algorithm) }
func (k publicKey) Use() string                        { return "sig" }
func (k publicKey) Key() any                           { return k.k.Public }

func (a *opStorage) KeySet(ctx context.Context) ([]zop.Key, error) {
	ks, err := a.s.keys.PublicKeys(ctx, tenantName(ctx))
	if err != nil {
		return nil, storageError(ctx, "key set", err)
	}
	out := make([]zop.Key, 0, len(ks))
	for _, k := range ks {
		out = append(out, publicKey{k})
	}
	return out, nil
}

// GetRefreshTokenInfo lets the library's revocation endpoint recognise a
// refresh token: it returns the token's record ID (its hash).
func (a *opStorage) GetRefreshTokenInfo(ctx context.Context, clientID, token string) (string, string, error) {
	rt, err := a.s.store.Tokens().RefreshToken(ctx, tenantName(ctx), hashToken(token), a.s.now())
	if err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return "", "", zop.ErrInvalidRefreshToken
		}
		// Mapped here: the library would answer server_error with the
		// raw error as parent, and nothing would log it.
		return "", "", storageError(ctx, "revoke: refresh token", err)
	}
	if rt.ClientID != clientID {
		// RFC 7009 §2.1: only the client the token was issued to may revoke
		// it. Treated as unknown so that nothing leaks about other clients.
		return "", "", zop.ErrInvalidRefreshToken
	}
	return rt.UserID, refreshIDPrefix + rt.ID, nil
}

// refreshIDPrefix marks a token ID handed to RevokeToken as a refresh token's.
const refreshIDPrefix = "rt:"

// RevokeToken revokes a refresh token (and with it its whole grant) or an
// access token. Unknown tokens are not an error (RFC 7009 §2.2).
func (a *opStorage) RevokeToken(ctx context.Context, tokenOrID, userID, clientID string) *oidc.Error {
	tenant := tenantName(ctx)
	tokens := a.s.store.Tokens()
	now := a.s.now()
	if id, ok := cutPrefix(tokenOrID, refreshIDPrefix); ok {
		rt, err := tokens.RefreshToken(ctx, tenant, id, now)
		if errors.Is(err, storage.ErrNotFound) {
			return nil
		}
		if err != nil {
			return serverError(ctx, "revoke", err)
		}
		if err := tokens.RevokeGrant(ctx, tenant, rt.GrantID); err != nil {
			return serverError(ctx, "revoke", err)
		}
		return nil
	}
	at, err := tokens.AccessToken(ctx, tenant, tokenOrID, now)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		return serverError(ctx, "revoke", err)
	}
	if at.ClientID != clientID {
		return nil
	}
	if err := tokens.RevokeAccessToken(ctx, tenant, at.ID); err != nil {
		return serverError(ctx, "revoke", err)
	}
	return nil
}

func cutPrefix(s, prefix string) (string, bool) {
	if len(s) > len(prefix) && s[:len(prefix)] == prefix {
		return s[len(prefix):], true
	}
	return "", false
}

func (a *opStorage) Health(ctx context.Context) error { return a.s.store.Ping(ctx) }

package op

import (
	"context"
	"errors"
	"slices"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/herald-idp/herald/keys"
	"github.com/herald-idp/herald/op/registry"
	"github.com/herald-idp/herald/storage"
)

// opStorage is the one type that implements zitadel's op.Storage on top of
// Herald's storage interfaces. Herald serves the authorize, code, refresh and
// client_credentials paths itself (authorize.go, grants.go), so the methods
// the library still calls are: client lookup and authentication, keys,
// userinfo, introspection and revocation. The others answer with an error
// rather than pretend: nothing in Herald routes to them.
type opStorage struct {
	store     storage.Store
	keys      *keys.Manager
	lifetimes Lifetimes
	clients   *clientCache
	now       func() time.Time
}

var _ zop.Storage = (*opStorage)(nil)

func errNotRouted() *oidc.Error { return oidc.ErrServerError().WithDescription("not supported") }

func tenantName(ctx context.Context) string {
	if t := tenantFromContext(ctx); t != nil {
		return t.Name
	}
	return ""
}

// --- clients ---------------------------------------------------------------

func (s *opStorage) client(ctx context.Context, id string) (*client, error) {
	c, err := s.clients.get(ctx, s.store.Clients(), tenantName(ctx), id)
	if err != nil {
		return nil, err
	}
	return &client{c: c, defaults: tenantLifetimes(s.lifetimes, tenantFromContext(ctx))}, nil
}

func (s *opStorage) GetClientByClientID(ctx context.Context, clientID string) (zop.Client, error) {
	c, err := s.client(ctx, clientID)
	if err != nil {
		return nil, clientLookupError(ctx, err)
	}
	return c, nil
}

// AuthorizeClientIDSecret authenticates a confidential client. The stored
// hash is a SHA-256 of a 256-bit random secret, compared in constant time.
func (s *opStorage) AuthorizeClientIDSecret(ctx context.Context, clientID, secret string) error {
	cl, err := s.client(ctx, clientID)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return storageError(ctx, "client", err)
	}
	if cl == nil || cl.c.IsPublic() || !registry.VerifyClientSecret(secret, cl.c.SecretHash) {
		return clientAuthFailed()
	}
	return nil
}

// --- keys ------------------------------------------------------------------

type signingKey struct{ k *keys.Key }

func (k signingKey) SignatureAlgorithm() jose.SignatureAlgorithm {
	return jose.SignatureAlgorithm(k.k.Algorithm)
}
func (k signingKey) Key() any   { return k.k.Private }
func (k signingKey) ID() string { return k.k.ID }

type publicKey struct{ k *keys.Key }

func (k publicKey) ID() string                         { return k.k.ID }
func (k publicKey) Algorithm() jose.SignatureAlgorithm { return jose.SignatureAlgorithm(k.k.Algorithm) }
func (k publicKey) Use() string                        { return "sig" }
func (k publicKey) Key() any                           { return k.k.Public }

// tenantSigningKey is the key new tokens of the tenant are signed with.
func (s *opStorage) tenantSigningKey(ctx context.Context) (*keys.Key, error) {
	t := tenantFromContext(ctx)
	if t == nil {
		return nil, errors.New("no tenant in context")
	}
	alg := t.SigningAlgorithm
	if alg == "" {
		alg = keys.DefaultAlgorithm
	}
	return s.keys.SigningKey(ctx, t.Name, alg)
}

func (s *opStorage) SigningKey(ctx context.Context) (zop.SigningKey, error) {
	k, err := s.tenantSigningKey(ctx)
	if err != nil {
		return nil, storageError(ctx, "signing key", err)
	}
	return signingKey{k}, nil
}

func (s *opStorage) KeySet(ctx context.Context) ([]zop.Key, error) {
	ks, err := s.keys.PublicKeys(ctx, tenantName(ctx))
	if err != nil {
		return nil, storageError(ctx, "key set", err)
	}
	out := make([]zop.Key, 0, len(ks))
	for _, k := range ks {
		out = append(out, publicKey{k})
	}
	return out, nil
}

func (s *opStorage) SignatureAlgorithms(ctx context.Context) ([]jose.SignatureAlgorithm, error) {
	ks, err := s.keys.PublicKeys(ctx, tenantName(ctx))
	if err != nil {
		return nil, storageError(ctx, "key set", err)
	}
	var algs []jose.SignatureAlgorithm
	for _, k := range ks {
		if a := jose.SignatureAlgorithm(k.Algorithm); !slices.Contains(algs, a) {
			algs = append(algs, a)
		}
	}
	return algs, nil
}

// --- tokens the library looks up ------------------------------------------

// SetUserinfoFromToken is kept for completeness; Herald's UserInfo override
// (grants.go) answers /userinfo itself so that it can return invalid_token.
func (s *opStorage) SetUserinfoFromToken(ctx context.Context, info *oidc.UserInfo, tokenID, subject, origin string) error {
	return errNotRouted()
}

func (s *opStorage) SetIntrospectionFromToken(ctx context.Context, r *oidc.IntrospectionResponse, tokenID, subject, clientID string) error {
	return errNotRouted()
}

// GetRefreshTokenInfo lets the library's revocation endpoint recognise a
// refresh token: it returns the token's record ID (its hash).
func (s *opStorage) GetRefreshTokenInfo(ctx context.Context, clientID, token string) (string, string, error) {
	rt, err := s.store.Tokens().RefreshToken(ctx, tenantName(ctx), hashToken(token), s.now())
	if err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return "", "", zop.ErrInvalidRefreshToken
		}
		return "", "", err
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
func (s *opStorage) RevokeToken(ctx context.Context, tokenOrID, userID, clientID string) *oidc.Error {
	tenant := tenantName(ctx)
	tokens := s.store.Tokens()
	if id, ok := cutPrefix(tokenOrID, refreshIDPrefix); ok {
		rt, err := tokens.RefreshToken(ctx, tenant, id, s.now())
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
	at, err := tokens.AccessToken(ctx, tenant, tokenOrID, s.now())
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

func (s *opStorage) Health(ctx context.Context) error { return s.store.Ping(ctx) }

// --- paths Herald serves itself (never reached) ----------------------------

func (s *opStorage) CreateAuthRequest(context.Context, *oidc.AuthRequest, string) (zop.AuthRequest, error) {
	return nil, errNotRouted()
}
func (s *opStorage) AuthRequestByID(context.Context, string) (zop.AuthRequest, error) {
	return nil, errNotRouted()
}
func (s *opStorage) AuthRequestByCode(context.Context, string) (zop.AuthRequest, error) {
	return nil, errNotRouted()
}
func (s *opStorage) SaveAuthCode(context.Context, string, string) error { return errNotRouted() }
func (s *opStorage) DeleteAuthRequest(context.Context, string) error    { return errNotRouted() }
func (s *opStorage) CreateAccessToken(context.Context, zop.TokenRequest) (string, time.Time, error) {
	return "", time.Time{}, errNotRouted()
}
func (s *opStorage) CreateAccessAndRefreshTokens(context.Context, zop.TokenRequest, string) (string, string, time.Time, error) {
	return "", "", time.Time{}, errNotRouted()
}
func (s *opStorage) TokenRequestByRefreshToken(context.Context, string) (zop.RefreshTokenRequest, error) {
	return nil, errNotRouted()
}
func (s *opStorage) TerminateSession(context.Context, string, string) error { return errNotRouted() }
func (s *opStorage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}
func (s *opStorage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}
func (s *opStorage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, oidc.ErrInvalidClient().WithDescription("private_key_jwt is not supported")
}
func (s *opStorage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, oidc.ErrUnsupportedGrantType()
}

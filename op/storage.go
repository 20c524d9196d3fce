package op

import (
	"context"

	jose "github.com/go-jose/go-jose/v4"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/herald-idp/herald/keys"
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

func (a *opStorage) Health(ctx context.Context) error { return a.s.store.Ping(ctx) }

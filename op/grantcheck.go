package op

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/herald-idp/herald/storage"
)

// This file decides whether a token is valid at use: signature and expiry
// (JWT, checked by jwtverify.go) or a stored hash (opaque), then its grant
// and user, from the per-replica grant-state cache (grantcache.go): a
// revocation takes effect at once on the replica that made it and within
// grantStateTTL on the others (docs/tokens.md).

// errInactive: the token is unknown, expired, revoked, or its grant, client
// registration or user is gone. Resource servers see invalid_token or
// active:false. Any other error is the store's, and becomes a 503.
var errInactive = errors.New("token inactive")

// tokenInfo is a valid access token and what it belongs to.
type tokenInfo struct {
	at     *storage.AccessToken
	grant  *storage.Grant
	client *client
	user   *storage.User // nil for client_credentials
}

// opaqueTokenLength is the length of an opaque access token: 32 random
// bytes, base64url without padding.
const opaqueTokenLength = 43

// checkAccessToken validates an access token of tenant t. JWT: a signature
// of the tenant's keys (kid and alg of one of them), its issuer, exp, and a jti naming
// a grant. Opaque: the hash of exactly 43 random characters on record. The
// library's encrypted (AES-CFB) format is neither: it is refused.
func (s *Server) checkAccessToken(ctx context.Context, t *storage.Tenant, token string) (*tokenInfo, error) {
	now := s.now()
	var at *storage.AccessToken
	switch {
	case strings.Count(token, ".") == 2:
		claims, err := s.verifyJWTAccessToken(ctx, t, zop.IssuerFromContext(ctx), token)
		if err != nil {
			return nil, err
		}
		// ID tokens are signed by the same keys; only access tokens carry
		// a jti naming a grant and a client_id (RFC 9068 §2.2).
		grantID, ok := grantOfJTI(claims.JWTID)
		if !ok || claims.ClientID == "" {
			return nil, errInactive
		}
		at = &storage.AccessToken{
			TenantID: t.Name, ID: claims.JWTID, GrantID: grantID, ClientID: claims.ClientID,
			Subject: claims.Subject, Audience: claims.Audience, Scopes: claims.Scopes,
			CreatedAt: claims.IssuedAt.AsTime(), ExpiresAt: claims.Expiration.AsTime(),
		}
	case len(token) == opaqueTokenLength:
		var err error
		at, err = s.store.Tokens().AccessToken(ctx, t.Name, hashToken(token), now)
		if errors.Is(err, storage.ErrNotFound) {
			return nil, errInactive
		}
		if err != nil {
			return nil, err
		}
	default:
		return nil, errInactive
	}
	info, err := s.checkGrant(ctx, t, at.GrantID, at.ClientID, now)
	if err != nil {
		return nil, err
	}
	if info.grant.Kind == storage.GrantAuthorizationCode && info.grant.UserID != at.Subject {
		return nil, errInactive
	}
	info.at = at
	return info, nil
}

// checkGrant returns the grant if it is live at now, belongs to the client
// registration clientID names today (a deleted client's ID registered again
// is another registration) and, for a user's grant, the user exists and is
// enabled. The grant and user come from this replica's grant-state cache
// when it has them (grantcache.go): a change made here is seen at once, one
// made elsewhere within grantStateTTL.
func (s *Server) checkGrant(ctx context.Context, t *storage.Tenant, grantID, clientID string, now time.Time) (*tokenInfo, error) {
	st, err := s.grantState(ctx, t.Name, grantID)
	if err != nil {
		return nil, err
	}
	return s.checkGrantState(ctx, t, st, clientID, now)
}

// checkGrantNow is checkGrant reading storage, never the cache: for admin
// API tokens, whose revocation must take effect at once on every replica.
func (s *Server) checkGrantNow(ctx context.Context, t *storage.Tenant, grantID, clientID string, now time.Time) (*tokenInfo, error) {
	st, err := s.readGrantState(ctx, t.Name, grantID, 0)
	if err != nil {
		return nil, err
	}
	return s.checkGrantState(ctx, t, st, clientID, now)
}

// grantState returns the grant and its user (nil if deleted), from the
// cache or storage. errInactive: the grant is unknown.
func (s *Server) grantState(ctx context.Context, tenant, grantID string) (grantState, error) {
	if st, ok := s.grantStates.get(tenant, grantID); ok {
		return st, nil
	}
	st, err := s.readGrantState(ctx, tenant, grantID, s.grantStates.epoch.Load())
	if err != nil {
		return grantState{}, err
	}
	s.grantStates.put(tenant, grantID, st)
	return st, nil
}

// readGrantState reads the grant and, for a user's grant, the user from
// storage. epoch is the cache epoch loaded before the reads.
func (s *Server) readGrantState(ctx context.Context, tenant, grantID string, epoch uint64) (grantState, error) {
	g, err := s.store.Grants().Grant(ctx, tenant, grantID)
	if errors.Is(err, storage.ErrNotFound) {
		return grantState{}, errInactive
	}
	if err != nil {
		return grantState{}, err
	}
	st := grantState{epoch: epoch, grant: g}
	if g.Kind == storage.GrantAuthorizationCode && g.RevokedAt == nil {
		u, err := s.store.Users().User(ctx, tenant, g.UserID)
		switch {
		case err == nil:
			st.user = u
		case !errors.Is(err, storage.ErrNotFound): // deleted: st.user stays nil
			return grantState{}, err
		}
	}
	return st, nil
}

// checkGrantState applies checkGrant's rules to a grant state.
func (s *Server) checkGrantState(ctx context.Context, t *storage.Tenant, st grantState, clientID string, now time.Time) (*tokenInfo, error) {
	g := st.grant
	if !g.Live(now) || g.ClientID != clientID {
		return nil, errInactive
	}
	c, err := s.lookupClient(ctx, t, clientID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, errInactive
	}
	if err != nil {
		return nil, err
	}
	if c.c.UID != g.ClientUID {
		return nil, errInactive
	}
	info := &tokenInfo{grant: g, client: c}
	if g.Kind == storage.GrantAuthorizationCode {
		if st.user == nil || st.user.Disabled {
			return nil, errInactive
		}
		info.user = st.user
	}
	return info, nil
}

// clientCredentialsGrantTTL is how long a replica reuses the ID of a
// client's client_credentials grant without reading it. A revocation made
// meanwhile on another replica only means that tokens minted in that window
// are dead at birth (they are checked against the grant at use).
const clientCredentialsGrantTTL = time.Second

// maxClientGrantEpochs bounds the walk over revoked client_credentials
// grants of one registration.
const maxClientGrantEpochs = 1000

// clientCredentialsGrant returns the live client_credentials grant of the
// client registration, creating it when needed. Its ID is
// "cc-<client UID>" for the first epoch and "cc-<UID>-<n>" after n
// revocations (a /revoke of one of its tokens): the first ID that is not
// revoked is the current one.
func (s *Server) clientCredentialsGrant(ctx context.Context, c *client, now time.Time) (string, error) {
	tenant := c.tenant.Name
	cacheKey := tenant + "\x00" + c.c.UID
	if id, ok := s.ccGrants.Get(cacheKey); ok {
		return id, nil
	}
	base := "cc-" + c.c.UID
	for n := range maxClientGrantEpochs {
		id := base
		if n > 0 {
			id = fmt.Sprintf("%s-%d", base, n)
		}
		g, err := s.store.Grants().Grant(ctx, tenant, id)
		if errors.Is(err, storage.ErrNotFound) {
			err = s.store.Grants().CreateGrant(ctx, &storage.Grant{
				TenantID: tenant, ID: id, Kind: storage.GrantClientCredentials,
				ClientID: c.GetID(), ClientUID: c.c.UID, Issuer: "",
				CreatedAt: now, ExpiresAt: now.AddDate(100, 0, 0), // lives as long as the registration
			})
			if errors.Is(err, storage.ErrAlreadyExists) {
				// Another replica created (or revoked) it first: look again.
				g, err = s.store.Grants().Grant(ctx, tenant, id)
			} else if err == nil {
				s.ccGrants.Add(cacheKey, id)
				return id, nil
			}
		}
		if err != nil {
			return "", err
		}
		if g.Live(now) {
			s.ccGrants.Add(cacheKey, id)
			return id, nil
		}
	}
	return "", fmt.Errorf("client %q: too many revoked client_credentials grants", c.GetID())
}

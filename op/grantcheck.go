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
// (JWT, checked by jwtverify.go) or a stored hash (opaque), then its grant, read from storage on
// every use. There is no per-replica cache of grant status, so a
// revocation takes effect at once on every replica (docs/tokens.md).

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
// enabled.
func (s *Server) checkGrant(ctx context.Context, t *storage.Tenant, grantID, clientID string, now time.Time) (*tokenInfo, error) {
	g, err := s.store.Grants().Grant(ctx, t.Name, grantID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, errInactive
	}
	if err != nil {
		return nil, err
	}
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
		u, err := s.store.Users().User(ctx, t.Name, g.UserID)
		if errors.Is(err, storage.ErrNotFound) {
			return nil, errInactive
		}
		if err != nil {
			return nil, err
		}
		if u.Disabled {
			return nil, errInactive
		}
		info.user = u
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

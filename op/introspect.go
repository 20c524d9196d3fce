package op

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/herald-idp/herald/op/registry"
	"github.com/herald-idp/herald/storage"
)

// accessTokenRecord finds the live record of an access token, JWT or
// opaque. A JWT must carry a valid signature of this tenant and a jti that is
// still stored: revocation (and code replay) removes the record, so a
// revoked JWT is rejected here although it still verifies offline.
//
// For a user's token it also returns the (enabled) user.
func (s *Server) accessTokenRecord(ctx context.Context, t *storage.Tenant, token string) (*storage.AccessToken, *storage.User, bool) {
	var id, subject string
	if strings.Count(token, ".") == 2 {
		claims, err := zop.VerifyAccessToken[*oidc.AccessTokenClaims](ctx, token, s.provider.AccessTokenVerifier(ctx))
		if err != nil {
			return nil, nil, false
		}
		id, subject = claims.JWTID, claims.Subject
	} else {
		plain, err := s.provider.Crypto().Decrypt(token)
		if err != nil {
			return nil, nil, false
		}
		var ok bool
		id, subject, ok = strings.Cut(plain, ":")
		if !ok {
			return nil, nil, false
		}
	}
	at, err := s.store.Tokens().AccessToken(ctx, t.Name, id, s.now())
	if err != nil || at.Subject != subject {
		return nil, nil, false
	}
	// A token outlives neither its client nor its user: deleting or
	// disabling them ends it (storage cannot list tokens by client).
	if _, err := s.lookupClient(ctx, t, at.ClientID); err != nil {
		return nil, nil, false
	}
	var user *storage.User
	if at.GrantID != "" {
		if user, err = s.store.Users().User(ctx, t.Name, at.Subject); err != nil || user.Disabled {
			return nil, nil, false
		}
	}
	return at, user, true
}

// Introspect answers RFC 7662 for access tokens (JWT or opaque) and refresh
// tokens of the tenant. Any confidential client of the tenant may ask (it
// is typically a resource server); inactive tokens reveal nothing.
func (p *protocolServer) Introspect(ctx context.Context, r *zop.Request[zop.IntrospectionRequest]) (*zop.Response, error) {
	s := p.s
	cc := r.Data.ClientCredentials
	if cc.ClientAssertion != "" {
		return nil, zop.NewStatusError(oidc.ErrInvalidClient().WithDescription("client assertions are not supported"), http.StatusUnauthorized)
	}
	t := tenantFromContext(ctx)
	if _, err := s.authenticateClient(ctx, t, cc.ClientID, cc.ClientSecret); err != nil {
		return nil, invalidClient()
	}
	resp := &oidc.IntrospectionResponse{}
	token := r.Data.IntrospectionRequest.Token
	issuer := zop.IssuerFromContext(ctx)
	if at, user, ok := s.accessTokenRecord(ctx, t, token); ok {
		resp.Active = true
		resp.TokenType = oidc.BearerToken
		resp.Scope = at.Scopes
		resp.ClientID = at.ClientID
		resp.Subject = at.Subject
		resp.Audience = at.Audience
		resp.Expiration = oidc.FromTime(at.ExpiresAt)
		resp.IssuedAt = oidc.FromTime(at.CreatedAt)
		resp.Issuer = issuer
		resp.JWTID = at.ID
		if user != nil {
			resp.Username = user.Username
		}
		return tokenResponse(resp), nil
	}
	rt, err := s.store.Tokens().RefreshToken(ctx, t.Name, hashToken(token), s.now())
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return nil, storageError(ctx, "introspect", err)
	}
	if err == nil && rt.UsedAt == nil {
		resp.Active = true
		resp.TokenType = "refresh_token"
		resp.Scope = rt.Scopes
		resp.ClientID = rt.ClientID
		resp.Subject = rt.UserID
		resp.Audience = rt.Audience
		resp.Expiration = oidc.FromTime(rt.ExpiresAt)
		resp.IssuedAt = oidc.FromTime(rt.CreatedAt)
		resp.AuthTime = oidc.FromTime(rt.AuthTime)
		resp.Issuer = issuer
	}
	return tokenResponse(resp), nil
}

// invalidToken is RFC 6750 §3.1's answer to a bad bearer token.
func invalidToken() error {
	return zop.NewStatusError(&oidc.Error{ErrorType: "invalid_token", Description: "the access token is invalid, expired or revoked"}, http.StatusUnauthorized)
}

// UserInfo answers OIDC Core §5.3 from the user record, with the claims of
// the scopes the access token carries.
func (p *protocolServer) UserInfo(ctx context.Context, r *zop.Request[oidc.UserInfoRequest]) (*zop.Response, error) {
	s := p.s
	t := tenantFromContext(ctx)
	at, u, ok := s.accessTokenRecord(ctx, t, r.Data.AccessToken)
	if !ok || u == nil {
		return nil, invalidToken()
	}
	if !slices.Contains(at.Scopes, oidc.ScopeOpenID) {
		return nil, zop.NewStatusError(&oidc.Error{ErrorType: "insufficient_scope", Description: "the access token lacks the openid scope"}, http.StatusForbidden)
	}
	info := &oidc.UserInfo{}
	setUserClaims(info, u, at.Scopes)
	info.Claims = customClaims(t, u, at.Scopes, registry.ClaimTargetUserinfo)
	return tokenResponse(info), nil
}

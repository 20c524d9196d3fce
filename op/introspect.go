package op

import (
	"context"
	"errors"
	"net/http"
	"slices"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/herald-idp/herald/op/registry"
	"github.com/herald-idp/herald/storage"
)

// introspectScope, registered in a client's scopes, lets that client
// introspect every token of its tenant (a gateway in front of several
// resource servers). Without it a client may introspect only tokens whose
// audience names it (RFC 7662 §4: the server decides who may ask).
const introspectScope = "herald:introspect"

// Introspect answers RFC 7662 for access tokens (JWT or opaque) and refresh
// tokens of the tenant. The caller must be a confidential client of the
// tenant; it learns about a token only if the token's audience names it
// (refresh tokens: if it is the token's client) or it holds
// introspectScope. Everything else — unknown, expired, revoked, a disabled
// user, a deleted client, someone else's token — is active:false, while a
// store outage is a 503 (never active:false: that would say "revoked").
func (p *protocolServer) Introspect(ctx context.Context, r *zop.Request[zop.IntrospectionRequest]) (*zop.Response, error) {
	s := p.s
	cc := r.Data.ClientCredentials
	if cc.ClientAssertion != "" {
		return nil, zop.NewStatusError(oidc.ErrInvalidClient().WithDescription("client assertions are not supported"), http.StatusUnauthorized)
	}
	t := tenantFromContext(ctx)
	presented, err := clientCredentials(r.Header, r.Form, cc.ClientID, cc.ClientSecret)
	if err != nil {
		return nil, err
	}
	caller, err := s.authenticateClient(ctx, t, presented)
	if err != nil {
		return nil, err
	}
	if caller.c.IsPublic() {
		// Only a client that can keep a secret may ask (RFC 7662 §2.1).
		return nil, invalidClient()
	}
	privileged := slices.Contains(caller.c.Scopes, introspectScope)
	resp := &oidc.IntrospectionResponse{}
	token := r.Data.IntrospectionRequest.Token
	issuer := zop.IssuerFromContext(ctx)
	info, err := s.checkAccessToken(ctx, t, token)
	switch {
	case err == nil:
		at := info.at
		if !privileged && !slices.Contains(at.Audience, caller.GetID()) {
			return tokenResponse(resp), nil
		}
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
		if info.user != nil {
			resp.Username = info.user.Username
		}
		return tokenResponse(resp), nil
	case !errors.Is(err, errInactive):
		return nil, storageError(ctx, "introspect", err)
	}
	now := s.now()
	rt, err := s.store.Tokens().RefreshToken(ctx, t.Name, hashToken(token), now)
	if errors.Is(err, storage.ErrNotFound) {
		return tokenResponse(resp), nil
	}
	if err != nil {
		return nil, storageError(ctx, "introspect", err)
	}
	if rt.UsedAt != nil || (!privileged && rt.ClientID != caller.GetID()) {
		return tokenResponse(resp), nil
	}
	if _, err := s.checkGrant(ctx, t, rt.GrantID, rt.ClientID, now); err != nil {
		if errors.Is(err, errInactive) {
			return tokenResponse(resp), nil
		}
		return nil, storageError(ctx, "introspect", err)
	}
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
	return tokenResponse(resp), nil
}

// invalidToken is RFC 6750 §3.1's answer to a bad bearer token.
func invalidToken() error {
	return zop.NewStatusError(&oidc.Error{ErrorType: "invalid_token", Description: "the access token is invalid, expired or revoked"}, http.StatusUnauthorized)
}

// UserInfo answers OIDC Core §5.3 from the user record, with the claims of
// the scopes the access token carries.
//
// The token comes in the Authorization header or, for POST, the form body
// (RFC 6750 §2.1, §2.2), never in the URL (§2.3: it ends up in logs). A
// store outage is a 503 temporarily_unavailable: a 401 would tell the
// resource server that a valid token was revoked.
func (p *protocolServer) UserInfo(ctx context.Context, r *zop.Request[oidc.UserInfoRequest]) (*zop.Response, error) {
	s := p.s
	t := tenantFromContext(ctx)
	if r.URL != nil && r.URL.Query().Has("access_token") {
		return nil, zop.NewStatusError(oidc.ErrInvalidRequest().WithDescription("access_token must not be sent in the URL"), http.StatusBadRequest)
	}
	info, err := s.checkAccessToken(ctx, t, r.Data.AccessToken)
	if err != nil && !errors.Is(err, errInactive) {
		return nil, storageError(ctx, "userinfo", err)
	}
	if err != nil || info.user == nil {
		return nil, invalidToken()
	}
	at, u := info.at, info.user
	if !slices.Contains(at.Scopes, oidc.ScopeOpenID) {
		return nil, zop.NewStatusError(&oidc.Error{ErrorType: "insufficient_scope", Description: "the access token lacks the openid scope"}, http.StatusForbidden)
	}
	claims := &oidc.UserInfo{}
	setUserClaims(claims, u, at.Scopes)
	claims.Claims = withEmailVerified(customClaims(t, u, at.Scopes, registry.ClaimTargetUserinfo), u, at.Scopes)
	return tokenResponse(claims), nil
}

package op

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"regexp"
	"slices"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/herald-idp/herald/op/registry"
	"github.com/herald-idp/herald/storage"
)

// protocolServer is zitadel's LegacyServer with the parts Herald must own
// overridden: client authentication, the three grants, introspection,
// userinfo and discovery. Request parsing, routing of the token endpoint by
// grant_type, JWKS and revocation stay with the library.
type protocolServer struct {
	*zop.LegacyServer
	s *Server
}

// noStore is set on every response that carries tokens (RFC 6749 §5.1).
func noStore() http.Header {
	return http.Header{"Cache-Control": {"no-store"}, "Pragma": {"no-cache"}}
}

func tokenResponse(v any) *zop.Response {
	return &zop.Response{Header: noStore(), Data: v}
}

// VerifyClient authenticates the client at the token, introspection and
// revocation endpoints. A confidential client must use exactly the method
// it registered (checklist D2); a public client must not send a secret.
func (p *protocolServer) VerifyClient(ctx context.Context, r *zop.Request[zop.ClientCredentials]) (zop.Client, error) {
	cc := r.Data
	if cc.ClientAssertion != "" || cc.ClientAssertionType != "" {
		return nil, zop.NewStatusError(oidc.ErrInvalidClient().WithDescription("client assertions are not supported"), http.StatusUnauthorized)
	}
	c, err := p.s.lookupClient(ctx, tenantFromContext(ctx), cc.ClientID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, invalidClient()
	}
	if err != nil {
		return nil, storageError(ctx, "client", err)
	}
	_, _, basic := basicAuth(r.Header)
	used := storage.AuthMethodNone
	switch {
	case basic:
		used = storage.AuthMethodBasic
	case cc.ClientSecret != "":
		used = storage.AuthMethodPost
	}
	if used != c.c.AuthMethod {
		return nil, invalidClient()
	}
	if !c.c.IsPublic() && !registry.VerifyClientSecret(cc.ClientSecret, c.c.SecretHash) {
		return nil, invalidClient()
	}
	return c, nil
}

func basicAuth(h http.Header) (string, string, bool) {
	r := http.Request{Header: h}
	return r.BasicAuth()
}

// CodeExchange redeems an authorization code (RFC 6749 §4.1.3). The code is
// consumed atomically before anything else, so of two concurrent
// redemptions exactly one can succeed; a replay revokes every token the
// first redemption issued (RFC 6749 §4.1.2, RFC 6819 §5.2.1.1).
func (p *protocolServer) CodeExchange(ctx context.Context, r *zop.ClientRequest[oidc.AccessTokenRequest]) (*zop.Response, error) {
	s := p.s
	c := r.Client.(*client)
	t := c.tenant // the request's tenant, which VerifyClient looked the client up in
	tenant := t.Name
	now := s.now()
	if r.Data.Code == "" {
		return nil, oidc.ErrInvalidRequest().WithDescription("code is required")
	}
	code, err := s.store.AuthCodes().ConsumeAuthCode(ctx, tenant, hashToken(r.Data.Code), now)
	if errors.Is(err, storage.ErrAlreadyUsed) && code != nil {
		slog.WarnContext(ctx, "authorization code replayed; revoking its grant", "tenant", tenant, "client_id", c.GetID())
		s.RecordAuthEvent(ctx, nil, AuthEvent{Event: storage.EventCodeReplay, UserID: code.UserID, ClientID: c.GetID(), Outcome: "denied", Reason: "grant_revoked"})
		if rerr := s.store.Tokens().RevokeGrant(ctx, tenant, code.GrantID); rerr != nil {
			return nil, storageError(ctx, "revoke grant", rerr)
		}
	}
	if err != nil {
		return nil, invalidGrant(ctx, "authorization code", err)
	}
	if code.ClientID != c.GetID() {
		return nil, oidc.ErrInvalidGrant().WithDescription("authorization code was issued to another client")
	}
	if r.Data.RedirectURI != code.RedirectURI {
		return nil, oidc.ErrInvalidGrant().WithDescription("redirect_uri does not match the authorization request")
	}
	if err := verifyPKCE(code.CodeChallenge, r.Data.CodeVerifier); err != nil {
		return nil, err
	}
	user, err := s.activeUser(ctx, tenant, code.UserID)
	if err != nil {
		return nil, err
	}
	g := &grant{
		tenant: t, issuer: zop.IssuerFromContext(ctx), client: c, grantID: code.GrantID, subject: code.UserID,
		sessionID: code.SessionID, scopes: code.Scopes, authTime: code.AuthTime, amr: code.AMR, nonce: code.Nonce,
	}
	s.prepareGrant(g)
	at := newAccessToken(g, tenant, now)
	var refreshToken string
	var rt *storage.RefreshToken
	// OIDC Core §11: refresh tokens only for offline_access, and only to
	// clients registered for the grant.
	if slices.Contains(g.scopes, oidc.ScopeOfflineAccess) && c.hasGrant(oidc.GrantTypeRefreshToken) {
		refreshToken, rt = newRefreshToken(g, tenant, now)
	}
	if err := s.store.Tokens().IssueTokens(ctx, at, rt); err != nil {
		return nil, storageError(ctx, "issue tokens", err)
	}
	resp, err := s.minter.tokenResponse(ctx, g, at, refreshToken, user, now)
	if err != nil {
		return nil, storageError(ctx, "mint tokens", err)
	}
	return tokenResponse(resp), nil
}

// codeVerifierPattern is RFC 7636 §4.1: 43-128 unreserved characters.
var codeVerifierPattern = regexp.MustCompile(`^[A-Za-z0-9._~-]{43,128}$`)

// verifyPKCE checks the code_verifier against the stored S256 challenge
// (RFC 7636 §4.6). A verifier without a challenge is a downgrade attempt and
// fails too (RFC 9700 §2.1.1). Only S256 challenges are ever stored.
func verifyPKCE(challenge, verifier string) error {
	switch {
	case challenge == "" && verifier == "":
		return nil
	case challenge == "":
		return oidc.ErrInvalidGrant().WithDescription("code_verifier sent but the authorization request had no code_challenge")
	case verifier == "":
		return oidc.ErrInvalidGrant().WithDescription("code_verifier is required")
	case !codeVerifierPattern.MatchString(verifier):
		return oidc.ErrInvalidGrant().WithDescription("code_verifier is malformed")
	}
	sum := sha256.Sum256([]byte(verifier))
	if subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(challenge)) != 1 {
		return oidc.ErrInvalidGrant().WithDescription("code_verifier does not match the code_challenge")
	}
	return nil
}

// activeUser loads the user a grant is for; a deleted or disabled user ends
// the grant.
func (s *Server) activeUser(ctx context.Context, tenant, id string) (*storage.User, error) {
	u, err := s.store.Users().User(ctx, tenant, id)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && u.Disabled) {
		return nil, oidc.ErrInvalidGrant().WithDescription("the user of this grant no longer exists or is disabled")
	}
	if err != nil {
		return nil, storageError(ctx, "user", err)
	}
	return u, nil
}

// RefreshToken redeems a refresh token (RFC 6749 §6). Public clients get a
// new refresh token each time and the old one is spent; presenting a spent
// one revokes the whole grant (RFC 9700 §4.14.2). Confidential clients
// authenticate on every use, so their refresh token is kept.
func (p *protocolServer) RefreshToken(ctx context.Context, r *zop.ClientRequest[oidc.RefreshTokenRequest]) (*zop.Response, error) {
	s := p.s
	c := r.Client.(*client)
	t := c.tenant // the request's tenant, which VerifyClient looked the client up in
	tenant := t.Name
	now := s.now()
	tokens := s.store.Tokens()
	old, err := tokens.RefreshToken(ctx, tenant, hashToken(r.Data.RefreshToken), now)
	if err != nil {
		return nil, invalidGrant(ctx, "refresh token", err)
	}
	if old.ClientID != c.GetID() {
		return nil, oidc.ErrInvalidGrant().WithDescription("refresh token was issued to another client")
	}
	if old.UsedAt != nil {
		return nil, p.refreshReuse(ctx, tenant, old)
	}
	scopes := old.Scopes
	if len(r.Data.Scopes) > 0 {
		// RFC 6749 §6: the new scope must not exceed the original grant.
		for _, sc := range r.Data.Scopes {
			if !slices.Contains(old.Scopes, sc) {
				return nil, oidc.ErrInvalidScope().WithDescription("scope exceeds the original grant")
			}
		}
		scopes = r.Data.Scopes
	}
	user, err := s.activeUser(ctx, tenant, old.UserID)
	if err != nil {
		return nil, err
	}
	g := &grant{
		tenant: t, issuer: zop.IssuerFromContext(ctx), client: c, grantID: old.GrantID, subject: old.UserID,
		sessionID: old.SessionID, scopes: scopes, authTime: old.AuthTime, amr: old.AMR,
	}
	s.prepareGrant(g)
	at := newAccessToken(g, tenant, now)
	refreshToken := r.Data.RefreshToken
	if c.c.IsPublic() {
		var rt *storage.RefreshToken
		refreshToken, rt = newRefreshToken(g, tenant, now)
		rt.Scopes = old.Scopes // a narrower request does not shrink the grant
		err = tokens.RotateRefreshToken(ctx, tenant, old.ID, now, at, rt)
		if errors.Is(err, storage.ErrAlreadyUsed) {
			return nil, p.refreshReuse(ctx, tenant, old)
		}
	} else {
		err = tokens.IssueTokens(ctx, at, nil)
	}
	if err != nil {
		return nil, storageError(ctx, "issue tokens", err)
	}
	resp, err := s.minter.tokenResponse(ctx, g, at, refreshToken, user, now)
	if err != nil {
		return nil, storageError(ctx, "mint tokens", err)
	}
	return tokenResponse(resp), nil
}

// refreshReuse handles a spent refresh token presented again: either an
// attacker or the victim holds a stolen copy, so the whole grant goes.
func (p *protocolServer) refreshReuse(ctx context.Context, tenant string, rt *storage.RefreshToken) error {
	slog.WarnContext(ctx, "refresh token reused; revoking its grant", "tenant", tenant, "client_id", rt.ClientID)
	p.s.RecordAuthEvent(ctx, nil, AuthEvent{Event: storage.EventRefreshReuse, UserID: rt.UserID, ClientID: rt.ClientID, Outcome: "denied", Reason: "grant_revoked"})
	if err := p.s.store.Tokens().RevokeGrant(ctx, tenant, rt.GrantID); err != nil {
		return storageError(ctx, "revoke grant", err)
	}
	return oidc.ErrInvalidGrant().WithDescription("refresh token is invalid, expired or was already used")
}

// ClientCredentialsExchange issues an access token to a confidential client
// acting on its own behalf (RFC 6749 §4.4). No ID token, no refresh token.
func (p *protocolServer) ClientCredentialsExchange(ctx context.Context, r *zop.ClientRequest[oidc.ClientCredentialsRequest]) (*zop.Response, error) {
	s := p.s
	c := r.Client.(*client)
	if c.c.IsPublic() {
		return nil, oidc.ErrUnauthorizedClient().WithDescription("public clients cannot use client_credentials")
	}
	var scopes []string
	for _, sc := range r.Data.Scope {
		// User-bound scopes mean nothing without a user.
		if sc == oidc.ScopeOpenID || sc == oidc.ScopeOfflineAccess || !c.IsScopeAllowed(sc) {
			return nil, oidc.ErrInvalidScope().WithDescription("scope %q is not allowed for client_credentials", sc)
		}
		if !slices.Contains(scopes, sc) {
			scopes = append(scopes, sc)
		}
	}
	now := s.now()
	t := c.tenant // the request's tenant, which VerifyClient looked the client up in
	g := &grant{tenant: t, issuer: zop.IssuerFromContext(ctx), client: c, subject: c.GetID(), scopes: scopes}
	s.prepareGrant(g)
	at := newAccessToken(g, t.Name, now)
	if err := s.store.Tokens().IssueTokens(ctx, at, nil); err != nil {
		return nil, storageError(ctx, "issue tokens", err)
	}
	resp, err := s.minter.tokenResponse(ctx, g, at, "", nil, now)
	if err != nil {
		return nil, storageError(ctx, "mint tokens", err)
	}
	return tokenResponse(resp), nil
}

// JWTProfile (RFC 7523 grant) is not offered.
func (p *protocolServer) JWTProfile(ctx context.Context, r *zop.Request[oidc.JWTProfileGrantRequest]) (*zop.Response, error) {
	return nil, oidc.ErrUnsupportedGrantType().WithDescription("grant type not supported")
}

// TokenExchange (RFC 8693) is not offered.
func (p *protocolServer) TokenExchange(ctx context.Context, r *zop.ClientRequest[oidc.TokenExchangeRequest]) (*zop.Response, error) {
	return nil, oidc.ErrUnsupportedGrantType().WithDescription("grant type not supported")
}

// DeviceToken (RFC 8628) is not offered.
func (p *protocolServer) DeviceToken(ctx context.Context, r *zop.ClientRequest[oidc.DeviceAccessTokenRequest]) (*zop.Response, error) {
	return nil, oidc.ErrUnsupportedGrantType().WithDescription("grant type not supported")
}

// AdminAudience is the aud value of tokens for the admin API.
func (s *Server) AdminAudience() string { return s.cfg.PublicURL + "/admin/v1" }

// prepareGrant completes a grant with what depends on its tenant.
func (s *Server) prepareGrant(g *grant) {
	// The admin API (op/admin) accepts tokens of the system tenant that
	// carry the admin scope and name it as audience.
	if g.tenant != nil && g.tenant.Name == registry.SystemTenant && slices.Contains(g.scopes, registry.AdminScope) {
		g.audience = []string{s.AdminAudience()}
	}
}

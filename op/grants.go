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
	"time"

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

// VerifyClient authenticates the client at the token and revocation
// endpoints (clients.go authenticateClient): a client with a secret may send
// it by Basic or in the body, whichever it registered (checklist D2); a
// public client must not send one; a request may use only one method.
func (p *protocolServer) VerifyClient(ctx context.Context, r *zop.Request[zop.ClientCredentials]) (zop.Client, error) {
	cc := r.Data
	if cc.ClientAssertion != "" || cc.ClientAssertionType != "" {
		return nil, zop.NewStatusError(oidc.ErrInvalidClient().WithDescription("client assertions are not supported"), http.StatusUnauthorized)
	}
	presented, err := clientCredentials(r.Header, r.Form, cc.ClientID, cc.ClientSecret)
	if err != nil {
		return nil, err
	}
	return p.s.authenticateClient(ctx, tenantFromContext(ctx), presented)
}

// CodeExchange redeems an authorization code (RFC 6749 §4.1.3). Everything
// the redeeming party must prove — the client it was issued to, the
// redirect_uri, the PKCE verifier and the issuer it was issued at — is
// checked on the unconsumed code first: a wrong party gets invalid_grant,
// cannot burn the code and learns nothing about it. Then the code is
// consumed atomically, so of two concurrent redemptions exactly one wins;
// the loser (a replay) revokes the grant (RFC 6749 §4.1.2, RFC 6819
// §5.2.1.1), which ends the winner's tokens even if they are minted after
// the revocation (the grant is created under the code's grant ID, and a
// revoked ID cannot be created; tokens are checked against their grant).
func (p *protocolServer) CodeExchange(ctx context.Context, r *zop.ClientRequest[oidc.AccessTokenRequest]) (*zop.Response, error) {
	s := p.s
	c := r.Client.(*client)
	t := c.tenant // the request's tenant, which VerifyClient looked the client up in
	tenant := t.Name
	issuer := zop.IssuerFromContext(ctx)
	now := s.now()
	if r.Data.Code == "" {
		return nil, oidc.ErrInvalidRequest().WithDescription("code is required")
	}
	codeHash := hashToken(r.Data.Code)
	code, err := s.store.AuthCodes().AuthCode(ctx, tenant, codeHash, now)
	if err != nil {
		return nil, invalidGrant(ctx, "authorization code", err)
	}
	// One answer for every mismatch, the same as for an unknown code.
	if code.ClientID != c.GetID() || code.Issuer != issuer || r.Data.RedirectURI != code.RedirectURI ||
		verifyPKCE(code.CodeChallenge, r.Data.CodeVerifier) != nil {
		return nil, invalidGrant(ctx, "authorization code", storage.ErrNotFound)
	}
	code, err = s.store.AuthCodes().ConsumeAuthCode(ctx, tenant, codeHash, now)
	if errors.Is(err, storage.ErrAlreadyUsed) && code != nil {
		slog.WarnContext(ctx, "authorization code replayed; revoking its grant", "tenant", tenant, "client_id", c.GetID())
		s.RecordAuthEvent(ctx, nil, AuthEvent{Event: storage.EventCodeReplay, UserID: code.UserID, ClientID: c.GetID(), Outcome: "denied", Reason: "grant_revoked"})
		if rerr := s.store.Grants().RevokeGrant(ctx, tenant, code.GrantID, now); rerr != nil {
			return nil, storageError(ctx, "revoke grant", rerr)
		}
	}
	if err != nil {
		return nil, invalidGrant(ctx, "authorization code", err)
	}
	user, err := s.activeUser(ctx, tenant, code.UserID)
	if err != nil {
		return nil, err
	}
	g := &grant{
		grantType: string(oidc.GrantTypeCode),
		tenant:    t, issuer: issuer, client: c, grantID: code.GrantID, subject: code.UserID, user: true,
		sessionID: code.SessionID, scopes: code.Scopes, authTime: code.AuthTime, amr: code.AMR, nonce: code.Nonce,
	}
	s.prepareGrant(g)
	// OIDC Core §11: offline_access refresh tokens only to clients
	// registered for the grant; they survive logout. A public client
	// registered for the grant also gets a refresh token without
	// offline_access, bound to the SSO session (docs/tokens.md).
	refresh := c.hasGrant(oidc.GrantTypeRefreshToken)
	offline := refresh && slices.Contains(g.scopes, oidc.ScopeOfflineAccess)
	sessionRefresh := refresh && !offline && c.c.IsPublic() && code.SessionID != ""
	sg := &storage.Grant{
		TenantID: tenant, ID: code.GrantID, Kind: storage.GrantAuthorizationCode,
		ClientID: c.GetID(), ClientUID: c.c.UID, UserID: code.UserID, Issuer: issuer,
		Scopes: code.Scopes, CreatedAt: now, ExpiresAt: now.Add(g.accessTokenLifetime()),
	}
	if !offline {
		sg.SessionID = code.SessionID // logout ends the grant
	}
	if offline || sessionRefresh {
		// The family's absolute lifetime: rotation never extends it.
		sg.ExpiresAt = now.Add(c.refreshTokenLifetime())
	}
	if err := s.store.Grants().CreateGrant(ctx, sg); err != nil {
		if errors.Is(err, storage.ErrAlreadyExists) {
			// A replay revoked the grant before it was created.
			return nil, invalidGrant(ctx, "authorization code", storage.ErrAlreadyUsed)
		}
		return nil, storageError(ctx, "create grant", err)
	}
	access := newAccessToken(g, tenant, now)
	var refreshToken string
	var rt *storage.RefreshToken
	if offline || sessionRefresh {
		refreshToken, rt = newRefreshToken(g, tenant, now, sg.ExpiresAt)
	}
	if err := s.storeTokens(ctx, access, rt); err != nil {
		return nil, err
	}
	if s.rotatesRefreshTokens(c) {
		s.issuedRefresh.remember(rt) // its first redemption here skips a read
	}
	resp, err := s.minter.tokenResponse(ctx, g, access, refreshToken, user, now)
	if err != nil {
		return nil, storageError(ctx, "mint tokens", err)
	}
	return tokenResponse(resp), nil
}

// storeTokens stores what must be stored of newly minted tokens: opaque
// access tokens (by hash) and refresh tokens. A JWT access token alone is
// not written anywhere.
func (s *Server) storeTokens(ctx context.Context, at *accessToken, rt *storage.RefreshToken) error {
	var rec *storage.AccessToken
	if at.opaque != "" {
		rec = at.rec
	}
	if rec == nil && rt == nil {
		return nil
	}
	err := s.store.Tokens().IssueTokens(ctx, rec, rt)
	if errors.Is(err, storage.ErrRevoked) {
		return invalidGrant(ctx, "grant", storage.ErrNotFound)
	}
	if err != nil {
		return storageError(ctx, "issue tokens", err)
	}
	return nil
}

// rotatesRefreshTokens reports whether c's refresh tokens are replaced at
// every use: a public client's always, a confidential client's when
// Config.RotateConfidentialRefreshTokens says so.
func (s *Server) rotatesRefreshTokens(c *client) bool {
	return c.c.IsPublic() || s.cfg.RotateConfidentialRefreshTokens
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
	if err != nil || u.Disabled {
		return nil, grantUserError(ctx, err)
	}
	return u, nil
}

// RefreshToken redeems a refresh token (RFC 6749 §6). The token is found
// only while its grant is live; it must have been issued to this client
// registration (a client ID registered again inherits nothing) at this
// issuer, and a session-bound grant needs its SSO session. Public clients
// get a new refresh token each time and the old one is spent; presenting a
// spent one revokes the whole grant (RFC 9700 §4.14.2), unless it comes
// within the configured reuse grace window. Confidential clients
// authenticate on every use, so their refresh token is kept unless
// Config.RotateConfidentialRefreshTokens is set.
func (p *protocolServer) RefreshToken(ctx context.Context, r *zop.ClientRequest[oidc.RefreshTokenRequest]) (*zop.Response, error) {
	s := p.s
	c := r.Client.(*client)
	t := c.tenant // the request's tenant, which VerifyClient looked the client up in
	tenant := t.Name
	issuer := zop.IssuerFromContext(ctx)
	now := s.now()
	tokens := s.store.Tokens()
	id := hashToken(r.Data.RefreshToken)
	// A token this replica minted need not be read back when it is about
	// to be rotated (refreshcache.go): the rotation checks that it is
	// unused and its grant live. A token kept across uses is read, so that
	// storage vouches for its grant before anything is minted from it.
	rotate := s.rotatesRefreshTokens(c)
	var old *storage.RefreshToken
	if rotate {
		old, _ = s.issuedRefresh.lookup(tenant, id)
		s.issuedRefresh.forget(tenant, id) // presented: never worth keeping
	}
	if old == nil || !now.Before(old.ExpiresAt) {
		var err error
		if old, err = tokens.RefreshToken(ctx, tenant, id, now); err != nil {
			return nil, invalidGrant(ctx, "refresh token", err)
		}
	}
	if old.ClientID != c.GetID() {
		return nil, invalidGrant(ctx, "refresh token", storage.ErrNotFound)
	}
	// The grant and user may come from the grant-state cache
	// (grantcache.go): what is read of the grant never changes but its
	// revocation, and RotateRefreshToken and IssueTokens below check that
	// in their own transaction; a user disabled or deleted has had every
	// grant revoked.
	st, err := s.grantState(ctx, tenant, old.GrantID)
	if errors.Is(err, errInactive) {
		err = storage.ErrNotFound
	}
	if err != nil {
		return nil, invalidGrant(ctx, "refresh token", err)
	}
	sg := st.grant
	if !sg.Live(now) || sg.ClientUID != c.c.UID || sg.Issuer != issuer {
		return nil, invalidGrant(ctx, "refresh token", storage.ErrNotFound)
	}
	if sg.SessionID != "" {
		// Session-bound: ends with the SSO session (logout, idle or
		// absolute expiry).
		if _, err := s.store.Sessions().Session(ctx, tenant, sg.SessionID, now); err != nil {
			if !errors.Is(err, storage.ErrNotFound) {
				return nil, storageError(ctx, "session", err)
			}
			if rerr := s.store.Grants().RevokeGrant(ctx, tenant, sg.ID, now); rerr != nil {
				return nil, storageError(ctx, "revoke grant", rerr)
			}
			return nil, invalidGrant(ctx, "refresh token", storage.ErrNotFound)
		}
	}
	graced := false
	if old.UsedAt != nil {
		if !p.withinReuseGrace(old, now) {
			return nil, p.refreshReuse(ctx, tenant, old, now)
		}
		graced = true // e.g. two tabs refreshing at once
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
	user := st.user
	if user == nil || user.Disabled || user.ID != old.UserID {
		return nil, grantUserError(ctx, nil)
	}
	g := &grant{
		grantType: string(oidc.GrantTypeRefreshToken),
		tenant:    t, issuer: issuer, client: c, grantID: old.GrantID, subject: old.UserID, user: true,
		sessionID: old.SessionID, scopes: scopes, authTime: old.AuthTime, amr: old.AMR,
	}
	s.prepareGrant(g)
	access := newAccessToken(g, tenant, now)
	if access.rec.ExpiresAt.After(sg.ExpiresAt) {
		access.rec.ExpiresAt = sg.ExpiresAt
	}
	var rec *storage.AccessToken
	if access.opaque != "" {
		rec = access.rec
	}
	refreshToken := r.Data.RefreshToken
	g.keptRefresh = !rotate
	switch {
	case rotate:
		var rt *storage.RefreshToken
		refreshToken, rt = newRefreshToken(g, tenant, now, sg.ExpiresAt)
		rt.Scopes = old.Scopes // a narrower request does not shrink the grant
		if graced {
			err = tokens.IssueTokens(ctx, rec, rt)
		} else {
			err = tokens.RotateRefreshToken(ctx, tenant, old.ID, now, rec, rt)
		}
		if errors.Is(err, storage.ErrAlreadyUsed) {
			// Used since it was read (or remembered): by a refresh
			// racing this one — a second tab, within the grace window if
			// there is one — or by whoever else holds it.
			used, rerr := tokens.RefreshToken(ctx, tenant, old.ID, now)
			if rerr != nil {
				return nil, invalidGrant(ctx, "refresh token", rerr)
			}
			if !p.withinReuseGrace(used, now) {
				return nil, p.refreshReuse(ctx, tenant, used, now)
			}
			err = tokens.IssueTokens(ctx, rec, rt)
		}
		if err == nil {
			s.issuedRefresh.remember(rt)
		}
	case rec != nil:
		err = tokens.IssueTokens(ctx, rec, nil)
	}
	if errors.Is(err, storage.ErrRevoked) || errors.Is(err, storage.ErrNotFound) {
		return nil, invalidGrant(ctx, "refresh token", storage.ErrNotFound)
	}
	if err != nil {
		return nil, storageError(ctx, "issue tokens", err)
	}
	resp, err := s.minter.tokenResponse(ctx, g, access, refreshToken, user, now)
	if err != nil {
		return nil, storageError(ctx, "mint tokens", err)
	}
	return tokenResponse(resp), nil
}

// withinReuseGrace reports whether rt, spent, was spent so recently that
// presenting it again is a second tab rather than a replay
// (Lifetimes.RefreshReuseGrace; 0, the default, allows none).
func (p *protocolServer) withinReuseGrace(rt *storage.RefreshToken, now time.Time) bool {
	grace := p.s.cfg.Lifetimes.RefreshReuseGrace
	return rt.UsedAt != nil && grace > 0 && now.Sub(*rt.UsedAt) <= grace
}

// refreshReuse handles a spent refresh token presented again: either an
// attacker or the victim holds a stolen copy, so the whole grant goes.
func (p *protocolServer) refreshReuse(ctx context.Context, tenant string, rt *storage.RefreshToken, now time.Time) error {
	slog.WarnContext(ctx, "refresh token reused; revoking its grant", "tenant", tenant, "client_id", rt.ClientID)
	p.s.RecordAuthEvent(ctx, nil, AuthEvent{Event: storage.EventRefreshReuse, UserID: rt.UserID, ClientID: rt.ClientID, Outcome: "denied", Reason: "grant_revoked"})
	if err := p.s.store.Grants().RevokeGrant(ctx, tenant, rt.GrantID, now); err != nil {
		return storageError(ctx, "revoke grant", err)
	}
	return oidc.ErrInvalidGrant().WithDescription("refresh token is invalid, expired or was already used")
}

// ClientCredentialsExchange issues an access token to a confidential client
// acting on its own behalf (RFC 6749 §4.4). No ID token, no refresh token.
// Its tokens belong to the client registration's own grant
// (clientCredentialsGrant), so deleting the client or revoking one of its
// tokens ends them all; a JWT costs no write.
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
	grantID, err := s.clientCredentialsGrant(ctx, c, now)
	if err != nil {
		return nil, storageError(ctx, "client grant", err)
	}
	g := &grant{tenant: t, issuer: zop.IssuerFromContext(ctx), client: c, grantID: grantID, subject: c.GetID(), scopes: scopes,
		grantType: string(oidc.GrantTypeClientCredentials)}
	s.prepareGrant(g)
	access := newAccessToken(g, t.Name, now)
	if err := s.storeTokens(ctx, access, nil); err != nil {
		return nil, err
	}
	resp, err := s.minter.tokenResponse(ctx, g, access, "", nil, now)
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

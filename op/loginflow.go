package op

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/herald-idp/herald/op/login"
	"github.com/herald-idp/herald/storage"
)

// loginFlow is the one adapter between the browser flow (package
// op/login) and the provider: it implements login.Provider with the
// server's tenant resolution, client cache, token machinery and the
// library's logout validation. When op's caches or its zitadel storage
// adapter change shape, this file is the only one op/login depends on.
type loginFlow struct{ s *Server }

var _ login.Provider = loginFlow{}

func (f loginFlow) Tenant(ctx context.Context) login.Tenant {
	rt := resolvedFromContext(ctx)
	if rt == nil {
		return login.Tenant{}
	}
	return login.Tenant{Tenant: rt.tenant, Issuer: rt.issuer, CookiePath: rt.cookiePath}
}

func (f loginFlow) Client(ctx context.Context, id string) (*storage.Client, error) {
	c, err := f.s.lookupClient(ctx, tenantFromContext(ctx), id)
	if err != nil {
		return nil, err
	}
	return c.c, nil
}

func (f loginFlow) ScopeAllowed(c *storage.Client, scope string) bool { return scopeAllowed(c, scope) }

func (f loginFlow) SessionLifetimes(ctx context.Context) (idle, absolute time.Duration) {
	l := tenantLifetimes(f.s.cfg.Lifetimes, tenantFromContext(ctx))
	return l.SessionIdle, l.SessionAbsolute
}

func (f loginFlow) IDTokenHintSubject(ctx context.Context, hint string) (string, error) {
	claims, _, err := f.idTokenHint(ctx, hint)
	if err != nil {
		return "", err
	}
	return claims.GetSubject(), nil
}

// errNotAnIDToken: a hint signed by the tenant that is not an ID token.
var errNotAnIDToken = errors.New("id_token_hint is not an ID token")

// idTokenHint verifies an id_token_hint: signed by this tenant's keys, its
// issuer, and an ID token — not an access token, which the same keys sign
// (typ at+jwt, RFC 9068 §2.1; a jti naming a grant).
// Expired hints are accepted (OIDC Core §3.1.2.1: the hint is about who).
func (f loginFlow) idTokenHint(ctx context.Context, hint string) (claims *oidc.IDTokenClaims, expired bool, err error) {
	claims, err = zop.VerifyIDTokenHint[*oidc.IDTokenClaims](ctx, hint, f.s.provider.IDTokenHintVerifier(ctx))
	expired = errors.As(err, &zop.IDTokenHintExpiredError{})
	if err != nil && !expired {
		return nil, false, err
	}
	if jwtType(hint) != typIDToken || claims.JWTID != "" {
		return nil, false, errNotAnIDToken
	}
	return claims, expired, nil
}

// jwtType returns the typ header of a compact JWS (already verified by the
// caller: the protected header is signed).
func jwtType(token string) string {
	header, _, _ := strings.Cut(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(header)
	if err != nil {
		return ""
	}
	var h struct {
		Typ string `json:"typ"`
	}
	if json.Unmarshal(raw, &h) != nil {
		return ""
	}
	return h.Typ
}

// IssueCode stores only the code's hash, bound to the issuer the request
// was made at (a code from …/t/acme is not redeemed at the tenant's own
// hostname); grants.go redeems it.
func (f loginFlow) IssueCode(ctx context.Context, ar *storage.AuthRequest) (string, error) {
	now := f.s.now()
	code := randomToken(32)
	ac := &storage.AuthCode{
		TenantID:            ar.TenantID,
		CodeHash:            hashToken(code),
		GrantID:             randomToken(16),
		Issuer:              f.Tenant(ctx).Issuer,
		ClientID:            ar.ClientID,
		RedirectURI:         ar.RedirectURI,
		UserID:              ar.UserID,
		SessionID:           ar.SessionID,
		Scopes:              ar.Scopes,
		Nonce:               ar.Nonce,
		CodeChallenge:       ar.CodeChallenge,
		CodeChallengeMethod: ar.CodeChallengeMethod,
		AuthTime:            ar.AuthTime,
		AMR:                 ar.AMR,
		CreatedAt:           now,
		ExpiresAt:           now.Add(f.s.cfg.Lifetimes.AuthCode),
	}
	if err := f.s.store.AuthCodes().CreateAuthCode(ctx, ac); err != nil {
		return "", err
	}
	return code, nil
}

// ValidateEndSession lets the library check the id_token_hint and the
// post_logout_redirect_uri. Its descriptions (other than server_error's)
// are meant for the user and may be shown.
func (f loginFlow) ValidateEndSession(ctx context.Context, req login.EndSessionRequest) (login.EndSession, error) {
	session, err := zop.ValidateEndSessionRequest(ctx, &oidc.EndSessionRequest{
		IdTokenHint:           req.IDTokenHint,
		ClientID:              req.ClientID,
		PostLogoutRedirectURI: req.PostLogoutRedirectURI,
		State:                 req.State,
		LogoutHint:            req.LogoutHint,
	}, f.s.provider)
	if err != nil {
		var oe *oidc.Error
		if errors.As(err, &oe) && oe.ErrorType != oidc.ServerError && oe.Description != "" {
			return login.EndSession{}, &login.RejectedError{Description: oe.Description}
		}
		return login.EndSession{}, err
	}
	out := login.EndSession{ClientID: session.ClientID, RedirectURI: session.RedirectURI}
	if req.IDTokenHint != "" {
		claims, expired, err := f.idTokenHint(ctx, req.IDTokenHint)
		if err != nil {
			return login.EndSession{}, &login.RejectedError{Description: "id_token_hint is not an ID token of this issuer"}
		}
		// An expired hint still says who, but not that this session's
		// relying party sent the user here now: ask.
		if sess := req.Session; sess != nil && !expired && claims.Subject == sess.UserID &&
			(claims.SessionID == "" || claims.SessionID == publicSessionID(sess.ID)) {
			out.HintMatchesSession = true
		}
	}
	return out, nil
}

func (f loginFlow) RequestID(ctx context.Context) string { return requestIDFromContext(ctx) }

func (f loginFlow) ClientAddress(r *http.Request) netip.Addr { return f.s.clientAddress(r) }

func (f loginFlow) RecordAuthEvent(r *http.Request, e login.AuthEvent) {
	f.s.RecordAuthEvent(r.Context(), r, e)
}

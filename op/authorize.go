package op

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/herald-idp/herald/storage"
)

// Herald serves the authorization endpoint itself rather than through the
// library: it must compare redirect URIs byte for byte, accept only S256
// PKCE, add `iss` to every response (RFC 9207), show an HTML page when the
// redirect URI cannot be trusted, and decide prompt / max_age / SSO.

// maxParamLength caps any single authorization parameter.
const maxParamLength = 2048

var codeChallengePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// singleParams may appear at most once (RFC 6749 §3.1).
var singleParams = []string{"client_id", "redirect_uri", "response_type", "response_mode", "scope", "state",
	"nonce", "code_challenge", "code_challenge_method", "prompt", "max_age", "id_token_hint", "login_hint"}

// authError is an error to send back to the client's (verified) redirect URI.
type authError struct {
	code, description string
}

func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "Invalid request", "The authorization request could not be read.")
		return
	}
	for _, p := range singleParams {
		if len(r.Form[p]) > 1 {
			s.errorPage(w, r, http.StatusBadRequest, "Invalid request", "The parameter "+p+" was sent more than once.")
			return
		}
		if len(r.Form.Get(p)) > maxParamLength {
			s.errorPage(w, r, http.StatusBadRequest, "Invalid request", "The parameter "+p+" is too long.")
			return
		}
	}
	c, err := s.storage.client(ctx, r.Form.Get("client_id"))
	if errors.Is(err, storage.ErrNotFound) {
		s.errorPage(w, r, http.StatusBadRequest, "Unknown application", "The application that sent you here is not registered.")
		return
	}
	if err != nil {
		slog.ErrorContext(ctx, "authorize: load client", "error", err)
		s.errorPage(w, r, http.StatusServiceUnavailable, "Please try again", "The sign-in service is temporarily unavailable.")
		return
	}
	redirectURI := r.Form.Get("redirect_uri")
	if !redirectURIRegistered(c.c, redirectURI) {
		// RFC 6749 §4.1.2.1 / RFC 9700 §4.11.2: never redirect to an
		// unverified URI.
		s.errorPage(w, r, http.StatusBadRequest, "Invalid redirect URI",
			"The application sent you to a redirect address it has not registered.")
		return
	}
	ar, aerr := s.parseAuthRequest(r, c)
	if aerr != nil {
		s.redirectError(w, r, redirectURI, r.Form.Get("state"), aerr)
		return
	}
	if err := s.store.AuthRequests().CreateAuthRequest(ctx, ar); err != nil {
		slog.ErrorContext(ctx, "authorize: store request", "error", err)
		s.redirectError(w, r, redirectURI, ar.State, &authError{temporarilyUnavailable, "try again later"})
		return
	}
	s.continueAuthorization(w, r, ar, c)
}

// redirectURIRegistered compares the raw string exactly (checklist A1). The
// only latitude is the port of a loopback redirect of a native client
// (RFC 8252 §7.3).
func redirectURIRegistered(c *storage.Client, uri string) bool {
	if uri == "" {
		return false
	}
	if slices.Contains(c.RedirectURIs, uri) {
		return true
	}
	if c.ApplicationType != storage.AppTypeNative {
		return false
	}
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "http" || (u.Hostname() != "127.0.0.1" && u.Hostname() != "::1") {
		return false
	}
	for _, reg := range c.RedirectURIs {
		ru, err := url.Parse(reg)
		if err == nil && ru.Scheme == u.Scheme && ru.Hostname() == u.Hostname() &&
			ru.EscapedPath() == u.EscapedPath() && ru.RawQuery == u.RawQuery && u.User == nil && u.Fragment == "" {
			return true
		}
	}
	return false
}

// parseAuthRequest validates everything after the redirect URI; its
// errors go back to the client.
func (s *Server) parseAuthRequest(r *http.Request, c *client) (*storage.AuthRequest, *authError) {
	f := r.Form
	if f.Get("request") != "" {
		return nil, &authError{"request_not_supported", "request objects are not supported"}
	}
	if f.Get("request_uri") != "" {
		return nil, &authError{"request_uri_not_supported", "request_uri is not supported"}
	}
	if rt := f.Get("response_type"); rt != "code" {
		return nil, &authError{"unsupported_response_type", "only response_type=code is supported"}
	}
	if rm := f.Get("response_mode"); rm != "" && rm != "query" {
		return nil, &authError{"invalid_request", "only response_mode=query is supported"}
	}
	if !c.hasGrant(oidc.GrantTypeCode) {
		return nil, &authError{"unauthorized_client", "the client may not use the authorization code grant"}
	}
	var scopes []string
	for _, sc := range strings.Fields(f.Get("scope")) {
		if !c.IsScopeAllowed(sc) {
			return nil, &authError{"invalid_scope", "scope " + strconv.Quote(sc) + " is not allowed"}
		}
		if !slices.Contains(scopes, sc) {
			scopes = append(scopes, sc)
		}
	}
	if len(scopes) == 0 {
		return nil, &authError{"invalid_scope", "scope is required"}
	}
	challenge, method := f.Get("code_challenge"), f.Get("code_challenge_method")
	switch {
	case challenge == "" && method != "":
		return nil, &authError{"invalid_request", "code_challenge_method without code_challenge"}
	case challenge == "" && c.c.IsPublic():
		return nil, &authError{"invalid_request", "PKCE is required: send code_challenge with code_challenge_method=S256"}
	case challenge != "" && method != "S256":
		// RFC 7636 §4.3 makes an absent method mean plain; Herald accepts
		// only S256 (RFC 9700 §2.1.1).
		return nil, &authError{"invalid_request", "code_challenge_method must be S256"}
	case challenge != "" && !codeChallengePattern.MatchString(challenge):
		return nil, &authError{"invalid_request", "code_challenge must be 43 base64url characters"}
	}
	prompt := strings.Fields(f.Get("prompt"))
	for _, p := range prompt {
		if !slices.Contains([]string{"none", "login", "consent", "select_account"}, p) {
			return nil, &authError{"invalid_request", "unsupported prompt value " + strconv.Quote(p)}
		}
	}
	if slices.Contains(prompt, "none") && len(prompt) > 1 {
		return nil, &authError{"invalid_request", "prompt=none cannot be combined with other values"}
	}
	var maxAge *int64
	if v := f.Get("max_age"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return nil, &authError{"invalid_request", "max_age must be a non-negative integer"}
		}
		maxAge = &n
	}
	now := s.now()
	ar := &storage.AuthRequest{
		TenantID:            tenantName(r.Context()),
		ID:                  randomToken(16),
		ClientID:            c.GetID(),
		RedirectURI:         f.Get("redirect_uri"),
		Scopes:              scopes,
		State:               f.Get("state"),
		Nonce:               f.Get("nonce"),
		ResponseType:        "code",
		ResponseMode:        "query",
		CodeChallenge:       challenge,
		CodeChallengeMethod: method,
		Prompt:              prompt,
		MaxAge:              maxAge,
		LoginHint:           f.Get("login_hint"),
		CreatedAt:           now,
		ExpiresAt:           now.Add(s.cfg.Lifetimes.AuthRequest),
	}
	if hint := f.Get("id_token_hint"); hint != "" {
		claims, err := zop.VerifyIDTokenHint[*oidc.IDTokenClaims](r.Context(), hint, s.provider.IDTokenHintVerifier(r.Context()))
		if err != nil && !errors.As(err, &zop.IDTokenHintExpiredError{}) {
			return nil, &authError{"invalid_request", "id_token_hint is invalid"}
		}
		ar.HintSubject = claims.GetSubject()
	}
	return ar, nil
}

// continueAuthorization moves an authorization request to its next step:
// the login page, the consent page, or the code. It is called after
// /authorize, after login and after consent.
func (s *Server) continueAuthorization(w http.ResponseWriter, r *http.Request, ar *storage.AuthRequest, c *client) {
	ctx := r.Context()
	now := s.now()
	if ar.UserID == "" {
		sess := s.currentSession(r)
		reuse := sess != nil && !slices.Contains(ar.Prompt, "login") && !slices.Contains(ar.Prompt, "select_account") &&
			satisfiesMaxAge(ar.MaxAge, sess.AuthTime, now) && (ar.HintSubject == "" || ar.HintSubject == sess.UserID)
		if reuse {
			if u, err := s.store.Users().User(ctx, ar.TenantID, sess.UserID); err != nil || u.Disabled {
				reuse = false
			}
		}
		switch {
		case reuse:
			ar.UserID, ar.SessionID, ar.AuthTime, ar.AMR = sess.UserID, sess.ID, sess.AuthTime, sess.AMR
		case slices.Contains(ar.Prompt, "none"):
			// OIDC Core §3.1.2.6: no UI, tell the client.
			s.finishWithError(w, r, ar, &authError{"login_required", "the user is not signed in"})
			return
		default:
			http.Redirect(w, r, s.tenantURL(ctx, pathLogin)+"?auth_request_id="+url.QueryEscape(ar.ID), http.StatusSeeOther)
			return
		}
	}
	needsConsent, err := s.needsConsent(ctx, ar, c)
	if err != nil {
		slog.ErrorContext(ctx, "authorize: consent lookup", "error", err)
		s.finishWithError(w, r, ar, &authError{temporarilyUnavailable, "try again later"})
		return
	}
	if needsConsent {
		if slices.Contains(ar.Prompt, "none") {
			s.finishWithError(w, r, ar, &authError{"consent_required", "the user has not consented"})
			return
		}
		if err := s.saveAuthenticated(ctx, ar); err != nil {
			s.finishWithError(w, r, ar, &authError{temporarilyUnavailable, "try again later"})
			return
		}
		http.Redirect(w, r, s.tenantURL(ctx, pathConsent)+"?auth_request_id="+url.QueryEscape(ar.ID), http.StatusSeeOther)
		return
	}
	s.issueCode(w, r, ar)
}

// saveAuthenticated stores who the request was authenticated as, so the
// consent step can continue from it.
func (s *Server) saveAuthenticated(ctx context.Context, ar *storage.AuthRequest) error {
	_, err := s.store.AuthRequests().UpdateAuthRequest(ctx, ar.TenantID, ar.ID, func(stored *storage.AuthRequest) error {
		stored.UserID, stored.SessionID, stored.AuthTime, stored.AMR = ar.UserID, ar.SessionID, ar.AuthTime, ar.AMR
		return nil
	})
	if err != nil {
		slog.ErrorContext(ctx, "authorize: save request", "error", err)
	}
	return err
}

// needsConsent: first-party clients never ask; others ask on prompt=consent
// or when the user has not granted every requested scope before.
func (s *Server) needsConsent(ctx context.Context, ar *storage.AuthRequest, c *client) (bool, error) {
	if c.c.FirstParty {
		return false, nil
	}
	if slices.Contains(ar.Prompt, "consent") {
		return true, nil
	}
	consent, err := s.store.Consents().Consent(ctx, ar.TenantID, ar.UserID, ar.ClientID)
	if errors.Is(err, storage.ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	for _, sc := range ar.Scopes {
		if !slices.Contains(consent.Scopes, sc) {
			return true, nil
		}
	}
	return false, nil
}

// issueCode ends a successful authorization: it stores a single-use code
// (only its hash) and sends the browser back to the client.
func (s *Server) issueCode(w http.ResponseWriter, r *http.Request, ar *storage.AuthRequest) {
	ctx := r.Context()
	now := s.now()
	code := randomToken(32)
	ac := &storage.AuthCode{
		TenantID:            ar.TenantID,
		CodeHash:            hashToken(code),
		GrantID:             randomToken(16),
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
		ExpiresAt:           now.Add(s.cfg.Lifetimes.AuthCode),
	}
	if err := s.store.AuthCodes().CreateAuthCode(ctx, ac); err != nil {
		slog.ErrorContext(ctx, "authorize: store code", "error", err)
		s.finishWithError(w, r, ar, &authError{temporarilyUnavailable, "try again later"})
		return
	}
	s.deleteAuthRequest(ctx, ar)
	s.redirectToClient(w, r, ar.RedirectURI, url.Values{"code": {code}}, ar.State)
}

func (s *Server) deleteAuthRequest(ctx context.Context, ar *storage.AuthRequest) {
	if err := s.store.AuthRequests().DeleteAuthRequest(ctx, ar.TenantID, ar.ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
		slog.ErrorContext(ctx, "authorize: delete request", "error", err)
	}
}

// finishWithError ends an authorization request with an error sent to the
// client.
func (s *Server) finishWithError(w http.ResponseWriter, r *http.Request, ar *storage.AuthRequest, e *authError) {
	s.deleteAuthRequest(r.Context(), ar)
	s.redirectError(w, r, ar.RedirectURI, ar.State, e)
}

func (s *Server) redirectError(w http.ResponseWriter, r *http.Request, redirectURI, state string, e *authError) {
	s.redirectToClient(w, r, redirectURI, url.Values{"error": {e.code}, "error_description": {e.description}}, state)
}

// redirectToClient sends an authorization response to a verified redirect
// URI, with state and the issuer (RFC 9207 §2: on success and on error).
// 303 so that a POSTed login is not re-posted (RFC 9700 §4.12).
func (s *Server) redirectToClient(w http.ResponseWriter, r *http.Request, redirectURI string, params url.Values, state string) {
	u, err := url.Parse(redirectURI)
	if err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "Invalid redirect URI", "The application's redirect address is malformed.")
		return
	}
	q := u.Query()
	for k, v := range params {
		q[k] = v
	}
	if state != "" {
		q.Set("state", state)
	}
	q.Set("iss", zop.IssuerFromContext(r.Context()))
	u.RawQuery = q.Encode()
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, u.String(), http.StatusSeeOther)
}

// tenantURL is the absolute URL of a path under the request's issuer.
func (s *Server) tenantURL(ctx context.Context, path string) string {
	return zop.IssuerFromContext(ctx) + path
}

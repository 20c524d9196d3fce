package login

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/herald-idp/herald/op/mfa"
	"github.com/herald-idp/herald/storage"
)

// Herald serves the authorization endpoint itself rather than through the
// library: it must compare redirect URIs byte for byte, accept only S256
// PKCE, add `iss` to every response (RFC 9207), show an HTML page when the
// redirect URI cannot be trusted, and decide prompt / max_age / SSO.

// maxParamLength caps any single authorization parameter.
const maxParamLength = 2048

// storedParamLimits are tighter caps on the parameters an authorization
// request stores verbatim, so that a pending request stays compact (issue
// 10: at most ≈ 4 KB each, typically ≈ 600 bytes; docs/security.md).
var storedParamLimits = map[string]int{"state": 512, "nonce": 256, "login_hint": 256, "code_challenge": 128}

func paramLimit(p string) int {
	if n, ok := storedParamLimits[p]; ok {
		return n
	}
	return maxParamLength
}

var codeChallengePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// singleParams may appear at most once (RFC 6749 §3.1): every parameter
// RFC 6749, RFC 7636 and OIDC Core §3.1.2.1 define for this endpoint,
// including the ones Herald refuses or ignores (request, request_uri,
// display…), counted across the query and a POST body. Unknown parameters
// are ignored, repeated or not (RFC 6749 §3.1).
var singleParams = []string{"client_id", "redirect_uri", "response_type", "response_mode", "scope", "state",
	"nonce", "code_challenge", "code_challenge_method", "prompt", "max_age", "id_token_hint", "login_hint",
	"request", "request_uri", "display", "ui_locales", "claims_locales", "acr_values", "claims", "registration"}

// grantAuthorizationCode is the grant a client must be registered for to
// use this endpoint.
const grantAuthorizationCode = "authorization_code"

func (h *Handler) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := r.ParseForm(); err != nil {
		h.errorPage(w, r, errUnreadableAuthorize)
		return
	}
	if e, bad := checkParams(r.Form); bad {
		h.errorPage(w, r, e)
		return
	}
	// Until the client and its redirect URI are verified, every error is a
	// page naming what was refused, for the developer who sent it.
	clientID, redirectURI := r.Form.Get("client_id"), r.Form.Get("redirect_uri")
	if clientID == "" {
		h.errorPage(w, r, errMissingClientID)
		return
	}
	c, err := h.p.Client(ctx, clientID)
	if errors.Is(err, storage.ErrNotFound) {
		h.rejectedPage(w, r, errUnknownClient, "client_id", clientID)
		return
	}
	if err != nil {
		h.storagePage(w, r, "authorize: load client", err, pageError{})
		return
	}
	if redirectURI == "" {
		h.errorPage(w, r, errMissingRedirect)
		return
	}
	if !redirectURIRegistered(c, redirectURI) {
		// RFC 6749 §4.1.2.1 / RFC 9700 §4.11.2: never redirect to an
		// unverified URI.
		h.rejectedPage(w, r, errUnregisteredRedirect, "redirect_uri", redirectURI)
		return
	}
	ar, aerr := h.parseAuthRequest(ctx, r.Form, c)
	if aerr != nil {
		h.redirectError(w, r, redirectURI, r.Form.Get("state"), aerr)
		return
	}
	if !h.allowAuthRequest(w, r) { // defence.go: per-address cap
		return
	}
	if err := h.store.AuthRequests().CreateAuthRequest(ctx, ar); err != nil {
		h.redirectError(w, r, redirectURI, ar.State, storageAuthError(ctx, "authorize: store request", err))
		return
	}
	h.continueAuthorization(w, r, ar, c)
}

// checkParams refuses repeated and oversized parameters before anything
// else is looked at; the redirect URI is not trusted yet, so the answer is
// a page.
func checkParams(f url.Values) (pageError, bool) {
	for _, p := range singleParams {
		if len(f[p]) > 1 {
			return invalidRequest("The parameter " + p + " was sent more than once."), true
		}
		if len(f.Get(p)) > paramLimit(p) {
			return invalidRequest("The parameter " + p + " is too long."), true
		}
	}
	return pageError{}, false
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
	if err != nil || u.Scheme != "http" || (u.Hostname() != "127.0.0.1" && u.Hostname() != "::1") || !validLoopbackPort(u) {
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

// validLoopbackPort: the port a native app listens on is its choice, but
// it must be a real one. url.Parse only checks that a port is digits, so
// 0, 99999 and an empty port ("127.0.0.1:") would pass; leading zeros
// would let one port be spelled many ways. Absent (port 80) or 1-65535 in
// canonical decimal.
func validLoopbackPort(u *url.URL) bool {
	p := u.Port()
	if p == "" {
		return !strings.HasSuffix(u.Host, ":")
	}
	n, err := strconv.Atoi(p)
	return err == nil && n >= 1 && n <= 65535 && strconv.Itoa(n) == p
}

// parseAuthRequest validates everything after the redirect URI; its
// errors go back to the client.
func (h *Handler) parseAuthRequest(ctx context.Context, f url.Values, c *storage.Client) (*storage.AuthRequest, *authError) {
	if f.Get("request") != "" {
		return nil, &authError{codeRequestNotSupported, "request objects are not supported"}
	}
	if f.Get("request_uri") != "" {
		return nil, &authError{codeRequestURINotSupported, "request_uri is not supported"}
	}
	if rt := f.Get("response_type"); rt != "code" {
		return nil, &authError{codeUnsupportedResponseType, "only response_type=code is supported"}
	}
	if rm := f.Get("response_mode"); rm != "" && rm != "query" {
		return nil, &authError{codeInvalidRequest, "only response_mode=query is supported"}
	}
	if !slices.Contains(c.GrantTypes, grantAuthorizationCode) {
		return nil, &authError{codeUnauthorizedClient, "the client may not use the authorization code grant"}
	}
	var scopes []string
	for _, sc := range strings.Fields(f.Get("scope")) {
		if !h.p.ScopeAllowed(c, sc) {
			return nil, &authError{codeInvalidScope, "scope " + strconv.Quote(sc) + " is not allowed"}
		}
		if !slices.Contains(scopes, sc) {
			scopes = append(scopes, sc)
		}
	}
	if len(scopes) == 0 {
		return nil, &authError{codeInvalidScope, "scope is required"}
	}
	challenge, method := f.Get("code_challenge"), f.Get("code_challenge_method")
	if e := checkPKCE(challenge, method, c.IsPublic()); e != nil {
		return nil, e
	}
	prompt, e := parsePrompt(f.Get("prompt"))
	if e != nil {
		return nil, e
	}
	maxAge, e := parseMaxAge(f.Get("max_age"))
	if e != nil {
		return nil, e
	}
	now := h.now()
	ar := &storage.AuthRequest{
		TenantID:            h.p.Tenant(ctx).Name,
		ID:                  randomToken(16),
		ClientID:            c.ID,
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
		RequiredACR:         mfa.RequiredACR(f.Get("acr_values")),
		CreatedAt:           now,
		ExpiresAt:           now.Add(h.arLifetime),
	}
	if hint := f.Get("id_token_hint"); hint != "" {
		sub, err := h.p.IDTokenHintSubject(ctx, hint)
		if err != nil {
			return nil, &authError{codeInvalidRequest, "id_token_hint is invalid"}
		}
		ar.HintSubject = sub
	}
	return ar, nil
}

// checkPKCE: RFC 7636 §4.3 makes an absent method mean plain; Herald
// accepts only S256 (RFC 9700 §2.1.1), and public clients must use it.
func checkPKCE(challenge, method string, public bool) *authError {
	switch {
	case challenge == "" && method != "":
		return &authError{codeInvalidRequest, "code_challenge_method without code_challenge"}
	case challenge == "" && public:
		return &authError{codeInvalidRequest, "PKCE is required: send code_challenge with code_challenge_method=S256"}
	case challenge != "" && method != "S256":
		return &authError{codeInvalidRequest, "code_challenge_method must be S256"}
	case challenge != "" && !codeChallengePattern.MatchString(challenge):
		return &authError{codeInvalidRequest, "code_challenge must be 43 base64url characters"}
	}
	return nil
}

// parsePrompt reads prompt (OIDC Core §3.1.2.1): known values only, and
// none alone.
func parsePrompt(v string) ([]string, *authError) {
	prompt := strings.Fields(v)
	for _, p := range prompt {
		if !slices.Contains([]string{"none", "login", "consent", "select_account"}, p) {
			return nil, &authError{codeInvalidRequest, "unsupported prompt value " + strconv.Quote(p)}
		}
	}
	if slices.Contains(prompt, "none") && len(prompt) > 1 {
		return nil, &authError{codeInvalidRequest, "prompt=none cannot be combined with other values"}
	}
	return prompt, nil
}

// parseMaxAge reads max_age (OIDC Core §3.1.2.1): absent, or a
// non-negative number of seconds.
func parseMaxAge(v string) (*int64, *authError) {
	if v == "" {
		return nil, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return nil, &authError{codeInvalidRequest, "max_age must be a non-negative integer"}
	}
	return &n, nil
}

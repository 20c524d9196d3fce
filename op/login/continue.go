package login

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/herald-idp/herald/storage"
)

// continueAuthorization moves an authorization request to its next step:
// the login page, the consent page, or the code. It is called after
// /authorize, after login and after consent.
func (h *Handler) continueAuthorization(w http.ResponseWriter, r *http.Request, ar *storage.AuthRequest, c *storage.Client) {
	ctx := r.Context()
	if ar.UserID == "" {
		sess := h.currentSession(r)
		reuse := sess != nil && reusableSession(ar, sess, h.now())
		var user *storage.User
		if reuse {
			u, err := h.store.Users().User(ctx, ar.TenantID, sess.UserID)
			if err != nil || u.Disabled {
				reuse = false
			}
			user = u
		}
		if reuse {
			// Step-up (docs/mfa.md): the request needs a second factor
			// the session has not used.
			step, err := h.stepUp(ctx, h.p.Tenant(ctx).Tenant, c, ar, sess)
			if err != nil {
				slog.ErrorContext(ctx, "authorize: second factor", "error", err)
				h.finishWithError(w, r, ar, errTryLater)
				return
			}
			if step != mfaNone {
				if slices.Contains(ar.Prompt, "none") {
					h.finishWithError(w, r, ar, &authError{codeLoginRequired, "a second factor is required"})
					return
				}
				h.askSecondFactor(w, r, ar, c, user, step)
				return
			}
		}
		switch {
		case reuse:
			ar.UserID, ar.SessionID, ar.AuthTime, ar.AMR = sess.UserID, sess.ID, sess.AuthTime, sess.AMR
		case slices.Contains(ar.Prompt, "none"):
			// OIDC Core §3.1.2.6: no UI, tell the client.
			h.finishWithError(w, r, ar, &authError{codeLoginRequired, "the user is not signed in"})
			return
		case h.upstreamHint(w, r, ar, c): // upstream.go: idp_hint
			return
		default:
			http.Redirect(w, r, h.tenantURL(ctx, PathLogin)+"?auth_request_id="+url.QueryEscape(ar.ID), http.StatusSeeOther)
			return
		}
	}
	needsConsent, err := h.needsConsent(ctx, ar, c)
	if err != nil {
		slog.ErrorContext(ctx, "authorize: consent lookup", "error", err)
		h.finishWithError(w, r, ar, errTryLater)
		return
	}
	if needsConsent {
		if slices.Contains(ar.Prompt, "none") {
			h.finishWithError(w, r, ar, &authError{codeConsentRequired, "the user has not consented"})
			return
		}
		if err := h.saveAuthenticated(ctx, ar); err != nil {
			h.finishWithError(w, r, ar, errTryLater)
			return
		}
		http.Redirect(w, r, h.tenantURL(ctx, PathConsent)+"?auth_request_id="+url.QueryEscape(ar.ID), http.StatusSeeOther)
		return
	}
	h.issueCode(w, r, ar)
}

// reusableSession decides SSO: the browser's session answers the request
// unless the client asked for a fresh login (prompt=login or
// select_account), the authentication is older than max_age, or the
// id_token_hint names another user. Whether the user still exists and is
// enabled is checked by the caller.
func reusableSession(ar *storage.AuthRequest, sess *storage.Session, now time.Time) bool {
	return !slices.Contains(ar.Prompt, "login") && !slices.Contains(ar.Prompt, "select_account") &&
		satisfiesMaxAge(ar.MaxAge, sess.AuthTime, now) && hintMatches(ar, sess.UserID)
}

// hintMatches reports whether userID may answer ar: any user when there
// was no id_token_hint, otherwise only the hint's subject (OIDC Core
// §3.1.2.1).
func hintMatches(ar *storage.AuthRequest, userID string) bool {
	return ar.HintSubject == "" || ar.HintSubject == userID
}

// saveAuthenticated stores who the request was authenticated as, so the
// consent step can continue from it.
func (h *Handler) saveAuthenticated(ctx context.Context, ar *storage.AuthRequest) error {
	_, err := h.store.AuthRequests().UpdateAuthRequest(ctx, ar.TenantID, ar.ID, func(stored *storage.AuthRequest) error {
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
func (h *Handler) needsConsent(ctx context.Context, ar *storage.AuthRequest, c *storage.Client) (bool, error) {
	if c.FirstParty {
		return false, nil
	}
	if slices.Contains(ar.Prompt, "consent") {
		return true, nil
	}
	consent, err := h.store.Consents().Consent(ctx, ar.TenantID, ar.UserID, ar.ClientID)
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

// issueCode ends a successful authorization: the request is consumed
// (atomically deleted) first, so that of concurrent posts of one form only
// one gets it and one request yields at most one code; then the provider
// stores a single-use code and the browser goes back to the client with it.
func (h *Handler) issueCode(w http.ResponseWriter, r *http.Request, ar *storage.AuthRequest) {
	ctx := r.Context()
	if isAccountRequest(ar) {
		h.finishAccountSignIn(w, r, ar)
		return
	}
	if !hintMatches(ar, ar.UserID) {
		// Login and SSO already refuse this; the one place codes are
		// issued checks again, whatever path led here.
		h.finishWithError(w, r, ar, errHintMismatch)
		return
	}
	// ar carries who authenticated (the stored copy may not yet); the
	// consumption is only the gate.
	_, err := h.store.AuthRequests().ConsumeAuthRequest(ctx, ar.TenantID, ar.ID)
	if errors.Is(err, storage.ErrNotFound) {
		// Another post of this form won, or the request expired.
		h.errorPage(w, r, errExpiredRequest)
		return
	}
	if err != nil {
		slog.ErrorContext(ctx, "authorize: consume request", "error", err)
		h.redirectError(w, r, ar.RedirectURI, ar.State, errTryLater)
		return
	}
	code, err := h.p.IssueCode(ctx, ar)
	if err != nil {
		slog.ErrorContext(ctx, "authorize: store code", "error", err)
		h.redirectError(w, r, ar.RedirectURI, ar.State, errTryLater)
		return
	}
	h.redirectToClient(w, r, ar.RedirectURI, url.Values{"code": {code}}, ar.State)
}

func (h *Handler) deleteAuthRequest(ctx context.Context, ar *storage.AuthRequest) {
	if err := h.store.AuthRequests().DeleteAuthRequest(ctx, ar.TenantID, ar.ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
		slog.ErrorContext(ctx, "authorize: delete request", "error", err)
	}
}

// finishWithError ends an authorization request with an error sent to the
// client.
func (h *Handler) finishWithError(w http.ResponseWriter, r *http.Request, ar *storage.AuthRequest, e *authError) {
	h.deleteAuthRequest(r.Context(), ar)
	if isAccountRequest(ar) {
		// No client to tell: the user sees it.
		h.errorPage(w, r, accountSignInFailed(e))
		return
	}
	h.redirectError(w, r, ar.RedirectURI, ar.State, e)
}

func (h *Handler) redirectError(w http.ResponseWriter, r *http.Request, redirectURI, state string, e *authError) {
	h.redirectToClient(w, r, redirectURI, url.Values{"error": {e.code}, "error_description": {e.description}}, state)
}

// redirectToClient sends an authorization response to a verified redirect
// URI, with state and the issuer (RFC 9207 §2: on success and on error).
// 303 so that a POSTed login is not re-posted (RFC 9700 §4.12).
func (h *Handler) redirectToClient(w http.ResponseWriter, r *http.Request, redirectURI string, params url.Values, state string) {
	u, err := url.Parse(redirectURI)
	if err != nil {
		h.rejectedPage(w, r, errMalformedRedirect, "redirect_uri", redirectURI)
		return
	}
	q := u.Query()
	for k, v := range params {
		q[k] = v
	}
	if state != "" {
		q.Set("state", state)
	}
	q.Set("iss", h.p.Tenant(r.Context()).Issuer)
	u.RawQuery = q.Encode()
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, u.String(), http.StatusSeeOther)
}

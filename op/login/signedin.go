package login

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/herald-idp/herald/storage"
)

// Paths of the second-factor pages, relative to a tenant's issuer
// (docs/mfa.md). The account page links to PathAccountMFA.
const (
	// PathLoginOTP is the second step of a sign-in: the TOTP (or recovery)
	// code form.
	PathLoginOTP = "/login/otp"
	// PathLoginMFASetup is the set-up a sign-in goes through when the
	// tenant's policy requires a second factor the user does not have yet.
	PathLoginMFASetup = "/login/mfa-setup"
	// PathAccountMFA shows the signed-in user's second factor and offers to
	// set it up, remove it or regenerate the recovery codes.
	PathAccountMFA = "/account/mfa"
	// PathAccountMFASetup (POST) starts a set-up and shows the QR code.
	PathAccountMFASetup = "/account/mfa/setup"
	// PathAccountMFAConfirm (POST) confirms a set-up with a first code and
	// shows the recovery codes once.
	PathAccountMFAConfirm = "/account/mfa/confirm"
	// PathAccountMFARemove (POST) removes the second factor (a current code
	// or the password is required).
	PathAccountMFARemove = "/account/mfa/remove"
	// PathAccountMFARecoveryCodes (POST) replaces the recovery codes (a
	// current code or the password is required).
	PathAccountMFARecoveryCodes = "/account/mfa/recovery-codes"
)

// accountClientID names the authorization requests Herald starts itself to
// sign a user in to its own pages. No registered client can have it
// (client IDs never contain ':'); it is treated as a first-party client
// whose "redirect URI" is a path under the tenant's issuer.
const accountClientID = "herald:account"

// accountClient is the client an account sign-in is shown as.
func accountClient() *storage.Client {
	return &storage.Client{ID: accountClientID, Name: "your account", FirstParty: true}
}

// isAccountRequest reports whether ar signs in to Herald's own pages.
func isAccountRequest(ar *storage.AuthRequest) bool { return ar.ClientID == accountClientID }

// SignedIn returns the browser's live SSO session in the request's tenant
// and its (enabled) user. When there is none it sends the browser to sign
// in — coming back to returnPath (a path under the tenant's issuer that
// starts with "/account", e.g. PathAccountMFA) afterwards — and reports
// false: the caller returns without writing anything else. A failing store
// shows the error page and also reports false.
//
// Pages of the signed-in user (the account page, the second-factor pages)
// call it first; they must still check CSRF on POST (VerifyForm).
func (h *Handler) SignedIn(w http.ResponseWriter, r *http.Request, returnPath string) (*storage.Session, *storage.User, bool) {
	ctx := r.Context()
	if sess := h.currentSession(r); sess != nil {
		u, ok := h.sessionUser(w, r, sess)
		if !ok {
			return nil, nil, false
		}
		if u != nil {
			return sess, u, true
		}
	}
	if !strings.HasPrefix(returnPath, "/account") || strings.ContainsAny(returnPath, "?#\\") || strings.Contains(returnPath, "//") {
		returnPath = PathAccountMFA
	}
	now := h.now()
	ar := &storage.AuthRequest{
		TenantID:     h.p.Tenant(ctx).Name,
		ID:           randomToken(16),
		ClientID:     accountClientID,
		RedirectURI:  returnPath,
		Scopes:       []string{"openid"},
		ResponseType: "code",
		ResponseMode: "query",
		CreatedAt:    now,
		ExpiresAt:    now.Add(h.arLifetime),
	}
	if err := h.store.AuthRequests().CreateAuthRequest(ctx, ar); err != nil {
		h.storagePage(w, r, "account: store sign-in request", err, pageError{})
		return nil, nil, false
	}
	http.Redirect(w, r, h.tenantURL(ctx, PathLogin)+"?auth_request_id="+url.QueryEscape(ar.ID), http.StatusSeeOther)
	return nil, nil, false
}

// sessionUser loads the (enabled) user of sess: nil when it was deleted or
// disabled. A failing store shows the error page and reports false.
func (h *Handler) sessionUser(w http.ResponseWriter, r *http.Request, sess *storage.Session) (*storage.User, bool) {
	u, err := h.store.Users().User(r.Context(), sess.TenantID, sess.UserID)
	switch {
	case err == nil && !u.Disabled:
		return u, true
	case err != nil && !errors.Is(err, storage.ErrNotFound):
		h.storagePage(w, r, "account: load user", err, pageError{})
		return nil, false
	}
	return nil, true
}

// CSRFToken returns the form token of a signed-in page's form for purpose
// (e.g. "account:password"); VerifyForm checks it. Tokens are bound to the
// browser's CSRF cookie and to the purpose.
func (h *Handler) CSRFToken(w http.ResponseWriter, r *http.Request, purpose string) string {
	return h.csrfToken(w, r, purpose)
}

// VerifyForm parses a posted form and checks its CSRF token for purpose;
// otherwise it shows the "form expired" page and reports false.
func (h *Handler) VerifyForm(w http.ResponseWriter, r *http.Request, purpose string) bool {
	if err := r.ParseForm(); err != nil {
		h.errorPage(w, r, errUnreadableForm)
		return false
	}
	if !h.validCSRF(r, purpose) {
		h.errorPage(w, r, errAccountFormExpired)
		return false
	}
	return true
}

// finishAccountSignIn ends an account sign-in: the request is consumed and
// the browser goes back to the page it came from (never to another origin:
// the path was checked when the request was made).
func (h *Handler) finishAccountSignIn(w http.ResponseWriter, r *http.Request, ar *storage.AuthRequest) {
	ctx := r.Context()
	if _, err := h.store.AuthRequests().ConsumeAuthRequest(ctx, ar.TenantID, ar.ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
		slog.ErrorContext(ctx, "account: consume sign-in request", "error", err)
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, h.tenantURL(ctx, ar.RedirectURI), http.StatusSeeOther)
}

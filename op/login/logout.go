package login

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/herald-idp/herald/storage"
	"github.com/herald-idp/herald/templates"
)

// handleEndSession is RP-Initiated Logout 1.0. The provider validates the
// id_token_hint (expired hints are accepted, tampered ones are not) and the
// post_logout_redirect_uri (exact match against the client identified by
// the hint or client_id). Herald then ends the server-side session. A
// request could be forged by any site, with any valid hint (the attacker's
// own, an old one), so the logout is silent only when the hint is an ID
// token of this tenant for the current session (its sub, and its sid when
// present); otherwise the user confirms — unless nobody is signed in in
// this browser, when there is nothing to confirm.
func (h *Handler) handleEndSession(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := r.ParseForm(); err != nil {
		h.errorPage(w, r, errUnreadableLogout)
		return
	}
	req := EndSessionRequest{
		IDTokenHint:           r.Form.Get("id_token_hint"),
		ClientID:              r.Form.Get("client_id"),
		PostLogoutRedirectURI: r.Form.Get("post_logout_redirect_uri"),
		State:                 r.Form.Get("state"),
		LogoutHint:            r.Form.Get("logout_hint"),
	}
	confirmed := false
	if r.Method == http.MethodPost && r.PostForm.Has("decision") {
		if !h.validCSRF(r, "logout") {
			h.errorPage(w, r, errLogoutFormExpired)
			return
		}
		if r.PostForm.Get("decision") != "logout" {
			h.errorPage(w, r, errLogoutCancelled)
			return
		}
		confirmed = true
	}
	current := h.currentSession(r)
	req.Session = current
	session, err := h.p.ValidateEndSession(ctx, req)
	if err != nil {
		var rej *RejectedError
		description := ""
		if errors.As(err, &rej) {
			description = rej.Description
		}
		h.errorPage(w, r, invalidLogout(description))
		return
	}
	if current != nil && !session.HintMatchesSession && !confirmed {
		name := ""
		if c, err := h.p.Client(ctx, session.ClientID); err == nil && session.ClientID != "" {
			name = clientName(c)
		}
		h.render(w, r, http.StatusOK, templates.LogoutConfirmPage{
			Branding:   h.branding(ctx),
			ActionURL:  h.tenantURL(ctx, PathEndSession),
			CSRFToken:  h.csrfToken(w, r, "logout"),
			ClientName: name,
			ClientID:   session.ClientID, // from client_id or the hint

			PostLogoutRedirectURI: req.PostLogoutRedirectURI,
			State:                 req.State,
		})
		return
	}
	// Nobody signed in (no cookie, or the cookie of a session that has
	// ended): nothing to confirm and nothing to end, so straight on to the
	// validated post-logout URI or the logged-out page; a stale cookie is
	// still cleared and its grants revoked.
	userID := h.sessionUserID(r) // for the audit trail (defence.go)
	h.endBrowserSession(ctx, w, r, true)
	if current != nil {
		h.p.RecordAuthEvent(r, AuthEvent{Event: storage.EventLogout, UserID: userID, ClientID: session.ClientID, Outcome: OutcomeSuccess})
		slog.InfoContext(ctx, "logout", "tenant", h.p.Tenant(ctx).Name, "client_id", session.ClientID)
	}
	// Redirect only to a post_logout_redirect_uri the provider matched
	// against the client's registration.
	if req.PostLogoutRedirectURI != "" && session.RedirectURI != "" && session.ClientID != "" {
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, session.RedirectURI, http.StatusSeeOther)
		return
	}
	h.render(w, r, http.StatusOK, templates.LoggedOutPage{Branding: h.branding(ctx)})
}

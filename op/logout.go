package op

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/herald-idp/herald/templates"
)

// handleEndSession is RP-Initiated Logout 1.0. The library validates the
// id_token_hint (expired hints are accepted, tampered ones are not) and the
// post_logout_redirect_uri (exact match against the client identified by
// the hint or client_id). Herald then ends the server-side session. A
// request without id_token_hint could be forged by any site, so it gets a
// confirmation form instead of a silent logout.
func (s *Server) handleEndSession(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "Invalid request", "The sign-out request could not be read.")
		return
	}
	req := &oidc.EndSessionRequest{
		IdTokenHint:           r.Form.Get("id_token_hint"),
		ClientID:              r.Form.Get("client_id"),
		PostLogoutRedirectURI: r.Form.Get("post_logout_redirect_uri"),
		State:                 r.Form.Get("state"),
		LogoutHint:            r.Form.Get("logout_hint"),
	}
	confirmed := false
	if r.Method == http.MethodPost && r.PostForm.Has("decision") {
		if !s.validCSRF(r, "logout") {
			s.errorPage(w, r, http.StatusForbidden, "Form expired", "The sign-out form expired. Please try again.")
			return
		}
		if r.PostForm.Get("decision") != "logout" {
			s.errorPage(w, r, http.StatusOK, "Still signed in", "You cancelled signing out.")
			return
		}
		confirmed = true
	}
	session, err := zop.ValidateEndSessionRequest(ctx, req, s.provider)
	if err != nil {
		var oe *oidc.Error
		msg := "The sign-out request is invalid."
		if errors.As(err, &oe) && oe.ErrorType != oidc.ServerError && oe.Description != "" {
			msg = "The sign-out request is invalid: " + oe.Description + "."
		}
		s.errorPage(w, r, http.StatusBadRequest, "Invalid sign-out request", msg)
		return
	}
	if req.IdTokenHint == "" && !confirmed {
		name := ""
		if c, err := s.storage.client(ctx, session.ClientID); err == nil && session.ClientID != "" {
			name = clientName(c)
		}
		s.render(w, r, http.StatusOK, templates.LogoutConfirmPage{
			Branding:              branding(tenantFromContext(ctx)),
			ActionURL:             s.tenantURL(ctx, pathEndSession),
			CSRFToken:             s.csrfToken(w, r, "logout"),
			ClientName:            name,
			ClientID:              req.ClientID,
			PostLogoutRedirectURI: req.PostLogoutRedirectURI,
			State:                 req.State,
		})
		return
	}
	s.endBrowserSession(ctx, w, r, true)
	slog.InfoContext(ctx, "logout", "tenant", tenantName(ctx), "client_id", session.ClientID)
	// Redirect only to a post_logout_redirect_uri the library matched
	// against the client's registration.
	if req.PostLogoutRedirectURI != "" && session.RedirectURI != "" && session.ClientID != "" {
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, session.RedirectURI, http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, templates.LoggedOutPage{Branding: branding(tenantFromContext(ctx))})
}

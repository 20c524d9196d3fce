package login

import (
	"log/slog"
	"net/http"

	"github.com/herald-idp/herald/storage"
	"github.com/herald-idp/herald/templates"
)

// handleConsentForm shows which scopes the client asks for.
func (h *Handler) handleConsentForm(w http.ResponseWriter, r *http.Request) {
	ar, c, ok := h.pendingAuthRequest(w, r, r.URL.Query().Get("auth_request_id"))
	if !ok {
		return
	}
	if ar.UserID == "" {
		h.errorPage(w, r, errConsentBeforeLogin)
		return
	}
	scopes := make([]templates.ScopeView, 0, len(ar.Scopes))
	for _, sc := range ar.Scopes {
		if !templates.ScopeShown(sc) {
			continue
		}
		scopes = append(scopes, templates.ScopeView{Name: sc, Description: templates.ScopeDescription(sc)})
	}
	h.render(w, r, http.StatusOK, templates.ConsentPage{
		Branding:      h.branding(r.Context()),
		ActionURL:     h.tenantURL(r.Context(), PathConsent),
		CSRFToken:     h.csrfToken(w, r, "consent:"+ar.ID),
		AuthRequestID: ar.ID,
		ClientName:    clientName(c),
		Scopes:        scopes,
	})
}

// handleConsent records the user's decision and finishes the request.
func (h *Handler) handleConsent(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ar, _, ok := h.postedAuthForm(w, r, "consent", errConsentFormExpired)
	if !ok {
		return
	}
	// The consent must come from the browser that signed in: the session
	// the request was authenticated with must still be this browser's.
	sess := h.currentSession(r)
	if ar.UserID == "" || sess == nil || sess.ID != ar.SessionID {
		h.errorPage(w, r, errSessionEnded)
		return
	}
	consentEvent := AuthEvent{Event: storage.EventConsentGiven, UserID: ar.UserID, ClientID: ar.ClientID, Outcome: OutcomeSuccess}
	if r.PostForm.Get("decision") != "allow" {
		consentEvent.Event, consentEvent.Outcome = storage.EventConsentDenied, OutcomeDenied
		h.p.RecordAuthEvent(r, consentEvent)
		h.finishWithError(w, r, ar, &authError{codeAccessDenied, "the user denied the request"})
		return
	}
	err := h.store.Consents().GrantConsent(ctx, &storage.Consent{
		TenantID: ar.TenantID, UserID: ar.UserID, ClientID: ar.ClientID, Scopes: ar.Scopes, UpdatedAt: h.now(),
	})
	if err != nil {
		slog.ErrorContext(ctx, "consent: store", "error", err)
		h.finishWithError(w, r, ar, errTryLater)
		return
	}
	h.p.RecordAuthEvent(r, consentEvent)
	h.issueCode(w, r, ar)
}

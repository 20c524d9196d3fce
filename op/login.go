package op

import (
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"unicode/utf8"

	"github.com/herald-idp/herald/op/password"
	"github.com/herald-idp/herald/op/registry"
	"github.com/herald-idp/herald/storage"
	"github.com/herald-idp/herald/templates"
)

const msgInvalidCredentials = "Invalid username or password."

// pendingAuthRequest loads the auth request a login or consent form is
// about, or shows the user why it cannot continue.
func (s *Server) pendingAuthRequest(w http.ResponseWriter, r *http.Request, id string) (*storage.AuthRequest, *client, bool) {
	ctx := r.Context()
	t := tenantFromContext(ctx)
	ar, err := s.store.AuthRequests().AuthRequest(ctx, t.Name, id)
	if err == nil {
		var c *client
		if c, err = s.storage.client(ctx, ar.ClientID); err == nil {
			return ar, c, true
		}
	}
	if errors.Is(err, storage.ErrNotFound) {
		s.errorPage(w, r, http.StatusBadRequest, "Sign-in expired",
			"This sign-in request has expired or is unknown. Return to the application and start again.")
		return nil, nil, false
	}
	slog.ErrorContext(ctx, "load auth request", "error", err)
	s.errorPage(w, r, http.StatusServiceUnavailable, "Please try again", "The sign-in service is temporarily unavailable.")
	return nil, nil, false
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request, status int, ar *storage.AuthRequest, c *client, username, msg string) {
	s.render(w, r, status, templates.LoginPage{
		Branding:      branding(tenantFromContext(r.Context())),
		ActionURL:     s.tenantURL(r.Context(), pathLogin),
		CSRFToken:     s.csrfToken(w, r, "login:"+ar.ID),
		AuthRequestID: ar.ID,
		ClientName:    clientName(c),
		Username:      username,
		Error:         msg,
	})
}

func clientName(c *client) string {
	if c.c.Name != "" {
		return c.c.Name
	}
	return c.c.ID
}

// handleLoginForm shows the login form of a pending auth request.
func (s *Server) handleLoginForm(w http.ResponseWriter, r *http.Request) {
	ar, c, ok := s.pendingAuthRequest(w, r, r.URL.Query().Get("auth_request_id"))
	if !ok {
		return
	}
	s.loginPage(w, r, http.StatusOK, ar, c, ar.LoginHint, "")
}

// handleLogin checks the submitted credentials. Unknown users and wrong
// passwords get the same answer after the same work (a dummy argon2id
// verification), so the form does not reveal which usernames exist.
func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "Invalid request", "The form could not be read.")
		return
	}
	ar, c, ok := s.pendingAuthRequest(w, r, r.PostForm.Get("auth_request_id"))
	if !ok {
		return
	}
	if !s.validCSRF(r, "login:"+ar.ID) {
		s.errorPage(w, r, http.StatusForbidden, "Form expired", "The sign-in form expired. Return to the application and try again.")
		return
	}
	username := registry.NormalizeUsername(r.PostForm.Get("username"))
	pw := r.PostForm.Get("password")
	if username == "" || pw == "" || len(pw) > password.MaxLength || !utf8.ValidString(username) {
		s.loginPage(w, r, http.StatusBadRequest, ar, c, username, msgInvalidCredentials)
		return
	}
	user, err := s.store.Users().UserByUsername(ctx, ar.TenantID, username)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		slog.ErrorContext(ctx, "login: load user", "error", err)
		s.errorPage(w, r, http.StatusServiceUnavailable, "Please try again", "The sign-in service is temporarily unavailable.")
		return
	}
	var match, rehash bool
	if user == nil {
		_, err = s.cfg.Passwords.VerifyDummy(ctx, pw)
	} else {
		match, rehash, err = s.cfg.Passwords.Verify(ctx, pw, user.PasswordHash)
	}
	if errors.Is(err, password.ErrBusy) {
		s.busyPage(w, r)
		return
	}
	if err != nil {
		slog.ErrorContext(ctx, "login: verify password", "error", err)
	}
	if !match || user.Disabled {
		slog.InfoContext(ctx, "login failed", "tenant", ar.TenantID)
		s.loginPage(w, r, http.StatusBadRequest, ar, c, username, msgInvalidCredentials)
		return
	}
	if rehash {
		s.rehashPassword(r, user, pw)
	}
	amr := []string{amrPassword}
	sess, err := s.startSession(ctx, w, r, user, amr)
	if err != nil {
		slog.ErrorContext(ctx, "login: start session", "error", err)
		s.errorPage(w, r, http.StatusServiceUnavailable, "Please try again", "The sign-in service is temporarily unavailable.")
		return
	}
	slog.InfoContext(ctx, "login succeeded", "tenant", ar.TenantID, "user_id", user.ID)
	ar.UserID, ar.SessionID, ar.AuthTime, ar.AMR = user.ID, sess.ID, sess.AuthTime, slices.Clone(amr)
	s.continueAuthorization(w, r, ar, c)
}

// rehashPassword upgrades a bcrypt (imported) or outdated argon2id hash
// after a successful login. Failure is logged, not shown: the login itself
// succeeded.
func (s *Server) rehashPassword(r *http.Request, user *storage.User, pw string) {
	ctx := r.Context()
	hash, err := s.cfg.Passwords.Hash(ctx, pw)
	if err == nil {
		_, err = s.store.Users().UpdateUser(ctx, user.TenantID, user.ID, func(u *storage.User) error {
			u.PasswordHash = hash
			u.UpdatedAt = s.now()
			return nil
		})
	}
	if err != nil {
		slog.WarnContext(ctx, "login: rehash password", "error", err)
	}
}

// handleConsentForm shows which scopes the client asks for.
func (s *Server) handleConsentForm(w http.ResponseWriter, r *http.Request) {
	ar, c, ok := s.pendingAuthRequest(w, r, r.URL.Query().Get("auth_request_id"))
	if !ok {
		return
	}
	if ar.UserID == "" {
		s.errorPage(w, r, http.StatusBadRequest, "Sign-in required", "Sign in before granting access. Return to the application and start again.")
		return
	}
	scopes := make([]templates.ScopeView, 0, len(ar.Scopes))
	for _, sc := range ar.Scopes {
		scopes = append(scopes, templates.ScopeView{Name: sc, Description: templates.ScopeDescription(sc)})
	}
	s.render(w, r, http.StatusOK, templates.ConsentPage{
		Branding:      branding(tenantFromContext(r.Context())),
		ActionURL:     s.tenantURL(r.Context(), pathConsent),
		CSRFToken:     s.csrfToken(w, r, "consent:"+ar.ID),
		AuthRequestID: ar.ID,
		ClientName:    clientName(c),
		Scopes:        scopes,
	})
}

// handleConsent records the user's decision and finishes the request.
func (s *Server) handleConsent(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "Invalid request", "The form could not be read.")
		return
	}
	ar, _, ok := s.pendingAuthRequest(w, r, r.PostForm.Get("auth_request_id"))
	if !ok {
		return
	}
	if !s.validCSRF(r, "consent:"+ar.ID) {
		s.errorPage(w, r, http.StatusForbidden, "Form expired", "The consent form expired. Return to the application and try again.")
		return
	}
	// The consent must come from the browser that signed in: the session
	// the request was authenticated with must still be this browser's.
	sess := s.currentSession(r)
	if ar.UserID == "" || sess == nil || sess.ID != ar.SessionID {
		s.errorPage(w, r, http.StatusForbidden, "Sign-in required", "Your session ended. Return to the application and start again.")
		return
	}
	if r.PostForm.Get("decision") != "allow" {
		s.finishWithError(w, r, ar, &authError{"access_denied", "the user denied the request"})
		return
	}
	err := s.store.Consents().GrantConsent(ctx, &storage.Consent{
		TenantID: ar.TenantID, UserID: ar.UserID, ClientID: ar.ClientID, Scopes: ar.Scopes, UpdatedAt: s.now(),
	})
	if err != nil {
		slog.ErrorContext(ctx, "consent: store", "error", err)
		s.finishWithError(w, r, ar, &authError{temporarilyUnavailable, "try again later"})
		return
	}
	s.issueCode(w, r, ar)
}

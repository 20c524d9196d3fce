package login

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/herald-idp/herald/op/password"
	"github.com/herald-idp/herald/op/registry"
	"github.com/herald-idp/herald/storage"
	"github.com/herald-idp/herald/templates"
)

// The account page ({issuer}/account): the signed-in user of the tenant
// changes their password, sees and ends their sessions and withdraws the
// consent they gave to apps. It belongs to the SSO session: without one,
// the browser signs in first through the ordinary login flow (an account
// request, signedin.go), so every step the login has (throttling, the
// second factor) applies here too.

// Paths of the account page, relative to a tenant's issuer.
const (
	PathAccount           = "/account"
	PathAccountPassword   = "/account/password"
	PathAccountEndSession = "/account/sessions/end"
	PathAccountWithdraw   = "/account/apps/withdraw"
	PathAccountSignOut    = "/account/signout"
	PathAccountUnlink     = "/account/links/remove"
)

// Signing in for the account page reuses the login flow through an
// account request (signedin.go SignedIn): login ends it by going back to
// the account page (a fixed path under the issuer, never a URL from the
// request, so there is no open redirect) instead of issuing a code.

// Notices shown after a change (the ?done= parameter of the redirect back
// to the page). Only these texts can appear: the parameter selects one.
var accountNotices = map[string]string{
	"password":  "Your password was changed. Every other session was signed out.",
	"session":   "That session was signed out.",
	"withdrawn": "The app no longer has access to your account.",
	"unlinked":  "The linked account was removed. It no longer signs you in here.",
}

const (
	msgWrongCurrentPassword = "Your current password is not correct."
	msgPasswordsDiffer      = "The new passwords do not match."
	msgPasswordUnchanged    = "The new password must differ from the current one."
	msgLastSignInMethod     = "This linked account is the only way you can sign in, so it cannot be removed. Link another account first."
	// ReasonLastSignInMethod is the audit reason of a refused unlink.
	ReasonLastSignInMethod = "last_sign_in_method"
)

// accountState is what every account handler starts from: the browser's
// session and its user.
type accountState struct {
	sess *storage.Session
	user *storage.User
}

// account loads the browser's session and its (enabled) user. Without one
// it has answered: a GET starts the sign-in, a POST shows that the session
// ended.
func (h *Handler) account(w http.ResponseWriter, r *http.Request) (accountState, bool) {
	ctx := r.Context()
	sess := h.currentSession(r)
	if sess != nil {
		u, ok := h.sessionUser(w, r, sess)
		if !ok {
			return accountState{}, false
		}
		if u != nil {
			return accountState{sess: sess, user: u}, true
		}
		// A deleted or disabled user's session is over.
		h.endBrowserSession(ctx, w, r, true)
	}
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		// The per-address cap of /authorize applies to the sign-in
		// requests this starts.
		if h.allowAuthRequest(w, r) {
			h.SignedIn(w, r, PathAccount)
		}
		return accountState{}, false
	}
	h.errorPage(w, r, errAccountSignInAgain)
	return accountState{}, false
}

// accountCSRFPurpose binds the page's form token to the session: a token
// from another session (or another user) is refused.
func accountCSRFPurpose(sess *storage.Session) string { return "account:" + sess.ID }

// postedAccountForm reads a posted account form once the session and the
// CSRF token check out (VerifyForm; the form is parsed first so that an
// unreadable form is reported as such, not as an ended session).
func (h *Handler) postedAccountForm(w http.ResponseWriter, r *http.Request) (accountState, bool) {
	if err := r.ParseForm(); err != nil {
		h.errorPage(w, r, errUnreadableForm)
		return accountState{}, false
	}
	st, ok := h.account(w, r)
	if !ok || !h.VerifyForm(w, r, accountCSRFPurpose(st.sess)) {
		return accountState{}, false
	}
	return st, true
}

// handleAccount shows the account page.
func (h *Handler) handleAccount(w http.ResponseWriter, r *http.Request) {
	st, ok := h.account(w, r)
	if !ok {
		return
	}
	h.accountPage(w, r, http.StatusOK, st, accountNotices[r.URL.Query().Get("done")], "")
}

func (h *Handler) accountPage(w http.ResponseWriter, r *http.Request, status int, st accountState, notice, passwordError string) {
	h.accountPageWith(w, r, status, st, notice, passwordError, "")
}

// accountPageWith is accountPage with linkError shown above the linked
// accounts (a refused unlink).
func (h *Handler) accountPageWith(w http.ResponseWriter, r *http.Request, status int, st accountState, notice, passwordError, linkError string) {
	ctx := r.Context()
	now := h.now()
	tenant := h.p.Tenant(ctx)
	sessions, err := h.store.Sessions().ListUserSessions(ctx, tenant.Name, st.user.ID, now)
	if err != nil {
		h.storagePage(w, r, "account: list sessions", err, pageError{})
		return
	}
	consents, err := h.store.Consents().ListUserConsents(ctx, tenant.Name, st.user.ID)
	if err != nil {
		h.storagePage(w, r, "account: list consents", err, pageError{})
		return
	}
	mfaStatus, mfaURL := "Off", h.tenantURL(ctx, PathAccountMFA)
	switch f, err := h.store.SecondFactors().SecondFactor(ctx, tenant.Name, st.user.ID); {
	case mfaPolicy(tenant.Tenant).Policy == storage.MFAOff:
		mfaStatus, mfaURL = "", "" // not offered: no section
	case err == nil && f.Confirmed():
		mfaStatus = "On"
		if n := len(f.RecoveryCodes); n == 1 {
			mfaStatus += " (1 recovery code left)"
		} else {
			mfaStatus += fmt.Sprintf(" (%d recovery codes left)", n)
		}
	case err != nil && !errors.Is(err, storage.ErrNotFound):
		h.storagePage(w, r, "account: load second factor", err, pageError{})
		return
	}
	page := templates.AccountPage{
		Branding:          h.branding(ctx),
		CSRFToken:         h.csrfToken(w, r, accountCSRFPurpose(st.sess)),
		Username:          st.user.Username,
		Name:              st.user.Name,
		Email:             st.user.Email,
		Notice:            notice,
		PasswordError:     passwordError,
		PasswordURL:       h.tenantURL(ctx, PathAccountPassword),
		EndSessionURL:     h.tenantURL(ctx, PathAccountEndSession),
		WithdrawURL:       h.tenantURL(ctx, PathAccountWithdraw),
		SignOutURL:        h.tenantURL(ctx, PathAccountSignOut),
		MFAURL:            mfaURL,
		MFAStatus:         mfaStatus,
		PasswordMinLength: registry.PasswordPolicy(tenant.Tenant).MinLength,
		UnlinkURL:         h.tenantURL(ctx, PathAccountUnlink),
		LinkError:         linkError,
	}
	if !h.accountLinks(w, r, st, &page) {
		return
	}
	// This device first, then the others as the store ordered them.
	slices.SortStableFunc(sessions, func(a, b *storage.Session) int {
		switch {
		case a.ID == st.sess.ID:
			return -1
		case b.ID == st.sess.ID:
			return 1
		}
		return 0
	})
	for _, s := range sessions {
		device := s.UserAgent
		if device == "" {
			device = "Unknown browser"
		}
		page.Sessions = append(page.Sessions, templates.AccountSession{
			Handle:   h.sessionHandle(s.ID),
			Device:   device,
			SignedIn: approxTime(s.CreatedAt, now),
			LastUsed: approxTime(s.LastUsed(), now),
			Current:  s.ID == st.sess.ID,
		})
	}
	for _, c := range consents {
		app := templates.AccountApp{ClientID: c.ClientID, Name: c.ClientID, Since: approxTime(c.UpdatedAt, now)}
		if cl, err := h.p.Client(ctx, c.ClientID); err == nil {
			app.Name = clientName(cl)
		}
		for _, sc := range c.Scopes {
			app.Scopes = append(app.Scopes, templates.ScopeView{Name: sc, Description: templates.ScopeDescription(sc)})
		}
		page.Apps = append(page.Apps, app)
	}
	h.render(w, r, status, page)
}

// sessionHandle names a session in the end-session form without showing
// its ID (the hash of a cookie, and a storage key): a keyed hash, checked
// against the user's own sessions only.
func (h *Handler) sessionHandle(id string) string {
	m := hmac.New(sha256.New, h.csrfKey)
	m.Write([]byte("account-session\x00"))
	m.Write([]byte(id))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}

// approxTime is how long ago t was, roughly, or its date when long ago.
func approxTime(t, now time.Time) string {
	d := now.Sub(t)
	switch {
	case t.IsZero():
		return "at an unknown time"
	case d < 2*time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d minutes ago", int(d/time.Minute))
	case d < 2*time.Hour:
		return "an hour ago"
	case d < 24*time.Hour:
		return fmt.Sprintf("%d hours ago", int(d/time.Hour))
	case d < 48*time.Hour:
		return "yesterday"
	case d < 14*24*time.Hour:
		return fmt.Sprintf("%d days ago", int(d/(24*time.Hour)))
	}
	return "on " + t.UTC().Format("2 January 2006")
}

// redirectToAccount shows the page again after a change (POST, redirect,
// GET), with the notice done names.
func (h *Handler) redirectToAccount(w http.ResponseWriter, r *http.Request, done string) {
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, h.tenantURL(r.Context(), PathAccount)+"?done="+url.QueryEscape(done), http.StatusSeeOther)
}

// handleAccountPassword changes the password. The current password is
// required (a borrowed session alone cannot take the account over) and is
// checked under the login throttle, so the form is no faster an oracle
// than the login page. Afterwards every other session of the user ends and
// every grant not bound to this session is revoked (offline ones too):
// whoever knew the old password loses what it gave them.
func (h *Handler) handleAccountPassword(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	st, ok := h.postedAccountForm(w, r)
	if !ok {
		return
	}
	current, next, confirm := r.PostForm.Get("current_password"), r.PostForm.Get("new_password"), r.PostForm.Get("confirm_password")
	refuse := func(msg string) { h.accountPage(w, r, http.StatusBadRequest, st, "", msg) }
	if current == "" || len(current) > password.MaxLength || !utf8.ValidString(current) {
		refuse(msgWrongCurrentPassword)
		return
	}
	if next != confirm {
		refuse(msgPasswordsDiffer)
		return
	}
	tenant := h.p.Tenant(ctx).Tenant
	u := st.user
	if err := password.CheckPassword(next, registry.PasswordPolicy(tenant), u.Username, u.Email, u.Name, u.GivenName, u.FamilyName); err != nil {
		var pe *password.PolicyError
		if errors.As(err, &pe) {
			refuse(pe.Message)
			return
		}
		refuse("The new password is not acceptable.")
		return
	}
	addr := h.p.ClientAddress(r)
	dev := h.readDevice(r)
	known := h.knows(dev, tenant.Name, u.Username)
	event := AuthEvent{Event: storage.EventPasswordChanged, UserID: u.ID, DeviceID: dev.deviceID()}
	gate, err := h.gateAttempt(ctx, tenant, addr, u.Username, known)
	if err != nil {
		h.storagePage(w, r, "account: throttle", err, pageError{})
		return
	}
	if !gate.allowed {
		if h.firstRefusal(gate.key, gate.retryAt) {
			event.Outcome, event.Reason = OutcomeDenied, ReasonThrottled+":"+gate.scope
			h.p.RecordAuthEvent(r, event)
		}
		secs := retryAfter(gate.retryAt, h.now())
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		refuse(tooManyAttempts(secs))
		return
	}
	match, _, err := h.passwords.VerifyLogin(hashCaller(ctx, addr, known), current, u.PasswordHash)
	if errors.Is(err, password.ErrBusy) {
		h.errorPage(w, r, errBusy)
		return
	}
	if err != nil {
		slog.ErrorContext(ctx, "account: verify password", "error", err)
	}
	if !match {
		event.Outcome, event.Reason = OutcomeFailure, ReasonWrongPassword
		h.p.RecordAuthEvent(r, event)
		refuse(msgWrongCurrentPassword)
		return
	}
	if next == current {
		refuse(msgPasswordUnchanged)
		return
	}
	hash, err := h.passwords.Hash(ctx, next)
	if errors.Is(err, password.ErrBusy) {
		h.errorPage(w, r, errBusy)
		return
	}
	if err != nil {
		h.storagePage(w, r, "account: hash password", err, pageError{})
		return
	}
	now := h.now()
	if _, err := h.store.Users().UpdateUser(ctx, u.TenantID, u.ID, func(stored *storage.User) error {
		stored.PasswordHash = hash
		stored.UpdatedAt = now
		return nil
	}); err != nil {
		h.storagePage(w, r, "account: store password", err, pageError{})
		return
	}
	h.loginSucceeded(ctx, tenant.Name, addr, u.Username, known)
	if err := h.endOtherSessions(r, st); err != nil {
		// The password is changed; what remains must not be silently
		// left behind: the user sees the error and can end them by hand.
		h.storagePage(w, r, "account: end other sessions", err, pageError{})
		return
	}
	event.Outcome, event.Reason = OutcomeSuccess, "self"
	h.p.RecordAuthEvent(r, event)
	slog.InfoContext(ctx, "password changed on the account page", "tenant", tenant.Name, "user_id", u.ID)
	h.redirectToAccount(w, r, "password")
}

// endOtherSessions ends every session of the user but st's and revokes
// every grant not bound to st's session.
func (h *Handler) endOtherSessions(r *http.Request, st accountState) error {
	ctx := r.Context()
	now := h.now()
	tenant := st.sess.TenantID
	sessions, err := h.store.Sessions().ListUserSessions(ctx, tenant, st.user.ID, now)
	if err != nil {
		return err
	}
	for _, s := range sessions {
		if s.ID == st.sess.ID {
			continue
		}
		if err := h.store.Sessions().DeleteSession(ctx, tenant, s.ID); err != nil {
			return err
		}
	}
	// After the sessions, so that no other session can make a grant that
	// this revocation misses (short of a code issued just before and
	// redeemed just after it; see docs/account.md).
	return h.store.Grants().RevokeUserGrantsExcept(ctx, tenant, st.user.ID, st.sess.ID, now)
}

// handleAccountEndSession ends one of the user's sessions (this one
// included: then it is a sign-out) and revokes the grants bound to it.
func (h *Handler) handleAccountEndSession(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	st, ok := h.postedAccountForm(w, r)
	if !ok {
		return
	}
	handle := r.PostForm.Get("session")
	sessions, err := h.store.Sessions().ListUserSessions(ctx, st.sess.TenantID, st.user.ID, h.now())
	if err != nil {
		h.storagePage(w, r, "account: list sessions", err, pageError{})
		return
	}
	var target *storage.Session
	for _, s := range sessions {
		if hmac.Equal([]byte(h.sessionHandle(s.ID)), []byte(handle)) {
			target = s
			break
		}
	}
	if target == nil {
		h.errorPage(w, r, errAccountSessionGone)
		return
	}
	if target.ID == st.sess.ID {
		h.accountSignOut(w, r, st)
		return
	}
	if err := h.store.Sessions().DeleteSession(ctx, target.TenantID, target.ID); err != nil {
		h.storagePage(w, r, "account: end session", err, pageError{})
		return
	}
	if err := h.store.Grants().RevokeSessionGrants(ctx, target.TenantID, target.ID, h.now()); err != nil {
		h.storagePage(w, r, "account: revoke the session's grants", err, pageError{})
		return
	}
	h.p.RecordAuthEvent(r, AuthEvent{Event: storage.EventSessionEnded, UserID: st.user.ID, Outcome: OutcomeSuccess, Reason: "account"})
	h.redirectToAccount(w, r, "session")
}

// handleAccountWithdraw withdraws the user's consent to a client; the
// store revokes the grants made on it in the same step.
func (h *Handler) handleAccountWithdraw(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	st, ok := h.postedAccountForm(w, r)
	if !ok {
		return
	}
	clientID := r.PostForm.Get("client_id")
	if _, err := h.store.Consents().Consent(ctx, st.sess.TenantID, st.user.ID, clientID); err != nil {
		h.storagePage(w, r, "account: load consent", err, errAccountNoConsent)
		return
	}
	if err := h.store.Consents().RevokeConsent(ctx, st.sess.TenantID, st.user.ID, clientID); err != nil {
		h.storagePage(w, r, "account: withdraw consent", err, pageError{})
		return
	}
	h.p.RecordAuthEvent(r, AuthEvent{Event: storage.EventConsentWithdrawn, UserID: st.user.ID, ClientID: clientID, Outcome: OutcomeSuccess})
	h.redirectToAccount(w, r, "withdrawn")
}

// handleAccountSignOut signs this browser out.
func (h *Handler) handleAccountSignOut(w http.ResponseWriter, r *http.Request) {
	st, ok := h.postedAccountForm(w, r)
	if !ok {
		return
	}
	h.accountSignOut(w, r, st)
}

func (h *Handler) accountSignOut(w http.ResponseWriter, r *http.Request, st accountState) {
	ctx := r.Context()
	h.endBrowserSession(ctx, w, r, true)
	h.p.RecordAuthEvent(r, AuthEvent{Event: storage.EventLogout, UserID: st.user.ID, Outcome: OutcomeSuccess, Reason: "account"})
	h.render(w, r, http.StatusOK, templates.LoggedOutPage{Branding: h.branding(ctx)})
}

// accountLinks fills the "Linked accounts" section: the user's links to
// upstream providers (docs/federation.md). The section is shown when the
// tenant has a connector or the user has a link (a link can outlive its
// connector's removal from the list only in a broken store, but is shown
// all the same, so it can be removed). It has answered when it returns
// false.
func (h *Handler) accountLinks(w http.ResponseWriter, r *http.Request, st accountState, page *templates.AccountPage) bool {
	ctx := r.Context()
	tenant := st.sess.TenantID
	links, err := h.store.Connectors().ListUserLinks(ctx, tenant, st.user.ID)
	if err != nil {
		h.storagePage(w, r, "account: list links", err, pageError{})
		return false
	}
	conns, err := h.store.Connectors().ListConnectors(ctx, tenant)
	if err != nil {
		h.storagePage(w, r, "account: list connectors", err, pageError{})
		return false
	}
	page.ShowLinks = len(conns) > 0 || len(links) > 0
	names := make(map[string]string, len(conns))
	for _, c := range conns {
		names[c.ID] = c.DisplayName
		if names[c.ID] == "" {
			names[c.ID] = c.ID
		}
	}
	for _, l := range links {
		name := names[l.ConnectorID]
		if name == "" {
			name = l.ConnectorID
		}
		page.Links = append(page.Links, templates.AccountLink{
			ConnectorID: l.ConnectorID,
			Connector:   name,
			Subject:     l.Subject,
			Since:       approxTime(l.CreatedAt, h.now()),
		})
	}
	// The only way left to sign in cannot be removed (the registry
	// refuses it too): the page says so instead of offering the button.
	page.LinksRemovable = st.user.PasswordHash != "" || len(links) > 1
	return true
}

// handleAccountUnlink removes one of the user's links to an upstream
// account. The registry refuses to remove the last way to sign in (no
// password and no other link); the page then says why.
func (h *Handler) handleAccountUnlink(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	st, ok := h.postedAccountForm(w, r)
	if !ok {
		return
	}
	if h.upstream == nil || h.upstream.Registry == nil {
		h.errorPage(w, r, errAccountNoLink)
		return
	}
	connector, subject := r.PostForm.Get("connector"), r.PostForm.Get("subject")
	if connector == "" || subject == "" {
		h.errorPage(w, r, errAccountNoLink)
		return
	}
	reg := h.upstream.Registry.As(registry.Actor{Tenant: st.sess.TenantID, ClientID: "account"})
	err := reg.UnlinkUser(ctx, st.sess.TenantID, st.user.ID, connector, subject)
	if registry.IsValidationError(err) {
		h.p.RecordAuthEvent(r, AuthEvent{Event: storage.EventLinkRemoved, UserID: st.user.ID,
			Outcome: OutcomeDenied, Reason: ReasonLastSignInMethod + ":" + connector})
		h.accountPageWith(w, r, http.StatusConflict, st, "", "", msgLastSignInMethod)
		return
	}
	if err != nil {
		h.storagePage(w, r, "account: remove link", err, errAccountNoLink)
		return
	}
	h.p.RecordAuthEvent(r, AuthEvent{Event: storage.EventLinkRemoved, UserID: st.user.ID,
		Outcome: OutcomeSuccess, Reason: "account:" + connector})
	slog.InfoContext(ctx, "upstream link removed on the account page", "tenant", st.sess.TenantID,
		"user_id", st.user.ID, "connector", connector)
	h.redirectToAccount(w, r, "unlinked")
}

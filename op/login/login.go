package login

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

// amrPassword is the authentication method of a password login (RFC 8176).
const amrPassword = "pwd"

// pendingAuthRequest loads the auth request a login or consent form is
// about, or shows the user why it cannot continue.
func (h *Handler) pendingAuthRequest(w http.ResponseWriter, r *http.Request, id string) (*storage.AuthRequest, *storage.Client, bool) {
	ctx := r.Context()
	ar, err := h.store.AuthRequests().AuthRequest(ctx, h.p.Tenant(ctx).Name, id)
	if err == nil && isAccountRequest(ar) {
		return ar, accountClient(), true
	}
	if err == nil {
		var c *storage.Client
		if c, err = h.p.Client(ctx, ar.ClientID); err == nil {
			return ar, c, true
		}
	}
	h.storagePage(w, r, "load auth request", err, errExpiredRequest)
	return nil, nil, false
}

func (h *Handler) loginPage(w http.ResponseWriter, r *http.Request, status int, ar *storage.AuthRequest, c *storage.Client, username, msg string) {
	buttons := h.connectorButtons(r.Context())
	h.render(w, r, status, templates.LoginPage{
		Branding:      h.branding(r.Context()),
		ActionURL:     h.tenantURL(r.Context(), PathLogin),
		CSRFToken:     h.csrfToken(w, r, "login:"+ar.ID),
		AuthRequestID: ar.ID,
		ClientName:    clientName(c),
		Username:      username,
		Error:         msg,
		Connectors:    buttons,
		// upstream.go: connectors only, when the tenant says so.
		PasswordHidden: h.passwordHidden(r.Context(), buttons),
	})
}

func clientName(c *storage.Client) string {
	if c.Name != "" {
		return c.Name
	}
	return c.ID
}

// handleLoginForm shows the login form of a pending auth request.
func (h *Handler) handleLoginForm(w http.ResponseWriter, r *http.Request) {
	ar, c, ok := h.pendingAuthRequest(w, r, r.URL.Query().Get("auth_request_id"))
	if !ok {
		return
	}
	h.loginPage(w, r, http.StatusOK, ar, c, ar.LoginHint, "")
}

// postedAuthForm reads a posted login or consent form: the pending
// authorization request it continues and its client, once the form's CSRF
// token for purpose ("login", "consent") and that request checks out.
// Otherwise it has shown the error page (expired: a stale or forged token)
// and reports false.
func (h *Handler) postedAuthForm(w http.ResponseWriter, r *http.Request, purpose string, expired pageError) (*storage.AuthRequest, *storage.Client, bool) {
	if err := r.ParseForm(); err != nil {
		h.errorPage(w, r, errUnreadableForm)
		return nil, nil, false
	}
	ar, c, ok := h.pendingAuthRequest(w, r, r.PostForm.Get("auth_request_id"))
	if !ok {
		return nil, nil, false
	}
	if !h.validCSRF(r, purpose+":"+ar.ID) {
		h.errorPage(w, r, expired)
		return nil, nil, false
	}
	return ar, c, true
}

// handleLogin checks the submitted credentials. Every attempt passes the
// throttle first (defence.go), before the user is even looked up, so that
// unknown and known usernames are throttled alike and a throttled attempt
// costs no hashing. Unknown users, wrong passwords and imported bcrypt
// users then do the same work (password.Hasher.VerifyLogin), so the
// answer's timing does not reveal which usernames exist.
func (h *Handler) handleLogin(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ar, c, ok := h.postedAuthForm(w, r, "login", errLoginFormExpired)
	if !ok {
		return
	}
	if h.passwordHidden(ctx, h.connectorButtons(ctx)) { // upstream.go
		h.errorPage(w, r, errPasswordLoginOff)
		return
	}
	username := registry.NormalizeUsername(r.PostForm.Get("username"))
	pw := r.PostForm.Get("password")
	if username == "" || pw == "" || len(pw) > password.MaxLength || !utf8.ValidString(username) || len(username) > maxUsernameBytes {
		h.loginPage(w, r, http.StatusBadRequest, ar, c, username, msgInvalidCredentials)
		return
	}
	tenant := h.p.Tenant(ctx).Tenant
	addr := h.p.ClientAddress(r)
	dev := h.readDevice(r)
	known := h.knows(dev, tenant.Name, username)
	event := AuthEvent{Username: username, ClientID: c.ID, DeviceID: dev.deviceID()}

	gate, err := h.gateAttempt(ctx, tenant, addr, username, known)
	if err != nil {
		h.storagePage(w, r, "login: throttle", err, pageError{})
		return
	}
	if !gate.allowed {
		if h.firstRefusal(gate.key, gate.retryAt) {
			event.Event, event.Outcome, event.Reason = storage.EventLoginThrottled, OutcomeDenied, ReasonThrottled+":"+gate.scope
			h.p.RecordAuthEvent(r, event)
		}
		h.throttled(w, r, ar, c, username, gate.retryAt)
		return
	}

	user, err := h.store.Users().UserByUsername(ctx, ar.TenantID, username)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		h.storagePage(w, r, "login: load user", err, pageError{})
		return
	}
	stored := ""
	if user != nil {
		stored = user.PasswordHash
		event.UserID = user.ID
	}
	match, rehash, err := h.passwords.VerifyLogin(hashCaller(ctx, addr, known), pw, stored)
	if errors.Is(err, password.ErrBusy) {
		event.Event, event.Outcome, event.Reason = storage.EventLoginFailed, OutcomeFailure, ReasonBusy
		h.p.RecordAuthEvent(r, event)
		h.errorPage(w, r, errBusy)
		return
	}
	if err != nil {
		slog.ErrorContext(ctx, "login: verify password", "error", err)
	}
	if !match || user.Disabled {
		event.Event, event.Outcome = storage.EventLoginFailed, OutcomeFailure
		switch {
		case user == nil:
			event.Reason = ReasonUnknownUser
		case !match:
			event.Reason = ReasonWrongPassword
		default:
			event.Reason = ReasonDisabled
		}
		h.p.RecordAuthEvent(r, event)
		slog.InfoContext(ctx, "login failed", "tenant", ar.TenantID)
		h.loginPage(w, r, http.StatusBadRequest, ar, c, username, msgInvalidCredentials)
		return
	}
	if rehash {
		h.rehashPassword(r, user, pw)
	}
	if !hintMatches(ar, user.ID) {
		// OIDC Core §3.1.2.1: the client asked for the user its
		// id_token_hint names; someone else signed in. No session is
		// started (this browser's state does not change) and the client
		// hears login_required instead of getting a code.
		slog.InfoContext(ctx, "login as another user than the id_token_hint names", "tenant", ar.TenantID)
		h.finishWithError(w, r, ar, errHintMismatch)
		return
	}
	step, err := h.secondFactorStep(ctx, tenant, c, ar, user.ID)
	if err != nil {
		h.storagePage(w, r, "login: second factor", err, pageError{})
		return
	}
	if step != mfaNone {
		// The password was right: its throttle forgets the account; the
		// sign-in is recorded once the second factor is done too.
		h.loginSucceeded(ctx, tenant.Name, addr, username, known)
		h.askSecondFactor(w, r, ar, c, user, step)
		return
	}
	amr := []string{amrPassword}
	sess, err := h.startSession(ctx, w, r, user, amr)
	if err != nil {
		h.storagePage(w, r, "login: start session", err, pageError{})
		return
	}
	h.loginSucceeded(ctx, tenant.Name, addr, username, known)
	dev = h.rememberDevice(w, r, dev, username)
	event.Event, event.Outcome, event.DeviceID = storage.EventLoginSucceeded, OutcomeSuccess, dev.deviceID()
	h.p.RecordAuthEvent(r, event)
	slog.InfoContext(ctx, "login succeeded", "tenant", ar.TenantID, "user_id", user.ID)
	ar.UserID, ar.SessionID, ar.AuthTime, ar.AMR = user.ID, sess.ID, sess.AuthTime, slices.Clone(amr)
	h.continueAuthorization(w, r, ar, c)
}

// maxUsernameBytes bounds a submitted username before it is hashed into
// throttle keys or looked up (registry usernames are at most 128 runes).
const maxUsernameBytes = 512

// rehashPassword upgrades a bcrypt (imported) or outdated argon2id hash
// after a successful login. Failure is logged, not shown: the login itself
// succeeded.
func (h *Handler) rehashPassword(r *http.Request, user *storage.User, pw string) {
	ctx := r.Context()
	hash, err := h.passwords.Hash(ctx, pw)
	if err == nil {
		_, err = h.store.Users().UpdateUser(ctx, user.TenantID, user.ID, func(u *storage.User) error {
			u.PasswordHash = hash
			u.UpdatedAt = h.now()
			return nil
		})
	}
	if err != nil {
		slog.WarnContext(ctx, "login: rehash password", "error", err)
	}
}

package login

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/herald-idp/herald/keys"
	"github.com/herald-idp/herald/op/mfa"
	"github.com/herald-idp/herald/storage"
	"github.com/herald-idp/herald/templates"
)

// The second step of a sign-in (docs/mfa.md). After the password (or, for
// a step-up, within an SSO session that lacks a second factor) a user with
// a confirmed TOTP factor gets the code form; a user who must have one but
// has none goes through the set-up first. Until the code is accepted no
// session is started: what the first step proved travels in a signed,
// short-lived "pending sign-in" bound to the authorization request, the
// tenant and the browser's CSRF cookie.

const (
	msgInvalidCode = "Invalid code."
	// pendingLifetime bounds how long a password may wait for its code.
	pendingLifetime = 10 * time.Minute
	// maxCodeBytes bounds a submitted code before any work is done.
	maxCodeBytes = 64
	// secretPurpose names TOTP secrets for keys.Manager sealing.
	secretPurpose = keys.TOTPSecretPurpose
	qrCodeSize    = 240
)

var errSetupExpired = pageError{http.StatusBadRequest, "Set-up expired",
	"This set-up is no longer valid. Start again."}

// mfaStep is what a sign-in needs after its first factor.
type mfaStep int

const (
	mfaNone   mfaStep = iota
	mfaVerify         // ask for the code of the confirmed factor
	mfaSetup          // the factor is required but missing: set it up
)

func (h *Handler) mfaRoutes(r chi.Router, forms *http.CrossOriginProtection) {
	r.With(forms.Handler).Post(PathLoginOTP, h.handleLoginOTP)
	r.With(forms.Handler).Post(PathLoginMFASetup, h.handleLoginMFASetup)
	r.Get(PathAccountMFA, h.handleAccountMFA)
	r.With(forms.Handler).Post(PathAccountMFASetup, h.handleAccountMFASetup)
	r.With(forms.Handler).Post(PathAccountMFAConfirm, h.handleAccountMFAConfirm)
	r.With(forms.Handler).Post(PathAccountMFARemove, h.handleAccountMFARemove)
	r.With(forms.Handler).Post(PathAccountMFARecoveryCodes, h.handleAccountMFARecoveryCodes)
	for _, path := range []string{PathLoginOTP, PathLoginMFASetup, PathAccountMFA, PathAccountMFASetup,
		PathAccountMFAConfirm, PathAccountMFARemove, PathAccountMFARecoveryCodes} {
		r.Options(path, methodNotAllowed)
	}
}

// mfaPolicy is the tenant's policy ("" reads as optional).
func mfaPolicy(t *storage.Tenant) storage.MFASettings {
	if t == nil {
		return storage.MFASettings{}
	}
	return t.Settings.MFA
}

// mfaRequired reports whether a sign-in for ar to c must use a second
// factor: the tenant requires it (for every client or for c), or the
// client asked for the multi-factor class through acr_values. Under the
// policy "off" nothing requires it.
func mfaRequired(t *storage.Tenant, c *storage.Client, ar *storage.AuthRequest) bool {
	p := mfaPolicy(t)
	switch {
	case p.Policy == storage.MFAOff:
		return false
	case p.Policy == storage.MFARequired:
		return true
	case p.Policy == storage.MFARequiredForClients && slices.Contains(p.Clients, c.ID) && !isAccountRequest(ar):
		return true
	}
	return ar.RequiredACR == mfa.ACRMFA
}

// secondFactorStep decides the step after the password: a user with a
// confirmed factor is always asked for it (unless the policy is off); one
// without is sent to set it up when it is required.
func (h *Handler) secondFactorStep(ctx context.Context, t *storage.Tenant, c *storage.Client, ar *storage.AuthRequest, userID string) (mfaStep, error) {
	if mfaPolicy(t).Policy == storage.MFAOff {
		return mfaNone, nil
	}
	f, err := h.store.SecondFactors().SecondFactor(ctx, t.Name, userID)
	switch {
	case err == nil && f.Confirmed():
		return mfaVerify, nil
	case err != nil && !errors.Is(err, storage.ErrNotFound):
		return mfaNone, err
	case mfaRequired(t, c, ar):
		return mfaSetup, nil
	}
	return mfaNone, nil
}

// stepUp is secondFactorStep for a reusable SSO session: a session that
// already used a second factor needs nothing more; otherwise the factor is
// asked for only when the request requires it (the user's own optional
// factor was asked for when the session began, or did not exist then).
func (h *Handler) stepUp(ctx context.Context, t *storage.Tenant, c *storage.Client, ar *storage.AuthRequest, sess *storage.Session) (mfaStep, error) {
	if slices.Contains(sess.AMR, mfa.AMROTP) || !mfaRequired(t, c, ar) {
		return mfaNone, nil
	}
	return h.secondFactorStep(ctx, t, c, ar, sess.UserID)
}

// pendingSignIn is what the first factor proved, carried to the second.
type pendingSignIn struct {
	AuthRequestID string `json:"a"`
	UserID        string `json:"u"`
	Expires       int64  `json:"e"`
}

func (h *Handler) pendingMAC(r *http.Request, payload string) []byte {
	m := hmac.New(sha256.New, h.csrfKey)
	for _, p := range []string{"mfa-pending", h.p.Tenant(r.Context()).Name, h.cookie(r, csrfCookie), payload} {
		m.Write([]byte(p))
		m.Write([]byte{0})
	}
	return m.Sum(nil)
}

// pendingState signs a pending sign-in of userID for ar. It makes sure the
// browser has a CSRF cookie, to which the state is bound.
func (h *Handler) pendingState(w http.ResponseWriter, r *http.Request, ar *storage.AuthRequest, userID string) string {
	h.csrfToken(w, r, "mfa") // creates the cookie when missing
	exp := h.now().Add(pendingLifetime)
	if ar.ExpiresAt.Before(exp) {
		exp = ar.ExpiresAt
	}
	b, _ := json.Marshal(pendingSignIn{AuthRequestID: ar.ID, UserID: userID, Expires: exp.Unix()})
	payload := base64.RawURLEncoding.EncodeToString(b)
	return payload + "." + base64.RawURLEncoding.EncodeToString(h.pendingMAC(r, payload))
}

// readPending checks the posted mfa_state for ar and returns its user ID.
func (h *Handler) readPending(r *http.Request, ar *storage.AuthRequest) (string, bool) {
	payload, mac, ok := strings.Cut(r.PostForm.Get("mfa_state"), ".")
	if !ok || len(payload) > 512 || len(h.cookie(r, csrfCookie)) < 32 {
		return "", false
	}
	got, err := base64.RawURLEncoding.DecodeString(mac)
	if err != nil || !hmac.Equal(got, h.pendingMAC(r, payload)) {
		return "", false
	}
	b, err := base64.RawURLEncoding.DecodeString(payload)
	var p pendingSignIn
	if err != nil || json.Unmarshal(b, &p) != nil {
		return "", false
	}
	if p.AuthRequestID != ar.ID || p.UserID == "" || h.now().Unix() > p.Expires {
		return "", false
	}
	return p.UserID, true
}

// askSecondFactor shows the code form or the set-up for user.
func (h *Handler) askSecondFactor(w http.ResponseWriter, r *http.Request, ar *storage.AuthRequest, c *storage.Client, user *storage.User, step mfaStep) {
	if step == mfaSetup {
		h.loginSetupPage(w, r, ar, c, user, nil, "")
		return
	}
	h.otpPage(w, r, http.StatusOK, ar, c, user.ID, "")
}

func (h *Handler) otpPage(w http.ResponseWriter, r *http.Request, status int, ar *storage.AuthRequest, c *storage.Client, userID, msg string) {
	h.render(w, r, status, templates.OTPPage{
		Branding:      h.branding(r.Context()),
		ActionURL:     h.tenantURL(r.Context(), PathLoginOTP),
		CSRFToken:     h.csrfToken(w, r, "otp:"+ar.ID),
		AuthRequestID: ar.ID,
		State:         h.pendingState(w, r, ar, userID),
		ClientName:    clientName(c),
		Error:         msg,
	})
}

// pendingUser reads the pending sign-in of a posted second-factor form and
// loads its user, or shows why the sign-in cannot go on.
func (h *Handler) pendingUser(w http.ResponseWriter, r *http.Request, ar *storage.AuthRequest) (*storage.User, bool) {
	userID, ok := h.readPending(r, ar)
	if !ok {
		h.errorPage(w, r, errLoginFormExpired)
		return nil, false
	}
	u, err := h.store.Users().User(r.Context(), ar.TenantID, userID)
	if err == nil && u.Disabled {
		err = storage.ErrNotFound
	}
	if err != nil {
		h.storagePage(w, r, "second factor: load user", err, errLoginFormExpired)
		return nil, false
	}
	return u, true
}

// handleLoginOTP checks the second factor of a pending sign-in.
func (h *Handler) handleLoginOTP(w http.ResponseWriter, r *http.Request) {
	ar, c, ok := h.postedAuthForm(w, r, "otp", errLoginFormExpired)
	if !ok {
		return
	}
	user, ok := h.pendingUser(w, r, ar)
	if !ok {
		return
	}
	ctx := r.Context()
	tenant := h.p.Tenant(ctx).Tenant
	event := AuthEvent{UserID: user.ID, ClientID: c.ID, DeviceID: h.readDevice(r).deviceID()}
	if !h.passSecondFactorGate(w, r, tenant, user.ID, event, func(msg string) {
		h.otpPage(w, r, http.StatusTooManyRequests, ar, c, user.ID, msg)
	}) {
		return
	}
	recovery, reason, err := h.verifySecondFactor(ctx, tenant.Name, user.ID, r.PostForm.Get("otp"))
	if err != nil {
		h.storagePage(w, r, "second factor: verify", err, pageError{})
		return
	}
	if reason != "" {
		event.Event, event.Outcome, event.Reason = storage.EventMFAFailed, OutcomeFailure, reason
		h.p.RecordAuthEvent(r, event)
		h.otpPage(w, r, http.StatusBadRequest, ar, c, user.ID, msgInvalidCode)
		return
	}
	event.Event, event.Outcome = storage.EventMFASucceeded, OutcomeSuccess
	if recovery {
		event.Reason = ReasonRecoveryCode
	}
	h.p.RecordAuthEvent(r, event)
	h.secondFactorSucceeded(ctx, tenant.Name, h.p.ClientAddress(r), user.ID)
	h.finishSecondFactor(w, r, ar, c, user)
}

// finishSecondFactor starts the session of a sign-in with both factors and
// continues the authorization.
func (h *Handler) finishSecondFactor(w http.ResponseWriter, r *http.Request, ar *storage.AuthRequest, c *storage.Client, user *storage.User) {
	ctx := r.Context()
	if !hintMatches(ar, user.ID) {
		h.finishWithError(w, r, ar, errHintMismatch)
		return
	}
	sess, ok := h.startFullSession(w, r, ar, c, user)
	if !ok {
		return
	}
	ar.UserID, ar.SessionID, ar.AuthTime, ar.AMR = user.ID, sess.ID, sess.AuthTime, slices.Clone(sess.AMR)
	slog.InfoContext(ctx, "login succeeded", "tenant", ar.TenantID, "user_id", user.ID, "amr", strings.Join(sess.AMR, " "))
	h.continueAuthorization(w, r, ar, c)
}

// startFullSession starts a session with amr ["pwd","otp"] (RFC 8176) and
// records the sign-in. A step-up replaces the password-only session (its
// grants end with it, as for prompt=login).
func (h *Handler) startFullSession(w http.ResponseWriter, r *http.Request, ar *storage.AuthRequest, c *storage.Client, user *storage.User) (*storage.Session, bool) {
	ctx := r.Context()
	sess, err := h.startSession(ctx, w, r, user, []string{mfa.AMRPassword, mfa.AMROTP})
	if err != nil {
		h.storagePage(w, r, "second factor: start session", err, pageError{})
		return nil, false
	}
	dev := h.rememberDevice(w, r, h.readDevice(r), user.Username)
	h.p.RecordAuthEvent(r, AuthEvent{Event: storage.EventLoginSucceeded, UserID: user.ID, ClientID: c.ID,
		Outcome: OutcomeSuccess, DeviceID: dev.deviceID()})
	return sess, true
}

// passSecondFactorGate counts a second-factor attempt (per address, per
// account and per account from the address, like passwords, under keys of
// their own) and reports whether it may go ahead. Otherwise it answers
// 429 with Retry-After through refused, or the error page.
func (h *Handler) passSecondFactorGate(w http.ResponseWriter, r *http.Request, tenant *storage.Tenant, userID string, event AuthEvent, refused func(msg string)) bool {
	ctx := r.Context()
	st := effectiveThrottle(tenant)
	ak := addressKey(h.p.ClientAddress(r))
	checks := []struct {
		scope, key string
		rule       storage.ThrottleRule
	}{
		{"address", h.throttleKey("mfa-a", ak), throttleRule(st, st.AddressFree)},
		{"account_address", h.throttleKey("mfa-ua", userID, ak), throttleRule(st, st.AccountAddressFree)},
		{"account", h.throttleKey("mfa-u", userID), throttleRule(st, st.AccountFree)},
	}
	now := h.now()
	for _, c := range checks {
		d, err := h.store.LoginAttempts().Attempt(ctx, tenant.Name, c.key, now, c.rule)
		if err != nil {
			h.storagePage(w, r, "second factor: throttle", err, pageError{})
			return false
		}
		if !d.Allowed {
			if h.firstRefusal(c.key, d.RetryAt) {
				event.Event, event.Outcome, event.Reason = storage.EventMFAThrottled, OutcomeDenied, ReasonThrottled+":"+c.scope
				h.p.RecordAuthEvent(r, event)
			}
			secs := retryAfter(d.RetryAt, now)
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			refused(tooManyAttempts(secs))
			return false
		}
	}
	return true
}

// secondFactorSucceeded forgets the account's second-factor attempts.
func (h *Handler) secondFactorSucceeded(ctx context.Context, tenant string, addr netip.Addr, userID string) {
	for _, key := range []string{h.throttleKey("mfa-ua", userID, addressKey(addr)), h.throttleKey("mfa-u", userID)} {
		if err := h.store.LoginAttempts().ResetAttempts(ctx, tenant, key); err != nil {
			slog.WarnContext(ctx, "second factor: reset throttle", "error", err)
		}
	}
}

// verifySecondFactor checks a submitted code against the user's confirmed
// factor: a TOTP code (±1 step, each step once) or an unused recovery code
// (then used up). reason is "" on success; err only for failures of the
// store or the KEK (never shown).
func (h *Handler) verifySecondFactor(ctx context.Context, tenant, userID, submitted string) (recovery bool, reason string, err error) {
	if len(submitted) > maxCodeBytes {
		return false, ReasonWrongCode, nil
	}
	f, err := h.store.SecondFactors().SecondFactor(ctx, tenant, userID)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && !f.Confirmed()) {
		return false, ReasonNoSecondFactor, nil
	}
	if err != nil {
		return false, "", err
	}
	code := mfa.NormalizeCode(submitted)
	now := h.now()
	switch {
	case mfa.IsTOTPCode(code):
		secret, err := h.userSecrets.OpenUserSecret(secretPurpose, tenant, userID, f.Secret)
		if err != nil {
			return false, "", err
		}
		step, ok := mfa.Verify(secret, code, now)
		clear(secret)
		if !ok {
			return false, ReasonWrongCode, nil
		}
		switch err := h.store.SecondFactors().UseTOTPStep(ctx, tenant, userID, step, now); {
		case errors.Is(err, storage.ErrAlreadyUsed):
			return false, ReasonReplayedCode, nil
		case errors.Is(err, storage.ErrNotFound):
			return false, ReasonNoSecondFactor, nil
		case err != nil:
			return false, "", err
		}
		return false, "", nil
	case mfa.IsRecoveryCode(code):
		_, err := h.store.SecondFactors().UseRecoveryCode(ctx, tenant, userID, mfa.HashRecoveryCode(tenant, userID, code), now)
		switch {
		case errors.Is(err, storage.ErrNotFound):
			return false, ReasonWrongCode, nil
		case err != nil:
			return false, "", err
		}
		return true, "", nil
	}
	return false, ReasonWrongCode, nil
}

// newSetup starts a set-up for user: a fresh secret, sealed and stored as
// the pending factor. ErrAlreadyExists if the user has a confirmed one.
func (h *Handler) newSetup(ctx context.Context, user *storage.User) (*mfa.Key, error) {
	secret, err := mfa.NewSecret()
	if err != nil {
		return nil, err
	}
	defer clear(secret)
	sealed, err := h.userSecrets.SealUserSecret(secretPurpose, user.TenantID, user.ID, secret)
	if err != nil {
		return nil, err
	}
	now := h.now()
	if err := h.store.SecondFactors().BeginSecondFactor(ctx, &storage.SecondFactor{TenantID: user.TenantID,
		UserID: user.ID, Secret: sealed, CreatedAt: now, UpdatedAt: now}); err != nil {
		return nil, err
	}
	return h.totpKey(ctx, user, secret)
}

// totpKey describes secret for an authenticator app: issued by the
// tenant's display name, for the username.
func (h *Handler) totpKey(ctx context.Context, user *storage.User, secret []byte) (*mfa.Key, error) {
	issuer := user.TenantID
	if t := h.p.Tenant(ctx).Tenant; t != nil && t.DisplayName != "" {
		issuer = t.DisplayName
	}
	return mfa.NewKey(secret, issuer, user.Username)
}

// pendingKey opens the user's pending set-up (nil when there is none).
func (h *Handler) pendingKey(ctx context.Context, user *storage.User) (*mfa.Key, *storage.SecondFactor, error) {
	f, err := h.store.SecondFactors().SecondFactor(ctx, user.TenantID, user.ID)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && f.Confirmed()) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	secret, err := h.userSecrets.OpenUserSecret(secretPurpose, user.TenantID, user.ID, f.Secret)
	if err != nil {
		return nil, nil, err
	}
	defer clear(secret)
	k, err := h.totpKey(ctx, user, secret)
	return k, f, err
}

// setupPage renders a set-up of key.
func (h *Handler) setupPage(w http.ResponseWriter, r *http.Request, status int, page templates.MFASetupPage, key *mfa.Key) {
	png, err := key.QRCodePNG(qrCodeSize)
	if err != nil {
		slog.ErrorContext(r.Context(), "second factor: QR code", "error", err)
	}
	page.Branding = h.branding(r.Context())
	page.QRCodePNG, page.Secret, page.URI = png, key.SecretGroups(), key.URI()
	h.render(w, r, status, page)
}

// loginSetupPage shows the set-up a sign-in requires: a new one when key is
// nil, else key again (after a wrong code).
func (h *Handler) loginSetupPage(w http.ResponseWriter, r *http.Request, ar *storage.AuthRequest, c *storage.Client, user *storage.User, key *mfa.Key, msg string) {
	ctx := r.Context()
	status := http.StatusOK
	if key == nil {
		var err error
		key, err = h.newSetup(ctx, user)
		if errors.Is(err, storage.ErrAlreadyExists) {
			// Confirmed meanwhile (another tab): ask for the code instead.
			h.otpPage(w, r, http.StatusOK, ar, c, user.ID, "")
			return
		}
		if err != nil {
			h.storagePage(w, r, "second factor: begin set-up", err, pageError{})
			return
		}
	} else {
		status = http.StatusBadRequest
	}
	h.setupPage(w, r, status, templates.MFASetupPage{
		Forced:        true,
		ActionURL:     h.tenantURL(ctx, PathLoginMFASetup),
		CSRFToken:     h.csrfToken(w, r, "mfa-setup:"+ar.ID),
		AuthRequestID: ar.ID,
		State:         h.pendingState(w, r, ar, user.ID),
		Error:         msg,
	}, key)
}

// handleLoginMFASetup confirms the set-up a sign-in requires
// (action=confirm), then, after the recovery codes were shown, continues
// the authorization (action=continue).
func (h *Handler) handleLoginMFASetup(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		h.errorPage(w, r, errUnreadableForm)
		return
	}
	if r.PostForm.Get("action") == "continue" {
		h.continueAfterSetup(w, r)
		return
	}
	ar, c, ok := h.postedAuthForm(w, r, "mfa-setup", errLoginFormExpired)
	if !ok {
		return
	}
	user, ok := h.pendingUser(w, r, ar)
	if !ok {
		return
	}
	ctx := r.Context()
	tenant := h.p.Tenant(ctx).Tenant
	key, f, err := h.pendingKey(ctx, user)
	if err != nil {
		h.storagePage(w, r, "second factor: load set-up", err, pageError{})
		return
	}
	if key == nil {
		h.errorPage(w, r, errSetupExpired)
		return
	}
	event := AuthEvent{UserID: user.ID, ClientID: c.ID, DeviceID: h.readDevice(r).deviceID()}
	if !h.passSecondFactorGate(w, r, tenant, user.ID, event, func(msg string) {
		h.loginSetupPage(w, r, ar, c, user, key, msg)
	}) {
		return
	}
	codes, ok := h.confirmSetup(w, r, user, key, f, event, func(msg string) {
		h.loginSetupPage(w, r, ar, c, user, key, msg)
	})
	if !ok {
		return
	}
	h.secondFactorSucceeded(ctx, tenant.Name, h.p.ClientAddress(r), user.ID)
	if !hintMatches(ar, user.ID) {
		h.finishWithError(w, r, ar, errHintMismatch)
		return
	}
	sess, ok := h.startFullSession(w, r, ar, c, user)
	if !ok {
		return
	}
	ar.UserID, ar.SessionID, ar.AuthTime, ar.AMR = user.ID, sess.ID, sess.AuthTime, slices.Clone(sess.AMR)
	if err := h.saveAuthenticated(ctx, ar); err != nil {
		h.storagePage(w, r, "second factor: save request", err, errExpiredRequest)
		return
	}
	h.render(w, r, http.StatusOK, templates.RecoveryCodesPage{
		Branding:      h.branding(ctx),
		Codes:         codes,
		ContinueURL:   h.tenantURL(ctx, PathLoginMFASetup),
		CSRFToken:     h.csrfToken(w, r, "mfa-continue:"+ar.ID),
		AuthRequestID: ar.ID,
	})
}

// confirmSetup checks the first code of a set-up and confirms it with
// fresh recovery codes, which it returns (to be shown once). On a wrong
// code it calls retry with the message and reports false.
func (h *Handler) confirmSetup(w http.ResponseWriter, r *http.Request, user *storage.User, key *mfa.Key, f *storage.SecondFactor, event AuthEvent, retry func(msg string)) ([]string, bool) {
	ctx := r.Context()
	secret, err := h.userSecrets.OpenUserSecret(secretPurpose, user.TenantID, user.ID, f.Secret)
	if err != nil {
		h.storagePage(w, r, "second factor: open secret", err, pageError{})
		return nil, false
	}
	step, ok := mfa.Verify(secret, r.PostForm.Get("otp"), h.now())
	clear(secret)
	if !ok || len(r.PostForm.Get("otp")) > maxCodeBytes {
		event.Event, event.Outcome, event.Reason = storage.EventMFAFailed, OutcomeFailure, ReasonWrongCode
		h.p.RecordAuthEvent(r, event)
		retry("That code did not match. Check the time on your device and try the next code.")
		return nil, false
	}
	codes, err := mfa.NewRecoveryCodes()
	if err != nil {
		h.storagePage(w, r, "second factor: recovery codes", err, pageError{})
		return nil, false
	}
	err = h.store.SecondFactors().ConfirmSecondFactor(ctx, user.TenantID, user.ID, f.Secret, step,
		mfa.HashRecoveryCodes(user.TenantID, user.ID, codes), h.now())
	if errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrAlreadyExists) {
		h.errorPage(w, r, errSetupExpired)
		return nil, false
	}
	if err != nil {
		h.storagePage(w, r, "second factor: confirm", err, pageError{})
		return nil, false
	}
	event.Event, event.Outcome = storage.EventMFAEnrolled, OutcomeSuccess
	h.p.RecordAuthEvent(r, event)
	return codes, true
}

// continueAfterSetup goes on with a sign-in whose set-up finished: the
// request was saved as authenticated by this browser's new session.
func (h *Handler) continueAfterSetup(w http.ResponseWriter, r *http.Request) {
	ar, c, ok := h.postedAuthForm(w, r, "mfa-continue", errLoginFormExpired)
	if !ok {
		return
	}
	sess := h.currentSession(r)
	if ar.UserID == "" || sess == nil || sess.ID != ar.SessionID {
		h.errorPage(w, r, errSessionEnded)
		return
	}
	h.continueAuthorization(w, r, ar, c)
}

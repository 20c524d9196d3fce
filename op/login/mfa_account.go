package login

import (
	"errors"
	"net/http"

	"github.com/herald-idp/herald/op/mfa"
	"github.com/herald-idp/herald/op/password"
	"github.com/herald-idp/herald/storage"
	"github.com/herald-idp/herald/templates"
)

// The signed-in user's second-factor pages under {issuer}/account/mfa
// (docs/mfa.md): status, set-up (QR code, then a first code, then the
// recovery codes once), removal and new recovery codes. Removal and new
// codes need a current code or the password, so that a borrowed session
// alone can neither weaken the account nor mint codes for later. Every POST
// is CSRF-checked; attempts are throttled like the sign-in's second step.

const (
	csrfAccountMFASetup    = "account-mfa:setup"
	csrfAccountMFAConfirm  = "account-mfa:confirm"
	csrfAccountMFARemove   = "account-mfa:remove"
	csrfAccountMFARecovery = "account-mfa:recovery"
)

// accountMFAPage renders the status page with a message or an error.
func (h *Handler) accountMFAPage(w http.ResponseWriter, r *http.Request, status int, user *storage.User, message, errMsg string) {
	ctx := r.Context()
	t := h.p.Tenant(ctx).Tenant
	page := templates.AccountMFAPage{
		Branding:     h.branding(ctx),
		Username:     user.Username,
		Available:    mfaPolicy(t).Policy != storage.MFAOff,
		Required:     mfaPolicy(t).Policy == storage.MFARequired,
		SetupURL:     h.tenantURL(ctx, PathAccountMFASetup),
		RemoveURL:    h.tenantURL(ctx, PathAccountMFARemove),
		RecoveryURL:  h.tenantURL(ctx, PathAccountMFARecoveryCodes),
		SetupCSRF:    h.csrfToken(w, r, csrfAccountMFASetup),
		RemoveCSRF:   h.csrfToken(w, r, csrfAccountMFARemove),
		RecoveryCSRF: h.csrfToken(w, r, csrfAccountMFARecovery),
		AccountURL:   h.tenantURL(ctx, "/account"),
		Message:      message,
		Error:        errMsg,
	}
	f, err := h.store.SecondFactors().SecondFactor(ctx, user.TenantID, user.ID)
	switch {
	case err == nil && f.Confirmed():
		page.Enabled = true
		page.RemainingCodes = len(f.RecoveryCodes)
		page.ConfirmedAt = f.ConfirmedAt.UTC().Format("2 January 2006")
	case err != nil && !errors.Is(err, storage.ErrNotFound):
		h.storagePage(w, r, "account: load second factor", err, pageError{})
		return
	}
	h.render(w, r, status, page)
}

// handleAccountMFA shows the user's second factor.
func (h *Handler) handleAccountMFA(w http.ResponseWriter, r *http.Request) {
	_, user, ok := h.SignedIn(w, r, PathAccountMFA)
	if !ok {
		return
	}
	h.accountMFAPage(w, r, http.StatusOK, user, "", "")
}

// signedInForm is SignedIn plus the CSRF check of a posted form.
func (h *Handler) signedInForm(w http.ResponseWriter, r *http.Request, purpose string) (*storage.User, bool) {
	_, user, ok := h.SignedIn(w, r, PathAccountMFA)
	if !ok || !h.VerifyForm(w, r, purpose) {
		return nil, false
	}
	return user, true
}

// handleAccountMFASetup starts a set-up and shows its QR code.
func (h *Handler) handleAccountMFASetup(w http.ResponseWriter, r *http.Request) {
	user, ok := h.signedInForm(w, r, csrfAccountMFASetup)
	if !ok {
		return
	}
	ctx := r.Context()
	if mfaPolicy(h.p.Tenant(ctx).Tenant).Policy == storage.MFAOff {
		h.accountMFAPage(w, r, http.StatusForbidden, user, "", "Two-step verification is not offered.")
		return
	}
	key, err := h.newSetup(ctx, user)
	if errors.Is(err, storage.ErrAlreadyExists) {
		h.accountMFAPage(w, r, http.StatusConflict, user, "", "Two-step verification is already on. Turn it off first to set up another device.")
		return
	}
	if err != nil {
		h.storagePage(w, r, "account: begin set-up", err, pageError{})
		return
	}
	h.accountSetupPage(w, r, http.StatusOK, key, "")
}

func (h *Handler) accountSetupPage(w http.ResponseWriter, r *http.Request, status int, key *mfa.Key, msg string) {
	ctx := r.Context()
	h.setupPage(w, r, status, templates.MFASetupPage{
		ActionURL: h.tenantURL(ctx, PathAccountMFAConfirm),
		CSRFToken: h.csrfToken(w, r, csrfAccountMFAConfirm),
		CancelURL: h.tenantURL(ctx, PathAccountMFA),
		Error:     msg,
	}, key)
}

// handleAccountMFAConfirm confirms a set-up with its first code and shows
// the recovery codes once.
func (h *Handler) handleAccountMFAConfirm(w http.ResponseWriter, r *http.Request) {
	user, ok := h.signedInForm(w, r, csrfAccountMFAConfirm)
	if !ok {
		return
	}
	ctx := r.Context()
	key, f, err := h.pendingKey(ctx, user)
	if err != nil {
		h.storagePage(w, r, "account: load set-up", err, pageError{})
		return
	}
	if key == nil {
		h.accountMFAPage(w, r, http.StatusConflict, user, "", "There is no set-up to confirm. Start again.")
		return
	}
	event := AuthEvent{UserID: user.ID, DeviceID: h.readDevice(r).deviceID()}
	retry := func(msg string) { h.accountSetupPage(w, r, http.StatusBadRequest, key, msg) }
	if !h.passSecondFactorGate(w, r, h.p.Tenant(ctx).Tenant, user.ID, event, retry) {
		return
	}
	codes, ok := h.confirmSetup(w, r, user, key, f, event, retry)
	if !ok {
		return
	}
	h.secondFactorSucceeded(ctx, user.TenantID, h.p.ClientAddress(r), user.ID)
	h.recoveryCodesPage(w, r, codes)
}

func (h *Handler) recoveryCodesPage(w http.ResponseWriter, r *http.Request, codes []string) {
	ctx := r.Context()
	h.render(w, r, http.StatusOK, templates.RecoveryCodesPage{
		Branding:    h.branding(ctx),
		Codes:       codes,
		ContinueURL: h.tenantURL(ctx, PathAccountMFA),
	})
}

// checkProof checks the "proof" field of a removal or new-codes form: a
// current TOTP code, a recovery code (used up) or the account's password,
// under the second-factor throttle. It shows the answer itself when it
// reports false.
func (h *Handler) checkProof(w http.ResponseWriter, r *http.Request, user *storage.User) bool {
	ctx := r.Context()
	t := h.p.Tenant(ctx).Tenant
	event := AuthEvent{UserID: user.ID, DeviceID: h.readDevice(r).deviceID()}
	if !h.passSecondFactorGate(w, r, t, user.ID, event, func(msg string) {
		h.accountMFAPage(w, r, http.StatusTooManyRequests, user, "", msg)
	}) {
		return false
	}
	proof := r.PostForm.Get("proof")
	code := mfa.NormalizeCode(proof)
	reason := ReasonWrongCredentials
	switch {
	case proof == "" || len(proof) > password.MaxLength:
	case mfa.IsTOTPCode(code) || mfa.IsRecoveryCode(code):
		_, why, err := h.verifySecondFactor(ctx, t.Name, user.ID, proof)
		if err != nil {
			h.storagePage(w, r, "account: verify code", err, pageError{})
			return false
		}
		if why == "" {
			reason = ""
		}
	default:
		match, _, err := h.passwords.VerifyLogin(hashCaller(ctx, h.p.ClientAddress(r), true), proof, user.PasswordHash)
		if err != nil && !errors.Is(err, password.ErrTooLong) {
			h.storagePage(w, r, "account: verify password", err, pageError{})
			return false
		}
		if match {
			reason = ""
		}
	}
	if reason != "" {
		event.Event, event.Outcome, event.Reason = storage.EventMFAFailed, OutcomeFailure, reason
		h.p.RecordAuthEvent(r, event)
		h.accountMFAPage(w, r, http.StatusBadRequest, user, "", "That code or password is not right.")
		return false
	}
	h.secondFactorSucceeded(ctx, t.Name, h.p.ClientAddress(r), user.ID)
	return true
}

// handleAccountMFARemove turns the second factor off.
func (h *Handler) handleAccountMFARemove(w http.ResponseWriter, r *http.Request) {
	user, ok := h.signedInForm(w, r, csrfAccountMFARemove)
	if !ok {
		return
	}
	ctx := r.Context()
	if mfaPolicy(h.p.Tenant(ctx).Tenant).Policy == storage.MFARequired {
		h.accountMFAPage(w, r, http.StatusForbidden, user, "", "Your organisation requires two-step verification.")
		return
	}
	if !h.checkProof(w, r, user) {
		return
	}
	err := h.store.SecondFactors().DeleteSecondFactor(ctx, user.TenantID, user.ID)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		h.storagePage(w, r, "account: remove second factor", err, pageError{})
		return
	}
	h.p.RecordAuthEvent(r, AuthEvent{Event: storage.EventMFARemoved, UserID: user.ID, Outcome: OutcomeSuccess})
	h.accountMFAPage(w, r, http.StatusOK, user, "Two-step verification is now off.", "")
}

// handleAccountMFARecoveryCodes replaces the recovery codes.
func (h *Handler) handleAccountMFARecoveryCodes(w http.ResponseWriter, r *http.Request) {
	user, ok := h.signedInForm(w, r, csrfAccountMFARecovery)
	if !ok || !h.checkProof(w, r, user) {
		return
	}
	ctx := r.Context()
	codes, err := mfa.NewRecoveryCodes()
	if err != nil {
		h.storagePage(w, r, "account: recovery codes", err, pageError{})
		return
	}
	err = h.store.SecondFactors().ReplaceRecoveryCodes(ctx, user.TenantID, user.ID,
		mfa.HashRecoveryCodes(user.TenantID, user.ID, codes), h.now())
	if errors.Is(err, storage.ErrNotFound) {
		h.accountMFAPage(w, r, http.StatusConflict, user, "", "Two-step verification is off.")
		return
	}
	if err != nil {
		h.storagePage(w, r, "account: replace recovery codes", err, pageError{})
		return
	}
	h.p.RecordAuthEvent(r, AuthEvent{Event: storage.EventMFARecoveryCodesNew, UserID: user.ID, Outcome: OutcomeSuccess})
	h.recoveryCodesPage(w, r, codes)
}

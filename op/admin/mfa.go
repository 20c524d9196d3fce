package admin

import (
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/herald-idp/herald/op/registry"
)

// UserMFAJSON is a user's second factor in the admin API (docs/mfa.md).
type UserMFAJSON struct {
	// Enabled: a confirmed TOTP factor is asked for at sign-in.
	Enabled bool `json:"enabled"`
	// Pending: a set-up was started and not confirmed.
	Pending bool `json:"pending"`
	// ConfirmedAt is when it was set up; absent when not enabled.
	ConfirmedAt       *time.Time `json:"confirmed_at,omitempty"`
	RecoveryCodesLeft int        `json:"recovery_codes_left"`
}

// RenderUserMFA is s on the wire.
func RenderUserMFA(s *registry.MFAStatus) UserMFAJSON {
	j := UserMFAJSON{Enabled: s.Enabled, Pending: s.Pending, RecoveryCodesLeft: s.RecoveryCodesLeft}
	if !s.ConfirmedAt.IsZero() {
		t := s.ConfirmedAt.UTC()
		j.ConfirmedAt = &t
	}
	return j
}

func (h *handler) getUserMFA(w http.ResponseWriter, r *http.Request) {
	s, err := h.reg.UserMFA(r.Context(), chi.URLParam(r, "tenant"), chi.URLParam(r, "user"))
	if err != nil {
		fail(w, r, err, nil)
		return
	}
	writeJSON(w, http.StatusOK, RenderUserMFA(s))
}

// resetUserMFA removes the user's second factor (204 whether or not there
// was one; 404 for an unknown user).
func (h *handler) resetUserMFA(w http.ResponseWriter, r *http.Request) {
	if err := h.registryFor(r).ResetUserMFA(r.Context(), chi.URLParam(r, "tenant"), chi.URLParam(r, "user")); err != nil {
		fail(w, r, err, nil)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

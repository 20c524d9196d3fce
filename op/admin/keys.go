package admin

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/herald-idp/herald/keys"
)

// RotateKeysJSON is the answer to a rotation, shared with the CLI.
type RotateKeysJSON struct {
	Algorithm string `json:"alg"`
	Active    string `json:"active"`
	Next      string `json:"next"`
}

// RevokeKeyJSON is the answer to a revocation, shared with the CLI. Message
// says in words what happened to tokens signed with the key.
type RevokeKeyJSON struct {
	keys.RevokeResult        // kid, alg, previous_status, active, next, promoted
	Message           string `json:"message"`
}

// RenderRotation shows a rotation as the admin API does.
func RenderRotation(st *keys.KeyState) RotateKeysJSON {
	return RotateKeysJSON{Algorithm: st.Algorithm, Active: st.Active, Next: st.Next}
}

// RenderRevocation shows a revocation as the admin API does.
func RenderRevocation(res *keys.RevokeResult) RevokeKeyJSON {
	msg := "key " + res.KeyID + " is revoked: it is no longer published in the JWKS, and every token it signed now fails verification"
	switch {
	case res.PreviousStatus == "revoked":
		msg = "key " + res.KeyID + " was already revoked; nothing changed"
	case res.Promoted:
		msg += "; key " + res.Active + " signs from now on"
	}
	return RevokeKeyJSON{RevokeResult: *res, Message: msg}
}

// rotateKeys: POST /tenants/{tenant}/keys/rotate[?alg=ES256].
func (h *handler) rotateKeys(w http.ResponseWriter, r *http.Request) {
	st, err := h.registryFor(r).RotateKeys(r.Context(), chi.URLParam(r, "tenant"), r.URL.Query().Get("alg"))
	var nr *keys.NotReadyError
	if errors.As(err, &nr) {
		// 409: the request is fine, the keys' state does not allow it yet.
		wait := max(time.Until(nr.Until), time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Round(time.Second)/time.Second)))
		writeError(w, http.StatusConflict, "next_key_not_ready", nr.Error(), nil)
		return
	}
	if err != nil {
		fail(w, r, err, nil)
		return
	}
	writeJSON(w, http.StatusOK, RenderRotation(st))
}

// revokeKey: POST /tenants/{tenant}/keys/{kid}/revoke.
func (h *handler) revokeKey(w http.ResponseWriter, r *http.Request) {
	res, err := h.registryFor(r).RevokeKey(r.Context(), chi.URLParam(r, "tenant"), chi.URLParam(r, "kid"))
	if err != nil {
		fail(w, r, err, nil)
		return
	}
	writeJSON(w, http.StatusOK, RenderRevocation(res))
}

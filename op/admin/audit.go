package admin

import (
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/herald-idp/herald/op/registry"
)

// listKeys describes the tenant's signing keys; the public keys themselves
// are in the tenant's JWKS, the private ones never leave Herald.
func (h *handler) listKeys(w http.ResponseWriter, r *http.Request) {
	ks, err := h.reg.ListKeys(r.Context(), chi.URLParam(r, "tenant"))
	if err != nil {
		fail(w, r, err, nil)
		return
	}
	writeJSON(w, http.StatusOK, RenderList("keys", ks, RenderKey))
}

// listAudit lists audit events, newest first: ?tenant= filters by the
// tenant changed (deleted tenants included), ?limit= caps the count.
func (h *handler) listAudit(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := 0
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			fail(w, r, &registry.ValidationError{Field: "limit", Message: "must be a positive integer"}, nil)
			return
		}
		limit = n
	}
	events, err := h.reg.ListAudit(r.Context(), q.Get("tenant"), limit)
	if err != nil {
		fail(w, r, err, nil)
		return
	}
	writeJSON(w, http.StatusOK, RenderList("events", events, RenderAuditEvent))
}

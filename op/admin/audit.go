package admin

import (
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/herald-idp/herald/op/registry"
)

type keyJSON struct {
	KeyID     string    `json:"kid"`
	Algorithm string    `json:"alg"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
}

// listKeys describes the tenant's signing keys; the public keys themselves
// are in the tenant's JWKS, the private ones never leave Herald.
func (h *handler) listKeys(w http.ResponseWriter, r *http.Request) {
	ks, err := h.reg.ListKeys(r.Context(), chi.URLParam(r, "tenant"))
	if err != nil {
		fail(w, r, err, nil)
		return
	}
	out := make([]keyJSON, 0, len(ks))
	for _, k := range ks {
		out = append(out, keyJSON{KeyID: k.ID, Algorithm: k.Algorithm, Status: k.Status, CreatedAt: k.CreatedAt})
	}
	writeJSON(w, http.StatusOK, map[string]any{"keys": out})
}

type auditEventJSON struct {
	ID           string         `json:"id"`
	Time         time.Time      `json:"time"`
	ActorTenant  string         `json:"actor_tenant"`
	Actor        string         `json:"actor"`
	Action       string         `json:"action"`
	TargetTenant string         `json:"target_tenant"`
	TargetType   string         `json:"target_type"`
	TargetID     string         `json:"target_id"`
	Details      map[string]any `json:"details,omitempty"`
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
	out := make([]auditEventJSON, 0, len(events))
	for _, e := range events {
		out = append(out, auditEventJSON{
			ID: e.ID, Time: e.Time, ActorTenant: e.ActorTenant, Actor: e.Actor, Action: e.Action,
			TargetTenant: e.TargetTenant, TargetType: e.TargetType, TargetID: e.TargetID, Details: e.Details,
		})
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": out})
}

package admin

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/herald-idp/herald/op/registry"
)

// Principal is the authenticated caller: the admin client a verified access
// token was issued to. It is recorded as the actor of every change.
type Principal struct {
	Tenant   string   // the token's tenant; must be registry.SystemTenant
	ClientID string   // the admin client
	Scopes   []string // must contain registry.AdminScope
}

// Errors the authenticator returns (wrapped or bare).
var (
	// ErrUnauthenticated: no token, or one that fails verification
	// (signature, issuer, audience, expiry). Answered 401 (RFC 6750 §3.1).
	ErrUnauthenticated = errors.New("admin: unauthenticated")
	// ErrForbidden: a valid token without the herald:admin scope. Answered
	// 403 insufficient_scope (RFC 6750 §3.1).
	ErrForbidden = errors.New("admin: forbidden")
)

// maxBodyBytes bounds request bodies (the largest real ones, tenants with
// many custom claims, are a few KiB).
const maxBodyBytes = 1 << 20

// realm is the RFC 6750 §3 realm of the admin API's challenges.
const realm = "herald-admin"

type handler struct {
	reg  *registry.Registry
	auth func(*http.Request) (Principal, error)
}

// NewHandler returns the admin API, serving paths relative to its mount
// point (/admin/v1). Every request first goes through auth; a principal of
// another tenant than registry.SystemTenant, or without
// registry.AdminScope, is refused even if auth accepted it.
func NewHandler(reg *registry.Registry, auth func(*http.Request) (Principal, error)) http.Handler {
	return newRouter(reg, auth)
}

func newRouter(reg *registry.Registry, auth func(*http.Request) (Principal, error)) *chi.Mux {
	h := &handler{reg: reg, auth: auth}
	r := chi.NewRouter()
	r.Use(h.authenticate)
	r.NotFound(func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no such admin endpoint", nil)
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "method not allowed on this endpoint", nil)
	})

	r.Post("/tenants", h.createTenant)
	r.Get("/tenants", h.listTenants)
	r.Get("/tenants/{tenant}", h.getTenant)
	r.Patch("/tenants/{tenant}", h.updateTenant)
	r.Delete("/tenants/{tenant}", h.deleteTenant)
	r.Post("/tenants/{tenant}/disable", h.disableTenant)
	r.Post("/tenants/{tenant}/enable", h.enableTenant)
	r.Get("/tenants/{tenant}/keys", h.listKeys)
	r.Post("/tenants/{tenant}/keys/rotate", h.rotateKeys)
	r.Post("/tenants/{tenant}/keys/{kid}/revoke", h.revokeKey)
	r.Get("/tenants/{tenant}/audit", h.listAuthEvents)

	r.Post("/tenants/{tenant}/clients", h.createClient)
	r.Get("/tenants/{tenant}/clients", h.listClients)
	r.Get("/tenants/{tenant}/clients/{client}", h.getClient)
	r.Patch("/tenants/{tenant}/clients/{client}", h.updateClient)
	r.Delete("/tenants/{tenant}/clients/{client}", h.deleteClient)
	r.Post("/tenants/{tenant}/clients/{client}/secret", h.rotateSecret)
	r.Post("/tenants/{tenant}/connectors", h.createConnector)
	r.Get("/tenants/{tenant}/connectors", h.listConnectors)
	r.Get("/tenants/{tenant}/connectors/{connector}", h.getConnector)
	r.Patch("/tenants/{tenant}/connectors/{connector}", h.updateConnector)
	r.Delete("/tenants/{tenant}/connectors/{connector}", h.deleteConnector)
	r.Get("/tenants/{tenant}/users/{user}/links", h.listUserLinks)
	r.Delete("/tenants/{tenant}/users/{user}/links/{connector}", h.deleteUserLinks)

	r.Post("/tenants/{tenant}/users", h.createUser)
	r.Get("/tenants/{tenant}/users", h.listUsers)
	r.Get("/tenants/{tenant}/users/{user}", h.getUser)
	r.Patch("/tenants/{tenant}/users/{user}", h.updateUser)
	r.Delete("/tenants/{tenant}/users/{user}", h.deleteUser)
	r.Put("/tenants/{tenant}/users/{user}/password", h.setPassword)
	r.Get("/tenants/{tenant}/users/{user}/mfa", h.getUserMFA)
	r.Delete("/tenants/{tenant}/users/{user}/mfa", h.resetUserMFA)

	r.Get("/audit", h.listAudit)
	return r
}

type principalKey struct{}

// authenticate runs auth before routing, so that unauthenticated callers
// learn nothing, not even which routes exist. It also caps the body and
// marks every answer uncacheable (responses carry secrets).
func (h *handler) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		p, err := h.auth(r)
		switch {
		case err != nil:
			h.authError(w, r, err)
			return
		case p.Tenant != registry.SystemTenant || p.ClientID == "":
			// The authenticator must not accept such tokens; refuse them
			// here too, so that one bug does not open the API.
			h.authError(w, r, ErrUnauthenticated)
			return
		case !slices.Contains(p.Scopes, registry.AdminScope):
			h.authError(w, r, ErrForbidden)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
		ctx := context.WithValue(r.Context(), principalKey{}, p)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// authError answers a failed authentication with RFC 6750 §3's challenge.
// A request that sent no bearer token gets no error code (§3.1); the body
// never repeats the authenticator's reason, which may describe the token.
func (h *handler) authError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, ErrForbidden):
		w.Header().Set("WWW-Authenticate",
			`Bearer realm="`+realm+`", error="insufficient_scope", scope="`+registry.AdminScope+`"`)
		writeError(w, http.StatusForbidden, "insufficient_scope", "the access token lacks the "+registry.AdminScope+" scope", nil)
	case errors.Is(err, ErrUnauthenticated):
		if !hasBearer(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="`+realm+`"`)
			writeError(w, http.StatusUnauthorized, "unauthorized", "a bearer access token of the system tenant is required", nil)
			return
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="`+realm+`", error="invalid_token"`)
		writeError(w, http.StatusUnauthorized, "invalid_token", "the access token is invalid, expired or not for this API", nil)
	default:
		// The authenticator could not decide (keys or storage unreachable).
		fail(w, r, err, nil)
	}
}

// hasBearer reports whether the request carries a Bearer credential (the
// scheme is case-insensitive, RFC 9110 §11.1).
func hasBearer(r *http.Request) bool {
	scheme, _, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	return strings.EqualFold(scheme, "Bearer")
}

// registryFor is the registry acting as the request's principal.
func (h *handler) registryFor(r *http.Request) *registry.Registry {
	p, _ := r.Context().Value(principalKey{}).(Principal)
	return h.reg.As(registry.Actor{Tenant: p.Tenant, ClientID: p.ClientID})
}

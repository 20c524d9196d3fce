package admin

import (
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/herald-idp/herald/op/registry"
	"github.com/herald-idp/herald/storage"
)

// createClientRequest is RFC 7591 §2 client metadata plus Herald's own.
// Lifetimes are in seconds (0: the tenant's or server's default).
type createClientRequest struct {
	ClientID                string   `json:"client_id"`
	ClientName              string   `json:"client_name"`
	RedirectURIs            []string `json:"redirect_uris"`
	PostLogoutRedirectURIs  []string `json:"post_logout_redirect_uris"`
	GrantTypes              []string `json:"grant_types"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
	ApplicationType         string   `json:"application_type"`
	Scope                   string   `json:"scope"`
	CORSOrigins             []string `json:"cors_origins"`
	FirstParty              bool     `json:"first_party"`
	AccessTokenFormat       string   `json:"access_token_format"`
	AccessTokenLifetime     int64    `json:"access_token_lifetime"`
	IDTokenLifetime         int64    `json:"id_token_lifetime"`
	RefreshTokenLifetime    int64    `json:"refresh_token_lifetime"`
}

// clientKind maps RFC 7591's application_type and token_endpoint_auth_method
// onto the registry's public/native flags. A public client (auth method
// none) is a browser app unless application_type is native; application
// type native alone makes a public native app, as native apps cannot keep
// a secret (RFC 8252 §8.5).
func clientKind(appType, method string) (public, native bool, err error) {
	switch appType {
	case storage.AppTypeNative:
		return true, true, nil
	case "", storage.AppTypeWeb:
		return method == storage.AuthMethodNone, false, nil
	case storage.AppTypeUserAgent:
		if method != storage.AuthMethodNone && method != "" {
			return false, false, &registry.ValidationError{Field: "application_type",
				Message: "a user_agent (browser) client is public: its token_endpoint_auth_method is none"}
		}
		return true, false, nil
	}
	return false, false, &registry.ValidationError{Field: "application_type",
		Message: "must be web, native or user_agent, not " + `"` + appType + `"`}
}

func (h *handler) createClient(w http.ResponseWriter, r *http.Request) {
	var req createClientRequest
	if err := decode(r, &req); err != nil {
		fail(w, r, err, clientFieldNames)
		return
	}
	public, native, err := clientKind(req.ApplicationType, req.TokenEndpointAuthMethod)
	if err != nil {
		fail(w, r, err, clientFieldNames)
		return
	}
	spec := registry.ClientSpec{
		ID: req.ClientID, Name: req.ClientName, Public: public && !native, Native: native,
		AuthMethod: req.TokenEndpointAuthMethod, RedirectURIs: req.RedirectURIs,
		PostLogoutRedirectURIs: req.PostLogoutRedirectURIs, CORSOrigins: req.CORSOrigins,
		GrantTypes: req.GrantTypes, Scopes: strings.Fields(req.Scope), FirstParty: req.FirstParty,
		AccessTokenFormat:    req.AccessTokenFormat,
		AccessTokenLifetime:  seconds(req.AccessTokenLifetime),
		IDTokenLifetime:      seconds(req.IDTokenLifetime),
		RefreshTokenLifetime: seconds(req.RefreshTokenLifetime),
	}
	c, secret, err := h.registryFor(r).CreateClient(r.Context(), chi.URLParam(r, "tenant"), spec)
	if err != nil {
		fail(w, r, err, clientFieldNames)
		return
	}
	created(w, r, c.ID, RenderClient(c, secret))
}

func (h *handler) listClients(w http.ResponseWriter, r *http.Request) {
	cs, err := h.reg.ListClients(r.Context(), chi.URLParam(r, "tenant"))
	if err != nil {
		fail(w, r, err, clientFieldNames)
		return
	}
	writeJSON(w, http.StatusOK, RenderList("clients", cs, func(c *storage.Client) ClientJSON { return RenderClient(c, "") }))
}

func (h *handler) getClient(w http.ResponseWriter, r *http.Request) {
	c, err := h.reg.GetClient(r.Context(), chi.URLParam(r, "tenant"), chi.URLParam(r, "client"))
	clientResult(w, r, c, "", err)
}

type updateClientRequest struct {
	ClientName              *string   `json:"client_name"`
	RedirectURIs            *[]string `json:"redirect_uris"`
	PostLogoutRedirectURIs  *[]string `json:"post_logout_redirect_uris"`
	GrantTypes              *[]string `json:"grant_types"`
	TokenEndpointAuthMethod *string   `json:"token_endpoint_auth_method"`
	ApplicationType         *string   `json:"application_type"`
	Scope                   *string   `json:"scope"`
	CORSOrigins             *[]string `json:"cors_origins"`
	FirstParty              *bool     `json:"first_party"`
	AccessTokenFormat       *string   `json:"access_token_format"`
	AccessTokenLifetime     *int64    `json:"access_token_lifetime"`
	IDTokenLifetime         *int64    `json:"id_token_lifetime"`
	RefreshTokenLifetime    *int64    `json:"refresh_token_lifetime"`
}

func (h *handler) updateClient(w http.ResponseWriter, r *http.Request) {
	var req updateClientRequest
	if err := decode(r, &req); err != nil {
		fail(w, r, err, clientFieldNames)
		return
	}
	u := registry.ClientUpdate{
		Name: req.ClientName, AuthMethod: req.TokenEndpointAuthMethod, ApplicationType: req.ApplicationType,
		RedirectURIs: req.RedirectURIs, PostLogoutRedirectURIs: req.PostLogoutRedirectURIs,
		CORSOrigins: req.CORSOrigins, GrantTypes: req.GrantTypes, FirstParty: req.FirstParty,
		AccessTokenFormat:    req.AccessTokenFormat,
		AccessTokenLifetime:  secondsPtr(req.AccessTokenLifetime),
		IDTokenLifetime:      secondsPtr(req.IDTokenLifetime),
		RefreshTokenLifetime: secondsPtr(req.RefreshTokenLifetime),
	}
	if req.Scope != nil {
		scopes := strings.Fields(*req.Scope)
		u.Scopes = &scopes
	}
	c, err := h.registryFor(r).UpdateClient(r.Context(), chi.URLParam(r, "tenant"), chi.URLParam(r, "client"), u)
	clientResult(w, r, c, "", err)
}

func (h *handler) deleteClient(w http.ResponseWriter, r *http.Request) {
	if err := h.registryFor(r).DeleteClient(r.Context(), chi.URLParam(r, "tenant"), chi.URLParam(r, "client")); err != nil {
		fail(w, r, err, clientFieldNames)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// rotateSecret answers with the client and its new secret, shown this once;
// the old secret stops working at once.
func (h *handler) rotateSecret(w http.ResponseWriter, r *http.Request) {
	tenant, id := chi.URLParam(r, "tenant"), chi.URLParam(r, "client")
	secret, err := h.registryFor(r).RotateClientSecret(r.Context(), tenant, id)
	if err != nil {
		fail(w, r, err, clientFieldNames)
		return
	}
	c, err := h.reg.GetClient(r.Context(), tenant, id)
	clientResult(w, r, c, secret, err)
}

func clientResult(w http.ResponseWriter, r *http.Request, c *storage.Client, secret string, err error) {
	if err != nil {
		fail(w, r, err, clientFieldNames)
		return
	}
	writeJSON(w, http.StatusOK, RenderClient(c, secret))
}

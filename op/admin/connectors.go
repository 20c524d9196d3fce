package admin

import (
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/herald-idp/herald/op/registry"
	"github.com/herald-idp/herald/storage"
)

// ConnectorJSON is an upstream identity provider as the admin API and the
// CLI show it. The client secret is write-only: client_secret_set says
// whether one is stored.
type ConnectorJSON struct {
	ID              string            `json:"id"`
	Type            string            `json:"type"`
	DisplayName     string            `json:"display_name"`
	Issuer          string            `json:"issuer"`
	ClientID        string            `json:"client_id"`
	ClientSecretSet bool              `json:"client_secret_set"`
	Scopes          []string          `json:"scopes"`
	ClaimMapping    map[string]string `json:"claim_mapping,omitempty"`
	JITCreate       bool              `json:"jit_create"`
	LinkByEmail     bool              `json:"link_by_email"`
	Disabled        bool              `json:"disabled"`
	CreatedAt       time.Time         `json:"created_at"`
	UpdatedAt       time.Time         `json:"updated_at"`
}

// RenderConnector renders c without its secret.
func RenderConnector(c *storage.Connector) ConnectorJSON {
	scopes := c.Scopes
	if scopes == nil {
		scopes = []string{}
	}
	return ConnectorJSON{
		ID: c.ID, Type: c.Type, DisplayName: c.DisplayName, Issuer: c.Issuer, ClientID: c.ClientID,
		ClientSecretSet: len(c.ClientSecret) > 0, Scopes: scopes, ClaimMapping: c.ClaimMapping,
		JITCreate: c.JITCreate, LinkByEmail: c.LinkByEmail, Disabled: c.Disabled,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
	}
}

var connectorFieldNames = fieldNames{}

type createConnectorRequest struct {
	ID           string            `json:"id"`
	Type         string            `json:"type"`
	DisplayName  string            `json:"display_name"`
	Issuer       string            `json:"issuer"`
	ClientID     string            `json:"client_id"`
	ClientSecret string            `json:"client_secret"`
	Scopes       []string          `json:"scopes"`
	ClaimMapping map[string]string `json:"claim_mapping"`
	JITCreate    bool              `json:"jit_create"`
	LinkByEmail  bool              `json:"link_by_email"`
	Disabled     bool              `json:"disabled"`
}

func (h *handler) createConnector(w http.ResponseWriter, r *http.Request) {
	var req createConnectorRequest
	if err := decode(r, &req); err != nil {
		fail(w, r, err, connectorFieldNames)
		return
	}
	c, err := h.registryFor(r).CreateConnector(r.Context(), chi.URLParam(r, "tenant"), registry.ConnectorSpec{
		ID: req.ID, Type: req.Type, DisplayName: req.DisplayName, Issuer: req.Issuer, ClientID: req.ClientID,
		ClientSecret: req.ClientSecret, Scopes: req.Scopes, ClaimMapping: req.ClaimMapping,
		JITCreate: req.JITCreate, LinkByEmail: req.LinkByEmail, Disabled: req.Disabled,
	})
	if err != nil {
		fail(w, r, err, connectorFieldNames)
		return
	}
	created(w, r, c.ID, RenderConnector(c))
}

func (h *handler) listConnectors(w http.ResponseWriter, r *http.Request) {
	cs, err := h.reg.ListConnectors(r.Context(), chi.URLParam(r, "tenant"))
	if err != nil {
		fail(w, r, err, connectorFieldNames)
		return
	}
	writeJSON(w, http.StatusOK, RenderList("connectors", cs, RenderConnector))
}

func (h *handler) getConnector(w http.ResponseWriter, r *http.Request) {
	c, err := h.reg.GetConnector(r.Context(), chi.URLParam(r, "tenant"), chi.URLParam(r, "connector"))
	connectorResult(w, r, c, err)
}

type updateConnectorRequest struct {
	DisplayName  *string            `json:"display_name"`
	Issuer       *string            `json:"issuer"`
	ClientID     *string            `json:"client_id"`
	ClientSecret *string            `json:"client_secret"`
	Scopes       *[]string          `json:"scopes"`
	ClaimMapping *map[string]string `json:"claim_mapping"`
	JITCreate    *bool              `json:"jit_create"`
	LinkByEmail  *bool              `json:"link_by_email"`
	Disabled     *bool              `json:"disabled"`
}

func (h *handler) updateConnector(w http.ResponseWriter, r *http.Request) {
	var req updateConnectorRequest
	if err := decode(r, &req); err != nil {
		fail(w, r, err, connectorFieldNames)
		return
	}
	c, err := h.registryFor(r).UpdateConnector(r.Context(), chi.URLParam(r, "tenant"), chi.URLParam(r, "connector"),
		registry.ConnectorUpdate{
			DisplayName: req.DisplayName, Issuer: req.Issuer, ClientID: req.ClientID, ClientSecret: req.ClientSecret,
			Scopes: req.Scopes, ClaimMapping: req.ClaimMapping, JITCreate: req.JITCreate,
			LinkByEmail: req.LinkByEmail, Disabled: req.Disabled,
		})
	connectorResult(w, r, c, err)
}

func (h *handler) deleteConnector(w http.ResponseWriter, r *http.Request) {
	if err := h.registryFor(r).DeleteConnector(r.Context(), chi.URLParam(r, "tenant"), chi.URLParam(r, "connector")); err != nil {
		fail(w, r, err, connectorFieldNames)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func connectorResult(w http.ResponseWriter, r *http.Request, c *storage.Connector, err error) {
	if err != nil {
		fail(w, r, err, connectorFieldNames)
		return
	}
	writeJSON(w, http.StatusOK, RenderConnector(c))
}

// UserLinkJSON is an upstream account linked to a user.
type UserLinkJSON struct {
	Connector string    `json:"connector"`
	Subject   string    `json:"subject"`
	CreatedAt time.Time `json:"created_at"`
}

// RenderUserLink renders a link.
func RenderUserLink(l *storage.UserLink) UserLinkJSON {
	return UserLinkJSON{Connector: l.ConnectorID, Subject: l.Subject, CreatedAt: l.CreatedAt}
}

func (h *handler) listUserLinks(w http.ResponseWriter, r *http.Request) {
	links, err := h.reg.UserLinks(r.Context(), chi.URLParam(r, "tenant"), chi.URLParam(r, "user"))
	if err != nil {
		fail(w, r, err, connectorFieldNames)
		return
	}
	writeJSON(w, http.StatusOK, RenderList("links", links, RenderUserLink))
}

// deleteUserLinks removes the user's links to one connector, refused
// (400 on "connector") when it would leave no way to sign in.
func (h *handler) deleteUserLinks(w http.ResponseWriter, r *http.Request) {
	tenant, user, connector := chi.URLParam(r, "tenant"), chi.URLParam(r, "user"), chi.URLParam(r, "connector")
	if _, err := h.registryFor(r).UnlinkConnector(r.Context(), tenant, user, connector); err != nil {
		fail(w, r, err, connectorFieldNames)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

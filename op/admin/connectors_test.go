package admin

import (
	"net/http"
	"strings"
	"testing"

	"github.com/herald-idp/herald/op/registry"
)

func TestConnectorRoutes(t *testing.T) {
	a := newAPI(t)
	const secret = "upstream-secret-value-1"
	res := a.call(t, http.MethodPost, "/tenants/acme/connectors", map[string]any{
		"id": "corp", "type": "oidc", "display_name": "Corp SSO", "issuer": "https://sso.corp.test",
		"client_id": "herald", "client_secret": secret, "jit_create": true,
		"claim_mapping": map[string]string{"username": "preferred_username"},
	}).want(t, http.StatusCreated)
	if loc := res.header.Get("Location"); loc != "/admin/v1/tenants/acme/connectors/corp" {
		t.Fatalf("Location %q", loc)
	}
	c := res.json(t)
	if c["id"] != "corp" || c["client_secret_set"] != true || c["jit_create"] != true || c["link_by_email"] != false {
		t.Fatalf("created %s", res.body)
	}
	a.wantAudit(t, "acme", registry.ActionConnectorCreate, "corp")
	for _, r := range []response{
		res,
		a.call(t, http.MethodGet, "/tenants/acme/connectors/corp", nil).want(t, 200),
		a.call(t, http.MethodGet, "/tenants/acme/connectors", nil).want(t, 200),
		a.call(t, http.MethodPatch, "/tenants/acme/connectors/corp", map[string]any{"client_secret": "another-secret-2", "link_by_email": true}).want(t, 200),
	} {
		if strings.Contains(string(r.body), secret) || strings.Contains(string(r.body), "another-secret-2") ||
			strings.Contains(string(r.body), `"client_secret"`) {
			t.Fatalf("secret shown: %s", r.body)
		}
	}
	a.wantAudit(t, "acme", registry.ActionConnectorUpdate, "corp")
	a.call(t, http.MethodPost, "/tenants/acme/connectors", map[string]any{
		"id": "corp", "type": "oidc", "issuer": "https://sso.corp.test", "client_id": "x",
	}).want(t, http.StatusConflict)
	a.call(t, http.MethodPost, "/tenants/acme/connectors", map[string]any{
		"id": "gh", "type": "github", "client_id": "x",
	}).wantField(t, "client_secret")
	a.call(t, http.MethodPost, "/tenants/acme/connectors", map[string]any{
		"id": "x", "type": "oidc", "issuer": "http://evil.test", "client_id": "x",
	}).wantField(t, "issuer")
	a.call(t, http.MethodGet, "/tenants/acme/connectors/nope", nil).want(t, http.StatusNotFound)
	a.call(t, http.MethodDelete, "/tenants/acme/connectors/corp", nil).want(t, http.StatusNoContent)
	a.wantAudit(t, "acme", registry.ActionConnectorDelete, "corp")
	a.call(t, http.MethodDelete, "/tenants/acme/connectors/corp", nil).want(t, http.StatusNotFound)
}

func TestUserLinkRoutes(t *testing.T) {
	a := newAPI(t)
	a.call(t, http.MethodPost, "/tenants/acme/connectors", map[string]any{
		"id": "corp", "type": "oidc", "issuer": "https://sso.corp.test", "client_id": "herald",
	}).want(t, http.StatusCreated)
	u, err := a.reg.CreateFederatedUser(t.Context(), "acme", registry.FederatedUserSpec{Connector: "corp", Username: "fed-user"})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.reg.LinkUser(t.Context(), "acme", "corp", "sub-9", u.ID); err != nil {
		t.Fatal(err)
	}
	links := a.call(t, http.MethodGet, "/tenants/acme/users/"+u.ID+"/links", nil).want(t, 200).json(t)["links"].([]any)
	if len(links) != 1 || links[0].(map[string]any)["subject"] != "sub-9" {
		t.Fatalf("links %v", links)
	}
	// The only way to sign in: refused.
	a.call(t, http.MethodDelete, "/tenants/acme/users/"+u.ID+"/links/corp", nil).wantField(t, "connector")
	if err := a.reg.SetPassword(t.Context(), "acme", u.ID, "a long enough passphrase 9"); err != nil {
		t.Fatal(err)
	}
	a.call(t, http.MethodDelete, "/tenants/acme/users/"+u.ID+"/links/corp", nil).want(t, http.StatusNoContent)
	a.wantAudit(t, "acme", registry.ActionUserUnlink, u.ID)
	a.call(t, http.MethodDelete, "/tenants/acme/users/"+u.ID+"/links/corp", nil).want(t, http.StatusNotFound)
	a.call(t, http.MethodGet, "/tenants/acme/users/nobody/links", nil).want(t, http.StatusNotFound)
}

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

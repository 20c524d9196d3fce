package admin

import (
	"net/http"
	"strings"
	"testing"

	"github.com/herald-idp/herald/op/registry"
)

func TestClientRoutes(t *testing.T) {
	a := newAPI(t)
	res := a.call(t, http.MethodPost, "/tenants/acme/clients", map[string]any{
		"client_id": "web", "client_name": "Web", "redirect_uris": []string{"https://app.acme.test/cb"},
		"grant_types": []string{"authorization_code", "refresh_token"}, "scope": "openid email orders:read",
		"post_logout_redirect_uris": []string{"https://app.acme.test/"}, "first_party": true, "access_token_lifetime": 120,
	}).want(t, http.StatusCreated)
	if loc := res.header.Get("Location"); loc != "/admin/v1/tenants/acme/clients/web" {
		t.Fatalf("Location %q", loc)
	}
	c := res.json(t)
	secret, _ := c["client_secret"].(string)
	if c["client_id"] != "web" || len(secret) < 43 || c["client_secret_expires_at"] != 0.0 || c["client_id_issued_at"] == 0.0 ||
		c["token_endpoint_auth_method"] != "client_secret_basic" || c["application_type"] != "web" ||
		c["scope"] != "openid email orders:read" || c["access_token_lifetime"] != 120.0 || c["first_party"] != true {
		t.Fatalf("created client %s", res.body)
	}
	if !registry.VerifyClientSecret(secret, mustStoredSecretHash(t, a, "web")) {
		t.Fatal("the secret shown does not match the stored hash")
	}
	a.wantAudit(t, "acme", registry.ActionClientCreate, "web")

	// The secret is shown once: never by GET, list or PATCH.
	for _, r := range []response{
		a.call(t, http.MethodGet, "/tenants/acme/clients/web", nil).want(t, 200),
		a.call(t, http.MethodGet, "/tenants/acme/clients", nil).want(t, 200),
		a.call(t, http.MethodPatch, "/tenants/acme/clients/web", map[string]any{"client_name": "Web 2"}).want(t, 200),
	} {
		if strings.Contains(string(r.body), secret) || strings.Contains(string(r.body), "client_secret\"") {
			t.Fatalf("secret shown again: %s", r.body)
		}
	}
	a.wantAudit(t, "acme", registry.ActionClientUpdate, "web")
	if h := mustStoredSecretHash(t, a, "web"); strings.Contains(string(a.call(t, http.MethodGet, "/tenants/acme/clients", nil).body), h) {
		t.Fatal("the secret hash is shown")
	}

	// Rotation: a new secret, once; the old one stops matching.
	rot := a.call(t, http.MethodPost, "/tenants/acme/clients/web/secret", nil).want(t, 200).json(t)
	fresh, _ := rot["client_secret"].(string)
	hash := mustStoredSecretHash(t, a, "web")
	if fresh == "" || fresh == secret || !registry.VerifyClientSecret(fresh, hash) || registry.VerifyClientSecret(secret, hash) {
		t.Fatalf("rotation: %v", rot)
	}
	a.wantAudit(t, "acme", registry.ActionClientRotateSecret, "web")
	if strings.Contains(string(a.call(t, http.MethodGet, "/tenants/acme/clients/web", nil).body), fresh) {
		t.Fatal("rotated secret shown again")
	}

	// A public client has no secret, at creation or ever.
	res = a.call(t, http.MethodPost, "/tenants/acme/clients", map[string]any{
		"client_id": "spa", "token_endpoint_auth_method": "none", "redirect_uris": []string{"https://spa.acme.test/cb"},
		"cors_origins": []string{"https://spa.acme.test"},
	}).want(t, http.StatusCreated)
	if spa := res.json(t); spa["client_secret"] != nil || spa["application_type"] != "user_agent" || spa["token_endpoint_auth_method"] != "none" {
		t.Fatalf("public client %s", res.body)
	}
	a.call(t, http.MethodPost, "/tenants/acme/clients/spa/secret", nil).wantField(t, "client_id")
	native := a.call(t, http.MethodPost, "/tenants/acme/clients", map[string]any{
		"application_type": "native", "redirect_uris": []string{"com.acme.app:/cb"},
	}).want(t, http.StatusCreated).json(t)
	if native["application_type"] != "native" || native["client_secret"] != nil || len(native["client_id"].(string)) != 32 {
		t.Fatalf("native client %v", native)
	}
	svc := a.call(t, http.MethodPost, "/tenants/acme/clients", map[string]any{
		"grant_types": []string{"client_credentials"}, "scope": "orders:read", "token_endpoint_auth_method": "client_secret_post",
	}).want(t, http.StatusCreated).json(t)
	if svc["client_secret"] == nil || len(svc["response_types"].([]any)) != 0 {
		t.Fatalf("service client %v", svc)
	}

	for _, tc := range []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"no redirect", map[string]any{"grant_types": []string{"authorization_code"}}, "redirect_uris"},
		{"http redirect", map[string]any{"redirect_uris": []string{"http://app.acme.test/cb"}}, "redirect_uris"},
		{"bad auth method", map[string]any{"token_endpoint_auth_method": "private_key_jwt", "redirect_uris": []string{"https://a.test/cb"}}, "token_endpoint_auth_method"},
		{"bad scope", map[string]any{"scope": "a\"b", "redirect_uris": []string{"https://a.test/cb"}}, "scope"},
		{"bad client_id", map[string]any{"client_id": "a b", "redirect_uris": []string{"https://a.test/cb"}}, "client_id"},
		{"bad name", map[string]any{"client_name": "a\x00", "redirect_uris": []string{"https://a.test/cb"}}, "client_name"},
		{"bad application type", map[string]any{"application_type": "service", "redirect_uris": []string{"https://a.test/cb"}}, "application_type"},
		{"confidential browser app", map[string]any{"application_type": "user_agent", "token_endpoint_auth_method": "client_secret_basic", "redirect_uris": []string{"https://a.test/cb"}}, "application_type"},
		{"implicit grant", map[string]any{"grant_types": []string{"implicit"}, "redirect_uris": []string{"https://a.test/cb"}}, "grant_types"},
		{"negative lifetime", map[string]any{"id_token_lifetime": -5, "redirect_uris": []string{"https://a.test/cb"}}, "id_token_lifetime"},
		{"unknown field", map[string]any{"jwks_uri": "https://a.test/jwks", "redirect_uris": []string{"https://a.test/cb"}}, "jwks_uri"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a.call(t, http.MethodPost, "/tenants/acme/clients", tc.body).wantField(t, tc.field)
		})
	}
	a.call(t, http.MethodPost, "/tenants/acme/clients", map[string]any{"client_id": "web", "redirect_uris": []string{"https://a.test/cb"}}).
		wantError(t, http.StatusConflict, "conflict")
	a.call(t, http.MethodPost, "/tenants/nope/clients", map[string]any{"redirect_uris": []string{"https://a.test/cb"}}).
		wantError(t, http.StatusNotFound, "not_found")

	// PATCH: RFC 7591 names, validated like creation.
	res = a.call(t, http.MethodPatch, "/tenants/acme/clients/web", map[string]any{
		"token_endpoint_auth_method": "client_secret_post", "scope": "openid", "redirect_uris": []string{"https://new.acme.test/cb"},
	}).want(t, 200)
	if p := res.json(t); p["token_endpoint_auth_method"] != "client_secret_post" || p["scope"] != "openid" || p["client_name"] != "Web 2" {
		t.Fatalf("patched client %s", res.body)
	}
	a.call(t, http.MethodPatch, "/tenants/acme/clients/web", map[string]any{"token_endpoint_auth_method": "none"}).wantField(t, "token_endpoint_auth_method")
	a.call(t, http.MethodPatch, "/tenants/acme/clients/web", map[string]any{"redirect_uris": []string{"https://a.test/cb#x"}}).wantField(t, "redirect_uris")
	a.call(t, http.MethodPatch, "/tenants/acme/clients/web", map[string]any{"client_id": "other"}).wantField(t, "client_id")
	a.call(t, http.MethodPatch, "/tenants/acme/clients/nope", map[string]any{"client_name": "x"}).want(t, 404)
	a.call(t, http.MethodGet, "/tenants/acme/clients/nope", nil).want(t, 404)
	a.call(t, http.MethodPost, "/tenants/acme/clients/nope/secret", nil).want(t, 404)

	a.call(t, http.MethodDelete, "/tenants/acme/clients/web", nil).want(t, http.StatusNoContent)
	a.wantAudit(t, "acme", registry.ActionClientDelete, "web")
	a.call(t, http.MethodGet, "/tenants/acme/clients/web", nil).want(t, 404)
	a.call(t, http.MethodDelete, "/tenants/acme/clients/web", nil).want(t, 404)
	if n := len(a.call(t, http.MethodGet, "/tenants/acme/clients", nil).want(t, 200).json(t)["clients"].([]any)); n != 3 {
		t.Fatalf("want 3 clients left, got %d", n)
	}
	a.call(t, http.MethodGet, "/tenants/nope/clients", nil).want(t, 404)
}

func mustStoredSecretHash(t *testing.T, a *testAPI, id string) string {
	t.Helper()
	c, err := a.store.Clients().Client(t.Context(), "acme", id)
	if err != nil {
		t.Fatal(err)
	}
	return c.SecretHash
}

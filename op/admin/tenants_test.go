package admin

import (
	"net/http"
	"slices"
	"testing"

	"github.com/herald-idp/herald/op/registry"
)

func TestTenantRoutes(t *testing.T) {
	a := newAPI(t)
	res := a.call(t, http.MethodPost, "/tenants", map[string]any{
		"name": "beta", "display_name": "Beta", "signing_alg": "ES256", "hostnames": []string{"login.beta.test"},
		"settings": map[string]any{"accent_color": "#A1B2C3", "access_token_lifetime": 300, "password_min_length": 14,
			"custom_claims": []map[string]any{{"claim": "plan", "attribute": "plan_level", "targets": []string{"id_token"}}}},
	}).want(t, http.StatusCreated)
	if loc := res.header.Get("Location"); loc != "/admin/v1/tenants/beta" {
		t.Fatalf("Location %q", loc)
	}
	body := res.json(t)
	settings := body["settings"].(map[string]any)
	if body["name"] != "beta" || body["issuer"] != "https://id.example.com/t/beta" || body["signing_alg"] != "ES256" ||
		settings["accent_color"] != "#a1b2c3" || settings["access_token_lifetime"] != 300.0 || body["disabled"] != false {
		t.Fatalf("created tenant %s", res.body)
	}
	a.wantAudit(t, "beta", registry.ActionTenantCreate, "beta")

	a.call(t, http.MethodPost, "/tenants", map[string]any{"name": "beta"}).wantError(t, http.StatusConflict, "conflict")
	a.call(t, http.MethodPost, "/tenants", map[string]any{"name": "Bad Name"}).wantField(t, "name")
	a.call(t, http.MethodPost, "/tenants", map[string]any{"name": "system"}).wantField(t, "name")
	a.call(t, http.MethodPost, "/tenants", map[string]any{"name": "c", "settings": map[string]any{"logo_url": "http://x.test/l.png"}}).
		wantField(t, "settings.logo_url")
	res = a.call(t, http.MethodPost, "/tenants", map[string]any{"name": "gamma", "hostnames": []string{"login.beta.test"}})
	res.wantError(t, http.StatusConflict, "conflict")
	if f := res.json(t)["fields"].([]any); f[0].(map[string]any)["field"] != "hostnames" {
		t.Fatalf("hostname conflict must name the field: %s", res.body)
	}

	list := a.call(t, http.MethodGet, "/tenants", nil).want(t, 200).json(t)["tenants"].([]any)
	var names []string
	for _, tn := range list {
		names = append(names, tn.(map[string]any)["name"].(string))
	}
	if !slices.Equal(names, []string{"acme", "beta"}) {
		t.Fatalf("tenants %v", names)
	}
	a.call(t, http.MethodGet, "/tenants/beta", nil).want(t, 200)
	a.call(t, http.MethodGet, "/tenants/nope", nil).wantError(t, http.StatusNotFound, "not_found")

	// PATCH changes only what it names, settings included.
	res = a.call(t, http.MethodPatch, "/tenants/beta", map[string]any{"display_name": "Beta Corp", "settings": map[string]any{"logo_url": "https://cdn.beta.test/l.svg"}}).want(t, 200)
	settings = res.json(t)["settings"].(map[string]any)
	if res.json(t)["display_name"] != "Beta Corp" || settings["logo_url"] != "https://cdn.beta.test/l.svg" ||
		settings["accent_color"] != "#a1b2c3" || settings["password_min_length"] != 14.0 || len(settings["custom_claims"].([]any)) != 1 {
		t.Fatalf("patched tenant %s", res.body)
	}
	a.wantAudit(t, "beta", registry.ActionTenantUpdate, "beta")
	a.call(t, http.MethodPatch, "/tenants/beta", map[string]any{"settings": map[string]any{"custom_claims": []map[string]any{{"claim": "sub", "attribute": "x"}}}}).
		wantField(t, "settings.custom_claims[0].claim")
	a.call(t, http.MethodPatch, "/tenants/beta", map[string]any{"settings": map[string]any{"session_idle_timeout": -1}}).
		wantField(t, "settings.session_idle_timeout")
	a.call(t, http.MethodPatch, "/tenants/beta", map[string]any{"settings": map[string]any{"refresh_token_lifetime": int64(1) << 62}}).
		wantField(t, "settings.refresh_token_lifetime")
	a.call(t, http.MethodPatch, "/tenants/beta", map[string]any{"signing_alg": "none"}).wantField(t, "signing_alg")
	a.call(t, http.MethodPatch, "/tenants/beta", map[string]any{"name": "renamed"}).wantField(t, "name")
	a.call(t, http.MethodPatch, "/tenants/nope", map[string]any{"display_name": "x"}).want(t, 404)

	res = a.call(t, http.MethodPost, "/tenants/beta/disable", nil).want(t, 200)
	if res.json(t)["disabled"] != true {
		t.Fatalf("disable: %s", res.body)
	}
	a.wantAudit(t, "beta", registry.ActionTenantDisable, "beta")
	if a.call(t, http.MethodPost, "/tenants/beta/enable", nil).want(t, 200).json(t)["disabled"] != false {
		t.Fatal("enable did not enable")
	}
	a.wantAudit(t, "beta", registry.ActionTenantEnable, "beta")
	a.call(t, http.MethodPost, "/tenants/nope/disable", nil).want(t, 404)

	a.call(t, http.MethodDelete, "/tenants/beta", nil).want(t, http.StatusNoContent)
	a.wantAudit(t, "beta", registry.ActionTenantDelete, "beta")
	a.call(t, http.MethodGet, "/tenants/beta", nil).want(t, 404)
	a.call(t, http.MethodDelete, "/tenants/beta", nil).want(t, 404)
}

func TestSystemTenantCannotBeDisabledOrDeleted(t *testing.T) {
	a := newAPI(t)
	if _, _, _, err := a.reg.Bootstrap(t.Context(), ""); err != nil {
		t.Fatal(err)
	}
	a.call(t, http.MethodPost, "/tenants/system/disable", nil).wantField(t, "disabled")
	a.call(t, http.MethodPatch, "/tenants/system", map[string]any{"disabled": true}).wantField(t, "disabled")
	a.call(t, http.MethodDelete, "/tenants/system", nil).wantField(t, "name")
	a.call(t, http.MethodGet, "/tenants/system", nil).want(t, 200)
}

func TestKeysAndAudit(t *testing.T) {
	a := newAPI(t)
	res := a.call(t, http.MethodGet, "/tenants/acme/keys", nil).want(t, 200)
	ks := res.json(t)["keys"].([]any)
	if len(ks) == 0 {
		t.Fatal("no keys")
	}
	for _, k := range ks {
		m := k.(map[string]any)
		var fields []string
		for f := range m {
			fields = append(fields, f)
		}
		slices.Sort(fields)
		// Exactly the public description: no key material of any kind.
		if !slices.Equal(fields, []string{"alg", "created_at", "kid", "status"}) || m["alg"] != "RS256" || (m["status"] != "active" && m["status"] != "next") {
			t.Fatalf("key %v", m)
		}
	}
	a.call(t, http.MethodGet, "/tenants/nope/keys", nil).want(t, 404)

	a.call(t, http.MethodPost, "/tenants", map[string]any{"name": "beta"}).want(t, 201)
	a.call(t, http.MethodPatch, "/tenants/beta", map[string]any{"display_name": "B"}).want(t, 200)
	events := a.call(t, http.MethodGet, "/audit?tenant=beta", nil).want(t, 200).json(t)["events"].([]any)
	if len(events) != 2 {
		t.Fatalf("want 2 events for beta, got %d", len(events))
	}
	e := events[0].(map[string]any)
	if e["action"] != "tenant.update" || e["actor"] != adminClient || e["actor_tenant"] != "system" || e["target_tenant"] != "beta" ||
		e["target_type"] != "tenant" || e["id"] == "" || e["time"] == "" {
		t.Fatalf("newest event %v", e)
	}
	if n := len(a.call(t, http.MethodGet, "/audit?limit=1", nil).want(t, 200).json(t)["events"].([]any)); n != 1 {
		t.Fatalf("limit=1 gave %d events", n)
	}
	if n := len(a.call(t, http.MethodGet, "/audit", nil).want(t, 200).json(t)["events"].([]any)); n < 3 {
		t.Fatalf("all events: %d, want acme's creation and beta's two", n)
	}
	for _, q := range []string{"limit=abc", "limit=0", "limit=-1", "limit=1001"} {
		a.call(t, http.MethodGet, "/audit?"+q, nil).wantField(t, "limit")
	}
}

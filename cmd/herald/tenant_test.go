package main

import (
	"reflect"
	"strings"
	"testing"

	"github.com/herald-idp/herald/storage"
)

// TestTenantManage walks a tenant through every tenant command and checks
// that update changes only the flags it is given.
func TestTenantManage(t *testing.T) {
	testEnv(t)
	created := mustJSON(t, "", "tenant", "create", "--name", "acme", "--display-name", "Acme Inc.",
		"--hostname", "login.acme.test", "--hostname", "id.acme.test",
		"--logo-url", "https://cdn.acme.test/logo.svg", "--access-token-lifetime", "5m",
		"--custom-claim", "tenant_id=tenant_id", "--custom-claim", "plan=plan_level::id_token")
	requireKeys(t, "tenant create", created, map[string]any{"issuer": "https://id.example.com/t/acme", "display_name": "Acme Inc."})
	if got := created["hostnames"]; !reflect.DeepEqual(got, []any{"id.acme.test", "login.acme.test"}) {
		t.Fatalf("hostnames %v", got)
	}
	settings := created["settings"].(map[string]any)
	requireKeys(t, "settings", settings, map[string]any{"access_token_lifetime": float64(300), "logo_url": "https://cdn.acme.test/logo.svg"})

	got := mustJSON(t, "", "tenant", "get", "--name", "acme")
	if !reflect.DeepEqual(got, created) {
		t.Fatalf("tenant get %v\nwant %v", got, created)
	}

	// Only --accent-color and --password-min-length change; the rest stays.
	upd := mustJSON(t, "", "tenant", "update", "--name", "acme", "--accent-color", "#0A5CFF", "--password-min-length", "14")
	s := upd["settings"].(map[string]any)
	// The update must touch only what it was given.
	requireKeys(t, "updated settings", s, map[string]any{"accent_color": "#0a5cff", "password_min_length": float64(14),
		"access_token_lifetime": float64(300), "logo_url": "https://cdn.acme.test/logo.svg"})
	requireAll(t, "updated tenant",
		field("number of custom_claims", len(s["custom_claims"].([]any)), 2),
		field("display_name", upd["display_name"], "Acme Inc."),
		field("number of hostnames", len(upd["hostnames"].([]any)), 2))

	// Lists are replaced; --clear-... empties them; "" and 0 restore defaults.
	upd = mustJSON(t, "", "tenant", "update", "--name", "acme", "--hostname", "sso.acme.test",
		"--custom-claim", "perms=perms:api:read:access_token", "--logo-url", "", "--access-token-lifetime", "0",
		"--signing-alg", "ES256", "--allowed-signing-alg", "ES256", "--allowed-signing-alg", "RS256")
	s = upd["settings"].(map[string]any)
	wantClaims := []any{map[string]any{"claim": "perms", "attribute": "perms", "scope": "api:read", "targets": []any{"access_token"}}}
	if !reflect.DeepEqual(upd["hostnames"], []any{"sso.acme.test"}) || !reflect.DeepEqual(s["custom_claims"], wantClaims) ||
		s["logo_url"] != "" || s["access_token_lifetime"] != float64(0) || upd["signing_alg"] != "ES256" {
		t.Fatalf("update with lists: %v", upd)
	}
	keys := mustJSON(t, "", "keys", "list", "--tenant", "acme")
	algs := map[string]bool{}
	for _, k := range keys["keys"].([]any) {
		algs[k.(map[string]any)["alg"].(string)] = true
	}
	if !algs["ES256"] || !algs["RS256"] {
		t.Fatalf("keys after switching to ES256: %v", keys)
	}
	upd = mustJSON(t, "", "tenant", "update", "--name", "acme", "--clear-hostnames", "--clear-custom-claims", "--clear-allowed-signing-algs")
	s = upd["settings"].(map[string]any)
	requireAll(t, "clear flags",
		field("hostnames", upd["hostnames"], []any{}),
		field("custom_claims", s["custom_claims"], []any{}),
		field("allowed_signing_algorithms", s["allowed_signing_algorithms"], []any{}))

	if d := mustJSON(t, "", "tenant", "disable", "--name", "acme"); d["disabled"] != true {
		t.Fatalf("tenant disable: %v", d)
	}
	if list := mustJSON(t, "", "tenant", "list"); list["tenants"].([]any)[0].(map[string]any)["disabled"] != true {
		t.Fatalf("list after disable: %v", list)
	}
	if e := mustJSON(t, "", "tenant", "enable", "--name", "acme"); e["disabled"] != false {
		t.Fatalf("tenant enable: %v", e)
	}
	requireKeys(t, "tenant delete", mustJSON(t, "", "tenant", "delete", "--name", "acme"),
		map[string]any{"deleted": true, "tenant": "acme"})
	if r := herald(t, "", "tenant", "get", "--name", "acme"); r.code != 1 || !strings.Contains(r.stderr, `tenant "acme" not found`) {
		t.Fatalf("get after delete: exit %d, stderr %q", r.code, r.stderr)
	}

	// Every change above is in the audit log, by the CLI.
	events := mustJSON(t, "", "audit", "list", "--tenant", "acme")["events"].([]any)
	var actions []string
	for _, e := range events {
		ev := e.(map[string]any)
		if ev["actor"] != "cli" {
			t.Errorf("audit actor %v, want cli", ev["actor"])
		}
		actions = append(actions, ev["action"].(string))
	}
	want := []string{"tenant.delete", "tenant.enable", "tenant.disable", "tenant.update", "tenant.update", "tenant.update", "tenant.create"}
	if !reflect.DeepEqual(actions, want) {
		t.Fatalf("audit actions %v, want %v", actions, want)
	}
}

func TestTenantCommandErrors(t *testing.T) {
	testEnv(t)
	mustJSON(t, "", "tenant", "create", "--name", "acme", "--hostname", "login.acme.test")
	mustJSON(t, "", "admin", "bootstrap")
	for _, tc := range []struct {
		name     string
		args     []string
		wantCode int
		wantText string
	}{
		{"unknown tenant get", []string{"get", "--name", "nope"}, 1, `tenant "nope" not found`},
		{"unknown tenant update", []string{"update", "--name", "nope", "--display-name", "X"}, 1, `tenant "nope" not found`},
		{"unknown tenant disable", []string{"disable", "--name", "nope"}, 1, `tenant "nope" not found`},
		{"unknown tenant enable", []string{"enable", "--name", "nope"}, 1, `tenant "nope" not found`},
		{"unknown tenant delete", []string{"delete", "--name", "nope"}, 1, `tenant "nope" not found`},
		{"bad signing alg", []string{"update", "--name", "acme", "--signing-alg", "HS256"}, 1, "--signing-alg"},
		{"http logo", []string{"update", "--name", "acme", "--logo-url", "http://cdn.acme.test/l.svg"}, 1, "--logo-url"},
		{"bad colour", []string{"update", "--name", "acme", "--accent-color", "red"}, 1, "--accent-color"},
		{"negative lifetime", []string{"update", "--name", "acme", "--id-token-lifetime", "-5m"}, 1, "--id-token-lifetime"},
		{"idle beyond absolute", []string{"update", "--name", "acme", "--session-idle-timeout", "10h", "--session-absolute-lifetime", "1h"}, 1, "--session-idle-timeout"},
		{"short password policy", []string{"update", "--name", "acme", "--password-min-length", "4"}, 1, "--password-min-length"},
		{"alg not allowed", []string{"update", "--name", "acme", "--allowed-signing-alg", "ES256"}, 1, "--allowed-signing-alg"},
		{"bad hostname", []string{"update", "--name", "acme", "--hostname", "https://login.acme.test"}, 1, "--hostname"},
		{"hostname taken", []string{"create", "--name", "beta", "--hostname", "login.acme.test"}, 1, `--hostname: hostname "login.acme.test" is claimed by tenant "acme"`},
		{"reserved claim", []string{"update", "--name", "acme", "--custom-claim", "sub=employee_id"}, 1, "--custom-claim #1"},
		{"unknown claim target", []string{"update", "--name", "acme", "--custom-claim", "a=b", "--custom-claim", "x=attr:api:read"}, 1, `--custom-claim #2: unknown target "read"`},
		{"system not deletable", []string{"delete", "--name", "system"}, 1, "--name: the system tenant"},
		{"system not disablable", []string{"disable", "--name", "system"}, 1, "--name: the system tenant"},
		{"system reserved", []string{"create", "--name", "system"}, 1, "--name"},
		{"missing name get", []string{"get"}, 2, "--name"},
		{"missing name update", []string{"update", "--display-name", "X"}, 2, "--name"},
		{"missing name disable", []string{"disable"}, 2, "--name"},
		{"missing name delete", []string{"delete"}, 2, "--name"},
		{"hostname and clear", []string{"update", "--name", "acme", "--hostname", "a.acme.test", "--clear-hostnames"}, 2, "--clear-hostnames"},
		{"claims and clear", []string{"update", "--name", "acme", "--custom-claim", "a=b", "--clear-custom-claims"}, 2, "--clear-custom-claims"},
		{"claim syntax", []string{"update", "--name", "acme", "--custom-claim", "plan"}, 2, "-custom-claim"},
		{"duration syntax", []string{"update", "--name", "acme", "--access-token-lifetime", "5 minutes"}, 2, "-access-token-lifetime"},
		{"no clear flags on create", []string{"create", "--name", "gamma", "--clear-hostnames"}, 2, "-clear-hostnames"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := herald(t, "", append([]string{"tenant"}, tc.args...)...)
			if r.code != tc.wantCode || !strings.Contains(r.stderr, tc.wantText) || r.stdout != "" {
				t.Fatalf("exit %d (want %d), stderr %q (want %q), stdout %q", r.code, tc.wantCode, r.stderr, tc.wantText, r.stdout)
			}
		})
	}
	// Nothing above changed the tenant.
	if got := mustJSON(t, "", "tenant", "get", "--name", "acme"); got["updated_at"] != got["created_at"] {
		t.Fatalf("a failed command changed the tenant: %v", got)
	}
}

func TestParseClaimMapping(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want storage.ClaimMapping
	}{
		{"tenant_id=tenant_id", storage.ClaimMapping{Claim: "tenant_id", Attribute: "tenant_id"}},
		{"groups=groups:groups", storage.ClaimMapping{Claim: "groups", Attribute: "groups", Scope: "groups"}},
		{"plan=plan_level::id_token", storage.ClaimMapping{Claim: "plan", Attribute: "plan_level", Targets: []string{"id_token"}}},
		{"plan=plan_level:profile:id_token,userinfo", storage.ClaimMapping{Claim: "plan", Attribute: "plan_level", Scope: "profile", Targets: []string{"id_token", "userinfo"}}},
		{"perms=perms:api:read:", storage.ClaimMapping{Claim: "perms", Attribute: "perms", Scope: "api:read"}},
		{"perms=perms:api:read:access_token", storage.ClaimMapping{Claim: "perms", Attribute: "perms", Scope: "api:read", Targets: []string{"access_token"}}},
		{"acme:plan=plan", storage.ClaimMapping{Claim: "acme:plan", Attribute: "plan"}},
		{`{"claim":"plan","attribute":"acme:plan","scope":"profile","targets":["userinfo"]}`,
			storage.ClaimMapping{Claim: "plan", Attribute: "acme:plan", Scope: "profile", Targets: []string{"userinfo"}}},
	} {
		got, err := parseClaimMapping(tc.in)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("parseClaimMapping(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "plan", "=attr", "plan=", "plan=:scope", `{"claim":"a","attr":"b"}`, `{"claim":`} {
		if got, err := parseClaimMapping(bad); err == nil {
			t.Errorf("parseClaimMapping(%q) = %+v, want an error", bad, got)
		}
	}
}

package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/herald-idp/herald/op/admin"
)

func TestClientManage(t *testing.T) {
	testEnv(t)
	mustJSON(t, "", "tenant", "create", "--name", "acme")
	created := mustJSON(t, "", "client", "create", "--tenant", "acme", "--id", "web", "--name", "Portal",
		"--redirect-uri", "https://app.acme.test/cb", "--post-logout-redirect-uri", "https://app.acme.test/",
		"--access-token-lifetime", "10m")
	requireKeys(t, "client create", created, map[string]any{"client_name": "Portal",
		"token_endpoint_auth_method": "client_secret_basic", "access_token_lifetime": float64(600),
		"client_secret_expires_at": float64(0), "response_types": []any{"code"}})

	got := mustJSON(t, "", "client", "get", "--tenant", "acme", "--id", "web")
	_, hasSecret := got["client_secret"]
	requireAll(t, "client get", field("has client_secret", hasSecret, false))
	requireKeys(t, "client get", got, map[string]any{"client_name": "Portal", "tenant": "acme"})
	list := mustJSON(t, "", "client", "list", "--tenant", "acme")
	cs := list["clients"].([]any)
	requireAll(t, "client list", field("number of clients", len(cs), 1))
	requireAll(t, "client list", field("clients[0].client_id", cs[0].(map[string]any)["client_id"], "web"))

	// Only what is given changes.
	upd := mustJSON(t, "", "client", "update", "--tenant", "acme", "--id", "web", "--first-party=true",
		"--scope", "openid", "--scope", "groups", "--cors-origin", "https://app.acme.test",
		"--grant", "authorization_code", "--grant", "client_credentials", "--auth-method", "client_secret_post")
	requireKeys(t, "client update", upd, map[string]any{"first_party": true, "scope": "openid groups",
		"client_name": "Portal", "access_token_lifetime": float64(600), "token_endpoint_auth_method": "client_secret_post",
		"cors_origins": []any{"https://app.acme.test"}, "grant_types": []any{"authorization_code", "client_credentials"},
		"post_logout_redirect_uris": []any{"https://app.acme.test/"}})
	upd = mustJSON(t, "", "client", "update", "--tenant", "acme", "--id", "web", "--first-party=false",
		"--clear-cors-origins", "--clear-post-logout-redirect-uris", "--clear-scopes", "--clear-grants",
		"--access-token-lifetime", "0", "--access-token-format", "opaque")
	requireKeys(t, "client update with clear flags", upd, map[string]any{"first_party": false, "scope": nil,
		"access_token_lifetime": float64(0), "access_token_format": "opaque", "cors_origins": []any{},
		"post_logout_redirect_uris": []any{}, "grant_types": []any{"authorization_code", "refresh_token"}})

	// The secret survives updates; rotation replaces it and prints it once.
	rotated := mustJSON(t, "", "client", "rotate-secret", "--tenant", "acme", "--id", "web")
	s, _ := rotated["client_secret"].(string)
	requireAll(t, "rotate-secret",
		field("client_secret has 43 characters or more", len(s) >= 43, true),
		field("client_secret differs from the old one", s != created["client_secret"], true),
		field("client_name", rotated["client_name"], "Portal"))

	del := mustJSON(t, "", "client", "delete", "--tenant", "acme", "--id", "web")
	requireKeys(t, "client delete", del, map[string]any{"deleted": true, "client_id": "web"})
	if r := herald(t, "", "client", "get", "--tenant", "acme", "--id", "web"); r.code != 1 || !strings.Contains(r.stderr, `client "web" in tenant "acme" not found`) {
		t.Fatalf("get after delete: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestClientCommandErrors(t *testing.T) {
	testEnv(t)
	mustJSON(t, "", "tenant", "create", "--name", "acme")
	mustJSON(t, "", "client", "create", "--tenant", "acme", "--id", "web", "--redirect-uri", "https://app.acme.test/cb")
	mustJSON(t, "", "client", "create", "--tenant", "acme", "--id", "spa", "--public", "--redirect-uri", "https://spa.acme.test/cb")
	for _, tc := range []struct {
		name     string
		args     []string
		wantCode int
		wantText string
	}{
		{"unknown tenant list", []string{"list", "--tenant", "nope"}, 1, `tenant "nope" not found`},
		{"unknown tenant get", []string{"get", "--tenant", "nope", "--id", "web"}, 1, `tenant "nope" not found`},
		{"unknown tenant update", []string{"update", "--tenant", "nope", "--id", "web", "--name", "x"}, 1, `tenant "nope" not found`},
		{"unknown tenant delete", []string{"delete", "--tenant", "nope", "--id", "web"}, 1, `tenant "nope" not found`},
		{"unknown tenant rotate", []string{"rotate-secret", "--tenant", "nope", "--id", "web"}, 1, `tenant "nope" not found`},
		{"unknown client", []string{"update", "--tenant", "acme", "--id", "nope", "--name", "x"}, 1, `client "nope" in tenant "acme" not found`},
		{"bad redirect", []string{"update", "--tenant", "acme", "--id", "web", "--redirect-uri", "http://app.acme.test/cb"}, 1, "--redirect-uri"},
		{"no redirect left", []string{"update", "--tenant", "acme", "--id", "web", "--clear-redirect-uris"}, 1, "--redirect-uri"},
		{"bad origin", []string{"update", "--tenant", "acme", "--id", "web", "--cors-origin", "https://app.acme.test/"}, 1, "--cors-origin"},
		{"bad grant", []string{"update", "--tenant", "acme", "--id", "web", "--grant", "password"}, 1, "--grant"},
		{"bad scope", []string{"update", "--tenant", "acme", "--id", "web", "--scope", `a"b`}, 1, "--scope"},
		{"bad format", []string{"update", "--tenant", "acme", "--id", "web", "--access-token-format", "saml"}, 1, "--access-token-format"},
		{"negative lifetime", []string{"update", "--tenant", "acme", "--id", "web", "--refresh-token-lifetime", "-1h"}, 1, "--refresh-token-lifetime"},
		{"public to confidential", []string{"update", "--tenant", "acme", "--id", "spa", "--auth-method", "client_secret_basic"}, 1, "--auth-method"},
		{"bad application type", []string{"update", "--tenant", "acme", "--id", "web", "--application-type", "native"}, 1, "--application-type"},
		{"rotate public", []string{"rotate-secret", "--tenant", "acme", "--id", "spa"}, 1, "--id"},
		{"missing id", []string{"update", "--tenant", "acme", "--name", "x"}, 2, "--id"},
		{"missing tenant", []string{"get", "--id", "web"}, 2, "--tenant"},
		{"missing tenant list", []string{"list"}, 2, "--tenant"},
		{"missing both delete", []string{"delete"}, 2, "--id, --tenant"},
		{"list and clear", []string{"update", "--tenant", "acme", "--id", "web", "--scope", "openid", "--clear-scopes"}, 2, "--clear-scopes"},
		{"bool syntax", []string{"update", "--tenant", "acme", "--id", "web", "--first-party=maybe"}, 2, "-first-party"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := herald(t, "", append([]string{"client"}, tc.args...)...)
			if r.code != tc.wantCode || !strings.Contains(r.stderr, tc.wantText) || r.stdout != "" {
				t.Fatalf("exit %d (want %d), stderr %q (want %q), stdout %q", r.code, tc.wantCode, r.stderr, tc.wantText, r.stdout)
			}
		})
	}
}

// TestOutputIsTheAdminAPIShape: what the data commands print decodes into
// op/admin's wire types with no field left over, and encodes back to the
// same text, so that no field is missing or renamed either.
func TestOutputIsTheAdminAPIShape(t *testing.T) {
	testEnv(t)
	for _, tc := range []struct {
		stdin string
		args  []string
		into  any
	}{
		{"", []string{"tenant", "create", "--name", "acme", "--custom-claim", "plan=plan_level::id_token"}, &admin.TenantJSON{}},
		{"", []string{"tenant", "list"}, &map[string][]admin.TenantJSON{}},
		{"", []string{"client", "create", "--tenant", "acme", "--id", "web", "--redirect-uri", "https://app.acme.test/cb"}, &admin.ClientJSON{}},
		{"", []string{"client", "get", "--tenant", "acme", "--id", "web"}, &admin.ClientJSON{}},
		{"", []string{"client", "list", "--tenant", "acme"}, &map[string][]admin.ClientJSON{}},
		{"correct horse battery\n", []string{"user", "create", "--tenant", "acme", "--username", "alice", "--password-stdin",
			"--attribute", "seats=5"}, &admin.UserJSON{}},
		{"", []string{"user", "list", "--tenant", "acme"}, &map[string][]admin.UserJSON{}},
		{"", []string{"keys", "list", "--tenant", "acme"}, &map[string][]admin.KeyJSON{}},
		{"", []string{"audit", "list"}, &map[string][]admin.AuditEventJSON{}},
	} {
		t.Run(strings.Join(tc.args[:2], " "), func(t *testing.T) {
			r := herald(t, tc.stdin, tc.args...)
			if r.code != 0 {
				t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
			}
			dec := json.NewDecoder(strings.NewReader(r.stdout))
			dec.DisallowUnknownFields()
			if err := dec.Decode(tc.into); err != nil {
				t.Fatalf("%s: %v", r.stdout, err)
			}
			again, err := json.Marshal(tc.into)
			if err != nil {
				t.Fatal(err)
			}
			if got := bytes.TrimSpace([]byte(r.stdout)); !bytes.Equal(got, again) {
				t.Fatalf("printed %s\nas the API type %s", got, again)
			}
		})
	}
}

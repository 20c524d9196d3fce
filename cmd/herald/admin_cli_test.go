package main

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestEveryCommandHasHelp walks the whole command tree: every command
// answers --help with its usage on stderr and exit 0.
func TestEveryCommandHasHelp(t *testing.T) {
	testEnv(t)
	groups := map[string]map[string]command{
		"tenant": tenantCommands(), "client": clientCommands(), "user": userCommands(),
		"keys": keysCommands(), "audit": auditCommands(), "admin": adminCommands(),
		"connector": connectorCommands(),
	}
	for top := range topCommands() {
		sub, isGroup := groups[top]
		if !isGroup {
			if top != "serve" && top != "migrate" && top != "version" {
				t.Errorf("top-level command %q is neither a group nor known to this test", top)
			}
			if r := herald(t, "", top, "--help"); r.code != 0 || !strings.Contains(r.stderr, "Usage: herald "+top) || r.stdout != "" {
				t.Errorf("herald %s --help: exit %d, stdout %q, stderr %q", top, r.code, r.stdout, r.stderr)
			}
			continue
		}
		for name := range sub {
			args := []string{top, name, "--help"}
			r := herald(t, "", args...)
			if r.code != 0 || !strings.Contains(r.stderr, "Usage: herald "+top+" "+name) || r.stdout != "" {
				t.Errorf("herald %v: exit %d, stdout %q, stderr %q", args, r.code, r.stdout, r.stderr)
			}
		}
		if r := herald(t, "", top, "--help"); r.code != 0 || !strings.Contains(r.stderr, "Usage: herald "+top) {
			t.Errorf("herald %s --help: exit %d, stderr %q", top, r.code, r.stderr)
		}
	}
}

func TestKeysAndAuditList(t *testing.T) {
	testEnv(t)
	mustJSON(t, "", "tenant", "create", "--name", "acme", "--signing-alg", "EdDSA")
	keys := mustJSON(t, "", "keys", "list", "--tenant", "acme")["keys"].([]any)
	algs := map[string]string{}
	for _, k := range keys {
		m := k.(map[string]any)
		algs[m["alg"].(string)] = m["status"].(string)
		if len(m) != 4 || m["kid"] == "" {
			t.Errorf("key %v: want exactly kid, alg, status, created_at", m)
		}
	}
	if !reflect.DeepEqual(algs, map[string]string{"RS256": "active", "EdDSA": "active"}) {
		t.Fatalf("keys list: %v", keys)
	}
	mustJSON(t, "", "tenant", "create", "--name", "beta")

	all := mustJSON(t, "", "audit", "list")["events"].([]any)
	requireAll(t, "audit list", field("number of events", len(all), 2))
	requireAll(t, "audit list (newest first)", field("events[0].target_tenant", all[0].(map[string]any)["target_tenant"], "beta"))
	if acme := mustJSON(t, "", "audit", "list", "--tenant", "acme")["events"].([]any); len(acme) != 1 {
		t.Fatalf("audit list --tenant acme: %v", acme)
	}
	if none := mustJSON(t, "", "audit", "list", "--tenant", "gone")["events"].([]any); len(none) != 0 {
		t.Fatalf("audit list of a tenant without events: %v", none)
	}

	for _, tc := range []struct {
		args     []string
		wantCode int
		wantText string
	}{
		{[]string{"keys", "list", "--tenant", "nope"}, 1, `tenant "nope" not found`},
		{[]string{"keys", "list"}, 2, "--tenant"},
		{[]string{"audit", "list", "--limit", "0"}, 1, "--limit: must be a positive integer"},
		{[]string{"audit", "list", "--limit", "1001"}, 1, "--limit: must be at most 1000"},
		{[]string{"audit", "list", "--limit", "ten"}, 2, "-limit"},
	} {
		r := herald(t, "", tc.args...)
		if r.code != tc.wantCode || !strings.Contains(r.stderr, tc.wantText) || r.stdout != "" {
			t.Errorf("herald %v: exit %d (want %d), stderr %q (want %q)", tc.args, r.code, tc.wantCode, r.stderr, tc.wantText)
		}
	}
}

func TestAdminBootstrapOutput(t *testing.T) {
	testEnv(t)
	first := mustJSON(t, "", "admin", "bootstrap")
	want := map[string]any{
		"issuer":         "https://id.example.com/t/system",
		"token_endpoint": "https://id.example.com/t/system/token",
		"scope":          "herald:admin",
		"audience":       "https://id.example.com/admin/v1",
	}
	for k, v := range want {
		if first[k] != v {
			t.Errorf("%s = %v, want %v", k, first[k], v)
		}
	}
	if s, _ := first["client_secret"].(string); len(s) < 43 || first["client_id"] == "" {
		t.Fatalf("bootstrap credentials: %v", first)
	}
	// --public-url changes the issuer; every run makes another client.
	second := mustJSON(t, "", "admin", "bootstrap", "--public-url", "https://admin.example.net")
	requireAll(t, "second bootstrap",
		field("issuer", second["issuer"], "https://admin.example.net/t/system"),
		field("audience", second["audience"], "https://admin.example.net/admin/v1"),
		field("client_id differs from the first", second["client_id"] != first["client_id"], true))
	clients := mustJSON(t, "", "client", "list", "--tenant", "system")["clients"].([]any)
	if len(clients) != 2 {
		t.Fatalf("system clients: %v", clients)
	}
	for _, c := range clients {
		m := c.(map[string]any)
		if m["scope"] != "herald:admin" || !reflect.DeepEqual(m["grant_types"], []any{"client_credentials"}) {
			t.Errorf("admin client %v", m)
		}
	}
	if r := herald(t, "", "admin", "bootstrap", "--public-url", "ftp://x"); r.code != 1 || !strings.Contains(r.stderr, "--public-url") {
		t.Fatalf("bad --public-url: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestCLIChangesReachTheServer runs the server and the command line on one
// SQLite database: the bootstrap credentials work against the admin API,
// a tenant set up with the CLI issues ID tokens with its custom claims,
// and a tenant disabled with the CLI stops being served (SQLite has no
// notifier; the server's cache expires within a second).
func TestCLIChangesReachTheServer(t *testing.T) {
	testEnv(t)
	addr := freeAddr(t)
	base := "http://" + addr
	t.Setenv("HERALD_PUBLIC_URL", base)

	mustJSON(t, "", "tenant", "create", "--name", "acme",
		"--custom-claim", "tenant_id=tenant_id", "--custom-claim", "plan=plan_level::id_token",
		"--custom-claim", "groups=groups:groups", "--custom-claim", "seats=seats::access_token")
	web := mustJSON(t, "", "client", "create", "--tenant", "acme", "--id", "web", "--first-party",
		"--redirect-uri", "http://localhost:9999/callback",
		"--scope", "openid", "--scope", "profile", "--scope", "groups")
	mustJSON(t, "correct horse battery\n", "user", "create", "--tenant", "acme", "--username", "alice", "--password-stdin",
		"--attribute", "tenant_id=t-42", "--attribute", "plan_level=gold", "--attribute", `groups=["admins"]`, "--attribute", "seats=5")
	admin := mustJSON(t, "", "admin", "bootstrap")

	srv := startServe(t, addr)

	// The admin API accepts a token of the bootstrapped client.
	tok := postAs(t, rpClient{id: admin["client_id"].(string), secret: admin["client_secret"].(string)},
		admin["token_endpoint"].(string), url.Values{"grant_type": {"client_credentials"}, "scope": {"herald:admin"}})
	if tok.status != http.StatusOK {
		t.Fatalf("admin token: %d %s", tok.status, tok.body)
	}
	req, _ := http.NewRequest(http.MethodGet, admin["audience"].(string)+"/tenants/acme", nil)
	req.Header.Set("Authorization", "Bearer "+tok.str("access_token"))
	if r := doJSON(t, req); r.status != http.StatusOK || r.json["name"] != "acme" {
		t.Fatalf("admin API with the bootstrap client: %d %s", r.status, r.body)
	}

	// The ID token carries what the tenant's custom claims map, by scope
	// and target.
	rp := rpClient{issuer: base + "/t/acme", id: "web", secret: web["client_secret"].(string), redirect: "http://localhost:9999/callback"}
	code, ar := signIn(t, newBrowser(t, base), rp, "alice", "correct horse battery", "openid profile groups")
	tokens := exchange(t, rp, code, ar)
	if tokens.status != http.StatusOK {
		t.Fatalf("code exchange: %d %s", tokens.status, tokens.body)
	}
	id := jwtClaims(t, tokens.str("id_token"))
	if id["tenant_id"] != "t-42" || id["plan"] != "gold" || !reflect.DeepEqual(id["groups"], []any{"admins"}) {
		t.Fatalf("ID token claims %v: want tenant_id, plan and groups", id)
	}
	if _, has := id["seats"]; has {
		t.Fatalf("ID token has seats, mapped to access tokens only: %v", id)
	}
	if at := jwtClaims(t, tokens.str("access_token")); at["seats"] != float64(5) || at["plan"] != nil {
		t.Fatalf("access token claims %v: want seats, not plan", at)
	}

	mustJSON(t, "", "tenant", "disable", "--name", "acme")
	waitFor(t, 10*time.Second, "discovery of the disabled tenant answering 404", func() bool {
		resp, err := http.Get(base + "/t/acme/.well-known/openid-configuration")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusNotFound
	})
	if code := srv.stop(t); code != 0 {
		t.Fatalf("serve exit %d\nstderr: %s", code, srv.stderr.String())
	}
}

// jwtClaims decodes a JWT's payload without verifying it (the server under
// test signed it; other tests verify signatures).
func jwtClaims(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWS compact token: %q", token)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatalf("JWT payload: %v", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(raw, &claims); err != nil {
		t.Fatalf("JWT payload: %v", err)
	}
	return claims
}

// TestAuditListAuthTrail: `herald audit list --event` reads the tenant's
// authentication trail (here a password change), one page as JSON or every
// event as JSON lines.
func TestAuditListAuthTrail(t *testing.T) {
	testEnv(t)
	mustJSON(t, "", "tenant", "create", "--name", "acme")
	mustJSON(t, "a long and unusual passphrase\n", "user", "create", "--tenant", "acme", "--username", "alice", "--password-stdin")
	r := herald(t, "another unusual long passphrase\n", "user", "set-password", "--tenant", "acme", "--username", "alice", "--password-stdin")
	if r.code != 0 {
		t.Fatalf("set-password: %d %s", r.code, r.stderr)
	}
	page := mustJSON(t, "", "audit", "list", "--tenant", "acme", "--event", "password.changed")
	events := page["events"].([]any)
	if len(events) != 1 || events[0].(map[string]any)["event"] != "password.changed" || page["next_cursor"] != "" {
		t.Fatalf("audit list --event password.changed: %v", page)
	}
	if none := mustJSON(t, "", "audit", "list", "--tenant", "acme", "--event", "login.failed")["events"].([]any); len(none) != 0 {
		t.Fatalf("login.failed: %v", none)
	}
	lines := herald(t, "", "audit", "list", "--tenant", "acme", "--jsonl")
	if lines.code != 0 || strings.Count(lines.stdout, "\n") != 1 || !strings.Contains(lines.stdout, `"event":"password.changed"`) {
		t.Fatalf("--jsonl: %d %q %s", lines.code, lines.stdout, lines.stderr)
	}
	if r := herald(t, "", "audit", "list", "--event", "login.failed"); r.code != 1 || !strings.Contains(r.stderr, "tenant") {
		t.Errorf("--event without --tenant: %d %s", r.code, r.stderr)
	}
}

package op_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/herald-idp/herald/storage"
)

// hostedTransport sends every request, whatever its host, to the test
// server: it stands in for DNS pointing a tenant's hostname at Herald.
func (e *testEnv) hostedTransport() *http.Transport {
	addr := e.ts.Listener.Addr().String()
	var d net.Dialer
	return &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return d.DialContext(ctx, "tcp", addr)
	}}
}

func (e *testEnv) updateTenant(t *testing.T, name string, update func(*storage.Tenant)) {
	t.Helper()
	if _, err := e.store.Tenants().UpdateTenant(e.ctx(t), name, func(tn *storage.Tenant) error {
		update(tn)
		return nil
	}); err != nil {
		t.Fatalf("update tenant: %v", err)
	}
	// Announce the change as the registry would; without a notifier
	// (SQLite) the tenant cache lives one second.
	if e.notifier != nil {
		if err := e.notifier.Publish(e.ctx(t), name); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(1100 * time.Millisecond)
}

// TestE2EHostedTenant: a tenant that registered a hostname is a complete
// issuer at http(s)://{hostname}: discovery, login, tokens verified by
// go-oidc against that issuer, cookies scoped to the host. Other hosts get
// a 404 before any protocol work.
func TestE2EHostedTenant(t *testing.T) {
	e := newTestServer(t)
	e.updateTenant(t, tenantAcme, func(tn *storage.Tenant) { tn.Hostnames = []string{"login.acme.test"} })
	_, port, _ := net.SplitHostPort(e.ts.Listener.Addr().String())
	issuer := "http://login.acme.test:" + port
	tr := e.hostedTransport()
	ctx := oidc.ClientContext(e.ctx(t), &http.Client{Transport: tr})

	provider, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		t.Fatalf("discovery at the tenant's hostname: %v", err)
	}
	jar, _ := cookiejar.New(nil)
	b := &browser{t: t, client: &http.Client{Jar: jar, Transport: tr, Timeout: 30 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Hostname() != "login.acme.test" {
				return http.ErrUseLastResponse
			}
			return nil
		}}}
	cfg := &oauth2.Config{ClientID: e.web.id, ClientSecret: e.web.secret, RedirectURL: e.web.redirect,
		Endpoint: provider.Endpoint(), Scopes: []string{oidc.ScopeOpenID, "profile"}}
	v := newPKCE()
	u, state := authURL(cfg, v.challenge())
	if !strings.HasPrefix(u, issuer+"/authorize?") {
		t.Fatalf("authorization endpoint %s is not under %s", u, issuer)
	}
	p := b.login(b.get(u), "alice", alicePassword)
	q := p.requireRedirectTo(t, e.web.redirect)
	if q.Get("iss") != issuer || q.Get("state") != state {
		t.Fatalf("iss=%q state=%q, want %q %q", q.Get("iss"), q.Get("state"), issuer, state)
	}
	if c := b.cookie(issuer+"/", "herald_session"); c == "" {
		t.Fatal("no session cookie for the tenant's host at path /")
	}
	tok, err := cfg.Exchange(ctx, q.Get("code"), v.verify())
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	idt, err := provider.Verifier(&oidc.Config{ClientID: e.web.id}).Verify(ctx, tok.Extra("id_token").(string))
	if err != nil {
		t.Fatalf("ID token: %v", err)
	}
	requireAll(t, "ID token", field("iss", idt.Issuer, issuer), field("sub", idt.Subject, e.alice.ID))
	// The same tenant is still served at its path issuer, as a separate issuer.
	if _, err := oidc.NewProvider(oidc.ClientContext(e.ctx(t), e.ts.Client()), e.issuer); err != nil {
		t.Fatalf("path issuer: %v", err)
	}
	// Unknown hosts get a 404 and no login UI.
	for _, path := range []string{"/.well-known/openid-configuration", "/authorize?client_id=" + e.web.id} {
		resp, err := (&http.Client{Transport: tr}).Get("http://nope.test:" + port + path)
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		derr := json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("unknown host %s: status %d, want 404", path, resp.StatusCode)
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("unknown host %s: Content-Type %q, want application/json", path, ct)
		}
		if derr != nil {
			t.Errorf("unknown host %s: body is not JSON: %v", path, derr)
		}
		if body.Error != "not_found" {
			t.Errorf("unknown host %s: error %q, want not_found", path, body.Error)
		}
		if want := "no tenant is registered for this host"; body.Description != want {
			t.Errorf("unknown host %s: error_description %q, want %q", path, body.Description, want)
		}
	}
	// Health checks answer on any host (probes address replicas by IP).
	resp, err := (&http.Client{Transport: tr}).Get("http://10.9.8.7:" + port + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/healthz on another host: %d", resp.StatusCode)
	}
}

// jwtPayload decodes a JWT's claims without verifying it (the tests that
// verify signatures are elsewhere).
func jwtPayload(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", token)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestE2ETenantSettings: custom claims from user attributes land in the ID
// token, the access token and userinfo as mapped; the tenant's token
// lifetime applies.
func TestE2ETenantSettings(t *testing.T) {
	e := newTestServer(t)
	if _, err := e.store.Users().UpdateUser(e.ctx(t), tenantAcme, e.alice.ID, func(u *storage.User) error {
		u.Attributes = map[string]any{"tenant_id": "t-42", "plan_level": "gold", "groups": []any{"admins", "ops"}}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	e.updateTenant(t, tenantAcme, func(tn *storage.Tenant) {
		tn.Settings.AccessTokenLifetime = 2 * time.Minute
		tn.Settings.CustomClaims = []storage.ClaimMapping{
			{Claim: "tenant_id", Attribute: "tenant_id"},
			{Claim: "plan", Attribute: "plan_level", Scope: "profile", Targets: []string{"id_token", "userinfo"}},
			{Claim: "groups", Attribute: "groups", Targets: []string{"access_token"}},
		}
	})
	tok := e.tokens(t, e.newBrowser(t), e.web, oidc.ScopeOpenID, "profile")
	if exp := time.Until(tok.Expiry); exp > 2*time.Minute+5*time.Second || exp < time.Minute {
		t.Fatalf("access token expires in %s, want the tenant's 2m", exp)
	}
	id := jwtPayload(t, tok.Extra("id_token").(string))
	requireAll(t, "ID token custom claims",
		field("tenant_id", id["tenant_id"], "t-42"), field("plan", id["plan"], "gold"), field("groups", id["groups"], nil))
	at := jwtPayload(t, tok.AccessToken)
	requireAll(t, "access token custom claims",
		field("tenant_id", at["tenant_id"], "t-42"), field("plan", at["plan"], nil), field("groups", at["groups"], []any{"admins", "ops"}))
	req, _ := http.NewRequest(http.MethodGet, e.issuer+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	info := e.doJSON(t, req)
	info.requireStatus(t, http.StatusOK)
	var m map[string]any
	if err := json.Unmarshal([]byte(info.body), &m); err != nil {
		t.Fatal(err)
	}
	requireAll(t, "userinfo custom claims",
		field("tenant_id", m["tenant_id"], "t-42"), field("plan", m["plan"], "gold"), field("groups", m["groups"], nil))
}

// TestE2EDisabledTenant: disabling a tenant makes it invisible — discovery
// 404s and its tokens are refused at userinfo and introspection.
func TestE2EDisabledTenant(t *testing.T) {
	e := newTestServer(t)
	tok := e.tokens(t, e.newBrowser(t), e.web, oidc.ScopeOpenID)
	e.updateTenant(t, tenantAcme, func(tn *storage.Tenant) { tn.Disabled = true })
	for _, u := range []string{e.issuer + "/.well-known/openid-configuration", e.issuer + "/jwks"} {
		resp, err := e.ts.Client().Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("%s of a disabled tenant: %d", u, resp.StatusCode)
		}
	}
	if st := e.userinfoStatus(t, tok.AccessToken); st < 400 {
		t.Fatalf("userinfo of a disabled tenant: %d", st)
	}
	r := e.postForm(t, e.issuer+"/introspect", &e.web, url.Values{"token": {tok.AccessToken}})
	if r.status == http.StatusOK && strings.Contains(r.body, `"active":true`) {
		t.Fatalf("introspection of a disabled tenant's token: %s", r.body)
	}
}

package op_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/herald-idp/herald/op/registry"
	"github.com/herald-idp/herald/storage"
)

// adminCall sends a JSON request to the admin API with a bearer token.
func (e *testEnv) adminCall(t *testing.T, token, method, path string, body any) *jsonResponse {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, err := http.NewRequest(method, e.ts.URL+"/admin/v1"+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return e.doJSON(t, req)
}

// systemToken gets a client_credentials token from the system tenant.
func (e *testEnv) systemToken(t *testing.T, id, secret, scope string) string {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}}
	if scope != "" {
		form.Set("scope", scope)
	}
	r := e.postForm(t, e.ts.URL+"/t/"+registry.SystemTenant+"/token", &client{id: id, secret: secret, method: storage.AuthMethodBasic}, form)
	r.requireStatus(t, http.StatusOK)
	return r.str("access_token")
}

// TestE2EAdminAPICreatesAWorkingTenant: an admin bootstraps, gets a token
// with herald:admin, creates a tenant, a client and a user over the admin
// API, and a relying party immediately logs in on the new issuer.
func TestE2EAdminAPICreatesAWorkingTenant(t *testing.T) {
	e := newTestServer(t)
	id, secret, issuer, err := e.reg.Bootstrap(e.ctx(t), e.ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	if issuer != e.ts.URL+"/t/system" {
		t.Fatalf("system issuer %q", issuer)
	}
	token := e.systemToken(t, id, secret, registry.AdminScope)

	e.adminCall(t, token, http.MethodPost, "/tenants", map[string]any{"name": "newco", "display_name": "NewCo"}).requireStatus(t, http.StatusCreated)
	cr := e.adminCall(t, token, http.MethodPost, "/tenants/newco/clients", map[string]any{
		"client_name": "NewCo web", "redirect_uris": []string{"https://newco.example/cb"},
		"grant_types": []string{"authorization_code", "refresh_token"}, "first_party": true,
	})
	cr.requireStatus(t, http.StatusCreated)
	ur := e.adminCall(t, token, http.MethodPost, "/tenants/newco/users", map[string]any{
		"username": "nina", "email": "nina@newco.example", "password": "a long and unusual passphrase",
	})
	ur.requireStatus(t, http.StatusCreated)
	if strings.Contains(ur.body, "argon2") || strings.Contains(ur.body, "password") {
		t.Fatalf("user creation answer leaks password material: %s", ur.body)
	}

	newIssuer := e.ts.URL + "/t/newco"
	ctx := oidc.ClientContext(e.ctx(t), e.ts.Client())
	provider, err := oidc.NewProvider(ctx, newIssuer)
	if err != nil {
		t.Fatalf("discovery of the new tenant: %v", err)
	}
	cfg := &oauth2.Config{ClientID: cr.str("client_id"), ClientSecret: cr.str("client_secret"),
		RedirectURL: "https://newco.example/cb", Endpoint: provider.Endpoint(), Scopes: []string{oidc.ScopeOpenID, "email"}}
	b := e.newBrowser(t)
	v := newPKCE()
	u, _ := authURL(cfg, v.challenge())
	q := b.login(b.get(u), "nina", "a long and unusual passphrase").requireRedirectTo(t, cfg.RedirectURL)
	tok, err := cfg.Exchange(ctx, q.Get("code"), v.verify())
	if err != nil {
		t.Fatalf("exchange on the new tenant: %v", err)
	}
	idt, err := provider.Verifier(&oidc.Config{ClientID: cfg.ClientID}).Verify(ctx, tok.Extra("id_token").(string))
	if err != nil || idt.Subject != ur.str("id") {
		t.Fatalf("ID token on the new tenant: %v (sub %q, want %q)", err, idt.Subject, ur.str("id"))
	}
	// Every change is in the audit log, attributed to the admin client.
	audit := e.adminCall(t, token, http.MethodGet, "/audit?tenant=newco", nil)
	audit.requireStatus(t, http.StatusOK)
	if !strings.Contains(audit.body, id) || !strings.Contains(audit.body, "tenant.create") {
		t.Fatalf("audit log lacks the admin's actions: %s", audit.body)
	}
}

// forge builds a JWT with the given header and claims and no valid signature.
func forge(header, claims map[string]any, sig string) string {
	h, _ := json.Marshal(header)
	c, _ := json.Marshal(claims)
	return base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c) + "." + sig
}

// TestE2EAdminAPIAuthentication: only a live JWT of the system tenant with
// herald:admin opens the admin API; everything else is 401 or 403 with an
// RFC 6750 challenge.
func TestE2EAdminAPIAuthentication(t *testing.T) {
	e := newTestServer(t)
	id, secret, _, err := e.reg.Bootstrap(e.ctx(t), e.ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	good := e.systemToken(t, id, secret, registry.AdminScope)
	e.adminCall(t, good, http.MethodGet, "/tenants", nil).requireStatus(t, http.StatusOK)

	// A system client without the admin scope.
	plain, plainSecret, err := e.reg.CreateClient(e.ctx(t), registry.SystemTenant, registry.ClientSpec{
		GrantTypes: []string{registry.GrantClientCredentials}, Scopes: []string{"reports:read"},
	})
	if err != nil {
		t.Fatal(err)
	}
	noScope := e.systemToken(t, plain.ID, plainSecret, "reports:read")
	// A token of another tenant (acme), even for a client with the same ID.
	otherTenant := e.token(t, e.web, url.Values{"grant_type": {"client_credentials"}}).str("access_token")
	// A short-lived admin token, left to expire.
	shortC, shortSecret, err := e.reg.CreateClient(e.ctx(t), registry.SystemTenant, registry.ClientSpec{
		GrantTypes: []string{registry.GrantClientCredentials}, Scopes: []string{registry.AdminScope},
		AccessTokenLifetime: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	expired := e.systemToken(t, shortC.ID, shortSecret, registry.AdminScope)
	// A revoked admin token.
	revoked := e.systemToken(t, id, secret, registry.AdminScope)
	e.postForm(t, e.ts.URL+"/t/system/revoke", &client{id: id, secret: secret, method: storage.AuthMethodBasic},
		url.Values{"token": {revoked}}).requireStatus(t, http.StatusOK)

	parts := strings.Split(good, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString(bytes.Replace(payload, []byte(`"sub":"`), []byte(`"sub":"x`), 1)) + "." + parts[2]
	var claims map[string]any
	_ = json.Unmarshal(payload, &claims)
	algNone := forge(map[string]any{"alg": "none", "typ": "at+jwt"}, claims, "")
	hmacForged := forge(map[string]any{"alg": "HS256", "typ": "at+jwt"}, claims, "c2lnbmF0dXJl")
	time.Sleep(1500 * time.Millisecond) // let the short-lived token expire

	for _, tc := range []struct {
		name, token string
		status      int
		challenge   string
	}{
		{"no token", "", 401, `Bearer realm="herald-admin"`},
		{"garbage", "not-a-token", 401, `error="invalid_token"`},
		{"other tenant", otherTenant, 401, `error="invalid_token"`},
		{"missing scope", noScope, 403, `error="insufficient_scope"`},
		{"expired", expired, 401, `error="invalid_token"`},
		{"revoked", revoked, 401, `error="invalid_token"`},
		{"tampered", tampered, 401, `error="invalid_token"`},
		{"alg none", algNone, 401, `error="invalid_token"`},
		{"HS256 forged", hmacForged, 401, `error="invalid_token"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.adminCall(t, tc.token, http.MethodGet, "/tenants", nil)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if ch := r.header.Get("WWW-Authenticate"); !strings.Contains(ch, tc.challenge) {
				t.Fatalf("WWW-Authenticate %q lacks %q", ch, tc.challenge)
			}
			if strings.Contains(r.body, "tenants") && strings.Contains(r.body, "acme") {
				t.Fatalf("refused request still got data: %s", r.body)
			}
		})
	}
}

// TestE2ETokensEndWithTheirClientOrUser: deleting a client or disabling a
// user ends their live access tokens at introspection and userinfo, and
// their refresh tokens.
func TestE2ETokensEndWithTheirClientOrUser(t *testing.T) {
	e := newTestServer(t)
	ctx := e.ctx(t)
	tok := e.tokens(t, e.newBrowser(t), e.web, oidc.ScopeOpenID, oidc.ScopeOfflineAccess)
	e.requireActive(t, tok.AccessToken, true)
	yes := true
	if _, err := e.reg.UpdateUser(ctx, tenantAcme, e.alice.ID, registry.UserUpdate{Disabled: &yes}); err != nil {
		t.Fatal(err)
	}
	e.requireActive(t, tok.AccessToken, false)
	if st := e.userinfoStatus(t, tok.AccessToken); st != http.StatusUnauthorized {
		t.Fatalf("userinfo for a disabled user: %d", st)
	}
	e.refresh(t, e.web, tok.RefreshToken).requireError(t, http.StatusBadRequest, "invalid_grant")

	// Deleting rp-web ends its client_credentials token; rp-opaque asks.
	cc := e.token(t, e.web, url.Values{"grant_type": {"client_credentials"}})
	cc.requireStatus(t, http.StatusOK)
	e.requireActive(t, cc.str("access_token"), true)
	if err := e.reg.DeleteClient(ctx, tenantAcme, e.web.id); err != nil {
		t.Fatal(err)
	}
	r := e.postForm(t, e.issuer+"/introspect", &e.opaque, url.Values{"token": {cc.str("access_token")}})
	r.requireStatus(t, http.StatusOK)
	if r.json["active"] != false {
		t.Fatalf("a deleted client's token is still active: %s", r.body)
	}
}

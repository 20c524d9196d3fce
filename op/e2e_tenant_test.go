package op_test

// Tenant isolation (checklist C6, F4, G4): tenant beta registers a client
// with the same ID and redirect URI as acme's web client, so that only the
// tenant boundary can stop acme's codes, tokens and session from working
// there.

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"

	"github.com/herald-idp/herald/op/registry"
)

func TestE2ETenantIsolation(t *testing.T) {
	t.Parallel()
	e := newTestServer(t)
	ctx := context.Background()
	if _, err := e.reg.CreateTenant(ctx, registry.TenantSpec{Name: "beta"}); err != nil {
		t.Fatal(err)
	}
	betaWeb := e.createClient(t, "beta", registry.ClientSpec{
		ID: webClientID, FirstParty: true, RedirectURIs: []string{webRedirect},
		PostLogoutRedirectURIs: []string{webPostLogout},
		GrantTypes:             []string{registry.GrantAuthorizationCode, registry.GrantRefreshToken, registry.GrantClientCredentials},
	})
	if _, err := e.reg.CreateUser(ctx, "beta", registryUser("alice")); err != nil {
		t.Fatal(err)
	}
	beta := e.issuerOf("beta")
	betaPost := func(t *testing.T, path string, form url.Values) *jsonResponse {
		t.Helper()
		return e.postForm(t, beta+path, &betaWeb, form)
	}

	b := e.newBrowser(t)
	cfg := e.config(e.web, oidc.ScopeOpenID, oidc.ScopeOfflineAccess)
	tok := e.tokens(t, b, e.web, oidc.ScopeOpenID, oidc.ScopeOfflineAccess)

	t.Run("code", func(t *testing.T) {
		v := newPKCE()
		code := e.signInCode(t, b, cfg, v.challenge())
		betaPost(t, "/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"redirect_uri": {webRedirect}, "code_verifier": {v.verifier}}).requireError(t, http.StatusBadRequest, "invalid_grant")
		// Nothing happened to it in acme.
		e.exchangeRaw(t, e.web, code, webRedirect, v.verifier).requireStatus(t, http.StatusOK)
	})
	t.Run("access token", func(t *testing.T) {
		r := betaPost(t, "/introspect", url.Values{"token": {tok.AccessToken}})
		r.requireStatus(t, http.StatusOK)
		if active, _ := r.json["active"].(bool); active {
			t.Errorf("beta says acme's access token is active: %s", r.body)
		}
		req, _ := http.NewRequest(http.MethodGet, beta+"/userinfo", nil)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		if s := e.doJSON(t, req).status; s != http.StatusUnauthorized {
			t.Errorf("beta userinfo with acme's token: %d, want 401", s)
		}
	})
	t.Run("refresh token", func(t *testing.T) {
		betaPost(t, "/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}).
			requireError(t, http.StatusBadRequest, "invalid_grant")
		e.requireActive(t, tok.RefreshToken, true)
	})
	t.Run("client secret", func(t *testing.T) {
		e.postForm(t, beta+"/token", &e.web, url.Values{"grant_type": {"client_credentials"}}).
			requireError(t, http.StatusUnauthorized, "invalid_client")
	})
	t.Run("session cookie", func(t *testing.T) {
		betaCfg := oauthConfig(beta, betaWeb, oidc.ScopeOpenID)
		u, _ := authURL(betaCfg)
		if p := b.get(u); !p.isLoginPage() {
			t.Fatalf("acme's session signed the user in at beta: %d %s", p.status, p.header.Get("Location"))
		}
		u, _ = authURL(betaCfg, oauth2PromptNone())
		b.get(u).requireAuthError(t, webRedirect, beta, "login_required")
	})
	t.Run("keys and ID tokens", func(t *testing.T) {
		acmeKids, betaKids := jwksKids(t, e, e.issuer), jwksKids(t, e, beta)
		for kid := range acmeKids {
			if betaKids[kid] {
				t.Errorf("kid %s is published by both tenants", kid)
			}
		}
		p, err := oidc.NewProvider(e.ctx(t), beta)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Verifier(&oidc.Config{ClientID: webClientID}).Verify(e.ctx(t), tok.Extra("id_token").(string)); err == nil {
			t.Errorf("beta's verifier accepts acme's ID token")
		}
	})
	t.Run("id_token_hint at beta's end_session", func(t *testing.T) {
		p := b.get(beta + "/end_session?" + url.Values{
			"id_token_hint": {tok.Extra("id_token").(string)}, "post_logout_redirect_uri": {webPostLogout},
		}.Encode())
		p.requireErrorPage(t, http.StatusBadRequest)
	})
}

// jwksKids returns the key IDs an issuer publishes.
func jwksKids(t *testing.T, e *testEnv, issuer string) map[string]bool {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, issuer+"/jwks", nil)
	r := e.doJSON(t, req)
	r.requireStatus(t, http.StatusOK)
	var set jose.JSONWebKeySet
	if err := jsonUnmarshalString(r.body, &set); err != nil {
		t.Fatal(err)
	}
	kids := map[string]bool{}
	for _, k := range set.Keys {
		if !k.IsPublic() {
			t.Errorf("JWKS of %s publishes private key material (kid %s)", issuer, k.KeyID)
		}
		kids[k.KeyID] = true
	}
	if len(kids) == 0 {
		t.Fatalf("JWKS of %s is empty", issuer)
	}
	return kids
}

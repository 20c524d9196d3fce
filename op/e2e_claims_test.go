package op_test

// The claims of the email and profile scopes, and what discovery and the
// consent page promise about them.

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/herald-idp/herald/op/registry"
)

// TestE2EEmailVerifiedAlwaysPresent: with the email scope, email_verified
// is in the ID token and at userinfo as true or false — never left out —
// and follows the user record when an administrator changes it.
func TestE2EEmailVerifiedAlwaysPresent(t *testing.T) {
	t.Parallel()
	e := newTestServer(t)
	bob, err := e.reg.CreateUser(t.Context(), tenantAcme, registryUser("bob")) // not verified
	if err != nil {
		t.Fatal(err)
	}
	claimsOf := func(t *testing.T, username string, scopes ...string) (idToken, userinfo map[string]any) {
		t.Helper()
		cfg := e.config(e.web, scopes...)
		b := e.newBrowser(t)
		v := newPKCE()
		u, _ := authURL(cfg, v.challenge())
		q := b.login(b.get(u), username, alicePassword).requireRedirectTo(t, webRedirect)
		tok, err := cfg.Exchange(e.ctx(t), q.Get("code"), v.verify())
		if err != nil {
			t.Fatalf("exchange: %v", err)
		}
		raw, _ := tok.Extra("id_token").(string)
		return jwtPayload(t, raw), e.userinfoJSON(t, tok)
	}
	for _, tc := range []struct {
		user string
		want bool
	}{{"alice", true}, {"bob", false}} {
		idt, ui := claimsOf(t, tc.user, oidc.ScopeOpenID, "email")
		for where, claims := range map[string]map[string]any{"ID token": idt, "userinfo": ui} {
			got, present := claims["email_verified"]
			if !present || got != tc.want {
				t.Errorf("%s of %s: email_verified = %v (present %v), want %v", where, tc.user, got, present, tc.want)
			}
		}
	}
	t.Run("absent without the email scope", func(t *testing.T) {
		idt, ui := claimsOf(t, "bob", oidc.ScopeOpenID)
		if _, ok := idt["email_verified"]; ok {
			t.Errorf("ID token has email_verified without the email scope: %v", idt)
		}
		if _, ok := ui["email_verified"]; ok {
			t.Errorf("userinfo has email_verified without the email scope: %v", ui)
		}
	})
	t.Run("set through the admin API", func(t *testing.T) {
		id, secret, _, err := e.reg.Bootstrap(e.ctx(t), e.ts.URL)
		if err != nil {
			t.Fatal(err)
		}
		token := e.systemToken(t, id, secret, registry.AdminScope)
		path := "/tenants/" + tenantAcme + "/users/" + e.alice.ID
		r := e.adminCall(t, token, http.MethodPatch, path, map[string]any{"email_verified": false})
		r.requireStatus(t, http.StatusOK)
		if v, ok := r.json["email_verified"]; !ok || v != false {
			t.Fatalf("PATCH email_verified=false answered %s", r.body)
		}
		idt, ui := claimsOf(t, "alice", oidc.ScopeOpenID, "email")
		if idt["email_verified"] != false || ui["email_verified"] != false {
			t.Errorf("after unverifying: ID token %v, userinfo %v", idt["email_verified"], ui["email_verified"])
		}
	})
	t.Run("set by an administrator", func(t *testing.T) {
		verified := true
		if _, err := e.reg.UpdateUser(t.Context(), tenantAcme, bob.ID, registry.UserUpdate{EmailVerified: &verified}); err != nil {
			t.Fatal(err)
		}
		idt, ui := claimsOf(t, "bob", oidc.ScopeOpenID, "email")
		if idt["email_verified"] != true || ui["email_verified"] != true {
			t.Errorf("after verifying: ID token %v, userinfo %v", idt["email_verified"], ui["email_verified"])
		}
	})
}

// TestE2EScopesPromiseOnlyWhatExists: discovery advertises no scope whose
// claims no user can have, and the consent page lists neither those scopes
// nor claims Herald does not hold — though a client may still ask for
// address or phone without being refused.
func TestE2EScopesPromiseOnlyWhatExists(t *testing.T) {
	t.Parallel()
	e := newTestServer(t)
	_, doc := e.provider(t)
	for _, want := range []string{"openid", "profile", "email", "offline_access"} {
		if !slices.Contains(doc.ScopesSupported, want) {
			t.Errorf("scopes_supported %v lacks %q", doc.ScopesSupported, want)
		}
	}
	for _, absent := range []string{"address", "phone"} {
		if slices.Contains(doc.ScopesSupported, absent) {
			t.Errorf("scopes_supported %v advertises %q, which no user can have", doc.ScopesSupported, absent)
		}
	}

	b := e.newBrowser(t)
	cfg := e.config(e.third, oidc.ScopeOpenID, "profile", "phone", "address")
	u, _ := authURL(cfg)
	p := b.login(b.get(u), "alice", alicePassword)
	if !p.isConsentPage() {
		t.Fatalf("expected the consent page, got %d %s", p.status, p.header.Get("Location"))
	}
	body := strings.ToLower(p.body)
	for _, promise := range []string{"picture", "locale", "phone", "postal", "address"} {
		if strings.Contains(body, promise) {
			t.Errorf("the consent page mentions %q, which Herald does not hold", promise)
		}
	}
	for _, truth := range []string{"given and family", "username"} {
		if !strings.Contains(body, truth) {
			t.Errorf("the consent page does not say the profile scope releases %q", truth)
		}
	}
	q := b.submit(p, map[string][]string{"decision": {"allow"}}).requireRedirectTo(t, thirdRedirect)
	tok, err := cfg.Exchange(e.ctx(t), q.Get("code"))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	ui := e.userinfoJSON(t, tok)
	for _, claim := range []string{"address", "phone_number", "phone_number_verified", "picture", "locale"} {
		if _, ok := ui[claim]; ok {
			t.Errorf("userinfo has %q: %v", claim, ui)
		}
	}
	if ui["given_name"] != "Alice" || ui["preferred_username"] != "alice" {
		t.Errorf("userinfo profile claims: %v", ui)
	}
}

// userinfoJSON asks userinfo with tok's access token.
func (e *testEnv) userinfoJSON(t *testing.T, tok *oauth2.Token) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.issuer+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	r := e.doJSON(t, req)
	r.requireStatus(t, http.StatusOK)
	return r.json
}

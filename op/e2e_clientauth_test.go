package op_test

// Client authentication with the two transports of a secret (checklist D2):
// a client registered for client_secret_basic may send its secret in the
// body and the reverse, as relying-party libraries do by default; two
// methods at once, and a secret from a public client, stay refused.

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/herald-idp/herald/op/registry"
	"github.com/herald-idp/herald/storage"
)

// TestE2ESecretEitherTransport runs the code flow and a refresh with
// golang.org/x/oauth2 sending the secret in the body (AuthStyleInParams)
// for a client registered for basic, and in the header (AuthStyleInHeader)
// for one registered for post; the ID token verifies with go-oidc.
func TestE2ESecretEitherTransport(t *testing.T) {
	t.Parallel()
	e := newTestServer(t)
	post := e.createClient(t, tenantAcme, registry.ClientSpec{
		ID: "rp-post", FirstParty: true, AuthMethod: storage.AuthMethodPost,
		RedirectURIs: []string{"https://post.example/cb"},
		GrantTypes:   []string{registry.GrantAuthorizationCode, registry.GrantRefreshToken},
	})
	provider, err := oidc.NewProvider(e.ctx(t), e.issuer)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		c     client
		style oauth2.AuthStyle
	}{
		{"basic client, secret in the body", e.web, oauth2.AuthStyleInParams},
		{"post client, secret in the header", post, oauth2.AuthStyleInHeader},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := e.config(tc.c, oidc.ScopeOpenID, oidc.ScopeOfflineAccess)
			cfg.Endpoint.AuthStyle = tc.style
			b := e.newBrowser(t)
			v := newPKCE()
			code := e.signInCode(t, b, cfg, v.challenge())
			tok, err := cfg.Exchange(e.ctx(t), code, v.verify())
			if err != nil {
				t.Fatalf("exchange: %v", err)
			}
			rawID, _ := tok.Extra("id_token").(string)
			if _, err := provider.Verifier(&oidc.Config{ClientID: tc.c.id}).Verify(e.ctx(t), rawID); err != nil {
				t.Fatalf("ID token: %v", err)
			}
			if tok.RefreshToken == "" {
				t.Fatal("no refresh token")
			}
			tok.Expiry = time.Now().Add(-time.Minute) // force a refresh
			fresh, err := cfg.TokenSource(e.ctx(t), tok).Token()
			if err != nil {
				t.Fatalf("refresh: %v", err)
			}
			if fresh.AccessToken == "" || fresh.AccessToken == tok.AccessToken {
				t.Fatalf("refresh gave no new access token")
			}
		})
	}

	t.Run("revocation accepts either transport", func(t *testing.T) {
		for _, method := range []string{storage.AuthMethodBasic, storage.AuthMethodPost} {
			c := e.web
			c.method = method
			at := e.token(t, e.web, url.Values{"grant_type": {"client_credentials"}}).str("access_token")
			e.postForm(t, e.issuer+"/revoke", &c, url.Values{"token": {at}}).requireStatus(t, http.StatusOK)
			e.requireActive(t, at, false)
			wrong := c
			wrong.secret = "not-the-secret"
			e.postForm(t, e.issuer+"/revoke", &wrong, url.Values{"token": {at}}).requireError(t, http.StatusUnauthorized, "invalid_client")
		}
	})
	t.Run("introspection accepts either transport", func(t *testing.T) {
		at := e.token(t, e.web, url.Values{"grant_type": {"client_credentials"}}).str("access_token")
		for _, method := range []string{storage.AuthMethodBasic, storage.AuthMethodPost} {
			gw := e.gateway
			gw.method = method
			r := e.postForm(t, e.issuer+"/introspect", &gw, url.Values{"token": {at}})
			r.requireStatus(t, http.StatusOK)
			if active, _ := r.json["active"].(bool); !active {
				t.Fatalf("%s: introspection says inactive: %s", method, r.body)
			}
		}
	})
}

// TestE2EClientAuthRefusals: what stays refused after basic and post became
// interchangeable.
func TestE2EClientAuthRefusals(t *testing.T) {
	t.Parallel()
	e := newTestServer(t)
	cc := url.Values{"grant_type": {"client_credentials"}}
	twoMethods := func(t *testing.T, endpoint string, form url.Values) *jsonResponse {
		req, _ := http.NewRequest(http.MethodPost, endpoint, nil)
		req.SetBasicAuth(e.web.id, e.web.secret)
		setFormBody(req, form.Encode())
		return e.doJSON(t, req)
	}
	t.Run("basic header and client_secret in the body", func(t *testing.T) {
		// The library catches client_id plus client_secret next to Basic;
		// a lone client_secret in the body is caught by Herald.
		form := cloneValues(cc)
		form.Set("client_secret", e.web.secret)
		twoMethods(t, e.issuer+"/token", form).requireError(t, http.StatusBadRequest, "invalid_request")
		form.Set("token", "x")
		twoMethods(t, e.issuer+"/introspect", form).requireError(t, http.StatusBadRequest, "invalid_request")
	})
	t.Run("basic header and a wrong client_secret in the body", func(t *testing.T) {
		form := cloneValues(cc)
		form.Set("client_secret", "not-the-secret")
		twoMethods(t, e.issuer+"/token", form).requireError(t, http.StatusBadRequest, "invalid_request")
	})
	refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}
	for _, method := range []string{storage.AuthMethodBasic, storage.AuthMethodPost} {
		t.Run("public client sends a secret by "+method, func(t *testing.T) {
			withSecret := e.spa
			withSecret.method, withSecret.secret = method, "anything"
			e.token(t, withSecret, refresh).requireError(t, http.StatusUnauthorized, "invalid_client")
		})
		t.Run("confidential client sends a wrong secret by "+method, func(t *testing.T) {
			wrong := e.web
			wrong.method, wrong.secret = method, "not-the-secret"
			e.token(t, wrong, cc).requireError(t, http.StatusUnauthorized, "invalid_client")
		})
	}
	t.Run("public client identifies itself by Basic with no password", func(t *testing.T) {
		// golang.org/x/oauth2's default for a client without a secret: no
		// secret is sent, so it is the public client's "none".
		req, _ := http.NewRequest(http.MethodPost, e.issuer+"/token", nil)
		req.SetBasicAuth(e.spa.id, "")
		setFormBody(req, refresh.Encode())
		e.doJSON(t, req).requireError(t, http.StatusBadRequest, "invalid_grant") // past client authentication
		req, _ = http.NewRequest(http.MethodPost, e.issuer+"/token", nil)
		req.SetBasicAuth(e.web.id, "")
		setFormBody(req, cc.Encode())
		e.doJSON(t, req).requireError(t, http.StatusUnauthorized, "invalid_client") // a confidential client needs its secret
	})
	t.Run("confidential client sends no secret", func(t *testing.T) {
		none := e.web
		none.method = storage.AuthMethodNone
		e.token(t, none, cc).requireError(t, http.StatusUnauthorized, "invalid_client")
	})
	t.Run("public client may not introspect", func(t *testing.T) {
		r := e.postForm(t, e.issuer+"/introspect", &e.spa, url.Values{"token": {"x"}})
		r.requireError(t, http.StatusUnauthorized, "invalid_client")
	})
}

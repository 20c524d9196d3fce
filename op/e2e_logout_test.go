package op_test

// RP-Initiated Logout 1.0 (checklist H4, H5, H7, F6), mirroring the
// oidcc-rp-initiated-logout-* conformance modules.

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

func TestE2ELogout(t *testing.T) {
	t.Parallel()
	e := newTestServer(t)
	cfg := e.config(e.web, oidc.ScopeOpenID)
	endSession := e.issuer + "/end_session"

	// signedIn returns a browser with alice signed in and an ID token.
	signedIn := func(t *testing.T) (*browser, string) {
		b := e.newBrowser(t)
		tok := e.tokens(t, b, e.web, oidc.ScopeOpenID)
		return b, tok.Extra("id_token").(string)
	}
	requireLoggedOut := func(t *testing.T, b *browser) {
		t.Helper()
		u, _ := authURL(cfg, oauth2.SetAuthURLParam("prompt", "none"))
		b.get(u).requireAuthError(t, webRedirect, e.issuer, "login_required")
	}
	requireLoggedIn := func(t *testing.T, b *browser) {
		t.Helper()
		u, _ := authURL(cfg, oauth2.SetAuthURLParam("prompt", "none"))
		if q := b.get(u).requireRedirectTo(t, webRedirect); q.Get("code") == "" {
			t.Fatalf("expected to be still signed in, got %v", q)
		}
	}

	t.Run("id_token_hint and post_logout_redirect_uri", func(t *testing.T) {
		b, idToken := signedIn(t)
		cookie := b.cookie(e.issuer+"/", "herald_session")
		if cookie == "" {
			t.Fatal("no session cookie after login")
		}
		p := b.get(endSession + "?" + url.Values{
			"id_token_hint": {idToken}, "post_logout_redirect_uri": {webPostLogout}, "state": {"st-123"},
		}.Encode())
		if p.status != http.StatusSeeOther {
			t.Fatalf("status = %d, want 303", p.status)
		}
		if q := p.requireRedirectTo(t, webPostLogout); q.Get("state") != "st-123" {
			t.Errorf("state = %q, want st-123", q.Get("state"))
		}
		requireLoggedOut(t, b)

		// H5: the session is gone on the server, not only the cookie.
		replay := e.newBrowser(t)
		u, _ := url.Parse(e.issuer + "/")
		replay.client.Jar.SetCookies(u, []*http.Cookie{{Name: "herald_session", Value: cookie, Path: "/t/acme/"}})
		requireLoggedOut(t, replay)
	})

	t.Run("unregistered post_logout_redirect_uri", func(t *testing.T) {
		b, idToken := signedIn(t)
		for _, uri := range []string{"https://evil.example/bye", webPostLogout + "?x=1", webPostLogout + "/", "https://RP.example/bye"} {
			p := b.get(endSession + "?" + url.Values{"id_token_hint": {idToken}, "post_logout_redirect_uri": {uri}}.Encode())
			p.requireErrorPage(t, http.StatusBadRequest)
		}
	})

	t.Run("bad id_token_hint", func(t *testing.T) {
		b, idToken := signedIn(t)
		parts := strings.Split(idToken, ".")
		noneHeader := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
		sig := []byte(parts[2])
		sig[len(sig)/2] ^= 1
		for name, hint := range map[string]string{
			"alg none":         noneHeader + "." + parts[1] + ".",
			"tampered":         parts[0] + "." + parts[1] + "." + string(sig),
			"garbage":          "not-a-jwt",
			"modified payload": parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"x","iss":"`+e.issuer+`"}`)) + "." + parts[2],
		} {
			p := b.get(endSession + "?" + url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {webPostLogout}}.Encode())
			if p.location() != nil {
				t.Errorf("%s: redirected to %s", name, p.header.Get("Location"))
				continue
			}
			p.requireErrorPage(t, http.StatusBadRequest)
		}
		requireLoggedIn(t, b)
	})

	t.Run("without id_token_hint asks first", func(t *testing.T) {
		b, _ := signedIn(t)
		p := b.get(endSession)
		if p.status != http.StatusOK || findForm(p.body) == nil || !strings.HasPrefix(p.header.Get("Content-Type"), "text/html") {
			t.Fatalf("end_session without hint: %d, want a confirmation form:\n%s", p.status, truncate(p.body))
		}
		requireLoggedIn(t, b) // H7: the GET alone logs nobody out

		cancelled := b.submit(p, url.Values{"decision": {"cancel"}})
		if cancelled.status >= 400 {
			t.Fatalf("cancel: %d", cancelled.status)
		}
		requireLoggedIn(t, b)

		p = b.get(endSession)
		done := b.submit(p, url.Values{"decision": {"logout"}})
		if done.status != http.StatusOK {
			t.Fatalf("confirmed logout: %d", done.status)
		}
		requireLoggedOut(t, b)
	})

	t.Run("confirmation needs the CSRF token", func(t *testing.T) {
		b, _ := signedIn(t)
		b.get(endSession) // obtains the CSRF cookie
		b.post(endSession, url.Values{"decision": {"logout"}}).requireErrorPage(t, http.StatusForbidden)
		requireLoggedIn(t, b)
	})
}

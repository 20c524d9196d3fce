package op_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
)

// TestE2ELogoutWithoutSession: when nobody is signed in in this browser
// there is nothing to confirm, so end_session goes straight to the
// validated post_logout_redirect_uri (with state) or to the logged-out
// page — with no cookie at all, and with the cookie of a session that has
// already ended. The redirect URI is still checked against the client's
// registration.
func TestE2ELogoutWithoutSession(t *testing.T) {
	t.Parallel()
	e := newTestServer(t)
	endSession := e.issuer + "/end_session"
	// An ID token from a sign-in in another browser.
	_, idToken := func() (*browser, string) {
		b := e.newBrowser(t)
		tok := e.tokens(t, b, e.web, oidc.ScopeOpenID)
		return b, tok.Extra("id_token").(string)
	}()
	requireStraightRedirect := func(t *testing.T, b *browser, q url.Values) {
		t.Helper()
		p := b.get(endSession + "?" + q.Encode())
		if p.status != http.StatusSeeOther {
			t.Fatalf("status = %d, want 303 to the post-logout URI:\n%s", p.status, truncate(p.body))
		}
		if got := p.requireRedirectTo(t, webPostLogout); got.Get("state") != "st-1" {
			t.Errorf("state = %q, want st-1", got.Get("state"))
		}
	}
	requireLoggedOutPage := func(t *testing.T, p *page) {
		t.Helper()
		if p.status != http.StatusOK || findForm(p.body) != nil || !strings.HasPrefix(p.header.Get("Content-Type"), "text/html") {
			t.Fatalf("end_session: %d, want the logged-out page without a form:\n%s", p.status, truncate(p.body))
		}
	}
	withHint := url.Values{"id_token_hint": {idToken}, "post_logout_redirect_uri": {webPostLogout}, "state": {"st-1"}}
	withClientID := url.Values{"client_id": {e.web.id}, "post_logout_redirect_uri": {webPostLogout}, "state": {"st-1"}}

	t.Run("no cookie, hint and redirect", func(t *testing.T) {
		requireStraightRedirect(t, e.newBrowser(t), withHint)
	})
	t.Run("no cookie, client_id and redirect", func(t *testing.T) {
		requireStraightRedirect(t, e.newBrowser(t), withClientID)
	})
	t.Run("no cookie, no parameters", func(t *testing.T) {
		requireLoggedOutPage(t, e.newBrowser(t).get(endSession))
	})
	t.Run("the session has ended already", func(t *testing.T) {
		b := e.newBrowser(t)
		e.tokens(t, b, e.web, oidc.ScopeOpenID)
		cookie := b.cookie(e.issuer+"/", "herald_session")
		// Logged out elsewhere: a second browser replays the cookie of a
		// session that this one ends.
		stale := e.newBrowser(t)
		u, _ := url.Parse(e.issuer + "/")
		stale.client.Jar.SetCookies(u, []*http.Cookie{{Name: "herald_session", Value: cookie, Path: "/t/acme/"}})
		b.submit(b.get(endSession), url.Values{"decision": {"logout"}})
		requireLoggedOutPage(t, stale.get(endSession))
		requireStraightRedirect(t, stale, withClientID)
	})
	t.Run("the redirect URI is still checked", func(t *testing.T) {
		bad := cloneValues(withClientID)
		bad.Set("post_logout_redirect_uri", "https://evil.example/bye")
		p := e.newBrowser(t).get(endSession + "?" + bad.Encode())
		if p.location() != nil {
			t.Fatalf("redirected to %s", p.header.Get("Location"))
		}
		p.requireErrorPage(t, http.StatusBadRequest)
	})
}

package op_test

// The SSO session (prompt, max_age) and the consent page, driven through
// the browser (OIDC Core §3.1.2.1, checklist H1-H3).

import (
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

func TestE2ESSO(t *testing.T) {
	t.Parallel()
	e := newTestServer(t)
	cfg := e.config(e.web, oidc.ScopeOpenID)

	// loggedIn returns a browser with alice signed in.
	loggedIn := func(t *testing.T) *browser {
		b := e.newBrowser(t)
		u, _ := authURL(cfg)
		p := b.get(u)
		if !p.isLoginPage() {
			t.Fatalf("fresh browser: expected the login page, got %d", p.status)
		}
		b.login(p, "alice", alicePassword).requireRedirectTo(t, webRedirect)
		return b
	}

	t.Run("second authorize skips the login page", func(t *testing.T) {
		b := loggedIn(t)
		u, state := authURL(cfg)
		q := b.get(u).requireRedirectTo(t, webRedirect)
		requireAll(t, "SSO response", field("code present", q.Get("code") != "", true),
			field("state", q.Get("state"), state), field("iss", q.Get("iss"), e.issuer))
	})
	for _, tc := range []struct {
		name string
		opt  oauth2.AuthCodeOption
	}{
		{"prompt=login", oauth2.SetAuthURLParam("prompt", "login")},
		{"max_age=0", oauth2.SetAuthURLParam("max_age", "0")},
	} {
		t.Run(tc.name+" shows the login page", func(t *testing.T) {
			b := loggedIn(t)
			u, state := authURL(cfg, tc.opt)
			p := b.get(u)
			if !p.isLoginPage() {
				t.Fatalf("%s with a session: got %d %s, want the login page", tc.name, p.status, p.header.Get("Location"))
			}
			q := b.login(p, "alice", alicePassword).requireRedirectTo(t, webRedirect)
			requireAll(t, "after re-authentication", field("code present", q.Get("code") != "", true),
				field("state", q.Get("state"), state))
		})
	}
	for _, maxAge := range []string{"10000", "9223372036854775807"} {
		t.Run("max_age="+maxAge+" reuses the session", func(t *testing.T) {
			// oidcc-max-age-10000: a recent login satisfies a large max_age;
			// the largest int64 must not overflow into "too old".
			b := loggedIn(t)
			u, _ := authURL(cfg, oauth2.SetAuthURLParam("max_age", maxAge))
			p := b.get(u)
			if p.isLoginPage() {
				t.Fatalf("max_age=%s with a fresh session shows the login page", maxAge)
			}
			if q := p.requireRedirectTo(t, webRedirect); q.Get("code") == "" {
				t.Fatalf("max_age=%s: %v", maxAge, q)
			}
		})
	}
	t.Run("prompt=none with a session returns a code", func(t *testing.T) {
		b := loggedIn(t)
		v := newPKCE()
		nonce := oauth2.GenerateVerifier()
		code := e.signInCode(t, b, cfg, oauth2.SetAuthURLParam("prompt", "none"), v.challenge(), oidc.Nonce(nonce))
		tok, err := cfg.Exchange(e.ctx(t), code, v.verify())
		if err != nil {
			t.Fatal(err)
		}
		p, _ := e.provider(t)
		idt, err := p.Verifier(&oidc.Config{ClientID: e.web.id}).Verify(e.ctx(t), tok.Extra("id_token").(string))
		if err != nil {
			t.Fatalf("ID token after prompt=none: %v", err)
		}
		requireAll(t, "ID token after prompt=none", field("sub", idt.Subject, e.alice.ID), field("nonce", idt.Nonce, nonce))
	})
	t.Run("prompt=none without a session", func(t *testing.T) {
		b := e.newBrowser(t)
		u, state := authURL(cfg, oauth2.SetAuthURLParam("prompt", "none"))
		q := b.get(u).requireAuthError(t, webRedirect, e.issuer, "login_required")
		if q.Get("state") != state {
			t.Errorf("state = %q, want %q", q.Get("state"), state)
		}
	})
	t.Run("prompt=none combined is invalid", func(t *testing.T) {
		b := loggedIn(t)
		u, _ := authURL(cfg, oauth2.SetAuthURLParam("prompt", "none login"))
		b.get(u).requireAuthError(t, webRedirect, e.issuer, "invalid_request")
	})
}

func TestE2EConsent(t *testing.T) {
	t.Parallel()
	e := newTestServer(t)
	cfg := e.config(e.third, oidc.ScopeOpenID, "profile", "email")
	b := e.newBrowser(t)

	t.Run("allow", func(t *testing.T) {
		u, state := authURL(cfg)
		p := b.login(b.get(u), "alice", alicePassword)
		if !p.isConsentPage() {
			t.Fatalf("non-first-party client: expected the consent page, got %d %s", p.status, p.header.Get("Location"))
		}
		if got := textOf(p.body, "scope-name"); !slices.Equal(got, []string{"openid", "profile", "email"}) {
			t.Errorf("consent page lists scopes %v, want [openid profile email]", got)
		}
		if got := textOf(p.body, "client-name"); !slices.Contains(got, thirdClientName) {
			t.Errorf("consent page names %v, want %q", got, thirdClientName)
		}
		q := b.submit(p, url.Values{"decision": {"allow"}}).requireRedirectTo(t, thirdRedirect)
		requireAll(t, "after allow", field("code present", q.Get("code") != "", true),
			field("state", q.Get("state"), state), field("iss", q.Get("iss"), e.issuer))
		tok, err := cfg.Exchange(e.ctx(t), q.Get("code"))
		if err != nil || tok.Extra("id_token") == nil {
			t.Fatalf("exchange after consent: %v", err)
		}
	})
	t.Run("remembered", func(t *testing.T) {
		u, _ := authURL(cfg)
		p := b.get(u)
		if q := p.requireRedirectTo(t, thirdRedirect); q.Get("code") == "" {
			t.Fatalf("second authorize: %v", q)
		}
	})
	t.Run("more scopes ask again", func(t *testing.T) {
		wider := e.config(e.third, oidc.ScopeOpenID, "profile", "email", "phone")
		u, _ := authURL(wider)
		if p := b.get(u); !p.isConsentPage() {
			t.Fatalf("new scope without consent: got %d %s", p.status, p.header.Get("Location"))
		}
	})
	t.Run("prompt=consent then deny", func(t *testing.T) {
		u, state := authURL(cfg, oauth2.SetAuthURLParam("prompt", "consent"))
		p := b.get(u)
		if !p.isConsentPage() {
			t.Fatalf("prompt=consent: got %d %s, want the consent page", p.status, p.header.Get("Location"))
		}
		q := b.submit(p, url.Values{"decision": {"deny"}}).requireAuthError(t, thirdRedirect, e.issuer, "access_denied")
		if q.Get("state") != state {
			t.Errorf("state = %q, want %q", q.Get("state"), state)
		}
	})
	t.Run("fresh user denies", func(t *testing.T) {
		if _, err := e.reg.CreateUser(t.Context(), tenantAcme, registryUser("bob")); err != nil {
			t.Fatal(err)
		}
		fresh := e.newBrowser(t)
		u, _ := authURL(cfg)
		p := fresh.login(fresh.get(u), "bob", alicePassword)
		if !p.isConsentPage() {
			t.Fatalf("fresh user: expected the consent page, got %d", p.status)
		}
		fresh.submit(p, url.Values{"decision": {"deny"}}).requireAuthError(t, thirdRedirect, e.issuer, "access_denied")
	})
	t.Run("prompt=none without consent", func(t *testing.T) {
		wider := e.config(e.third, oidc.ScopeOpenID, "address")
		u, _ := authURL(wider, oauth2.SetAuthURLParam("prompt", "none"))
		b.get(u).requireAuthError(t, thirdRedirect, e.issuer, "consent_required")
	})
	t.Run("consent form needs the signed-in browser", func(t *testing.T) {
		u, _ := authURL(cfg, oauth2.SetAuthURLParam("prompt", "consent"))
		p := b.get(u)
		if !p.isConsentPage() {
			t.Fatalf("got %d", p.status)
		}
		// Another browser replaying the form (with its own CSRF cookie it
		// cannot have) is refused.
		other := e.newBrowser(t)
		f := p.form(t)
		form := cloneValues(f.hidden)
		form.Set("decision", "allow")
		other.post(e.issuer+"/consent", form).requireErrorPage(t, http.StatusForbidden)
	})
}

package op_test

// The GitHub connector against a local stand-in for GitHub's OAuth
// endpoints and its /user and /user/emails APIs (GitHub itself cannot be
// reached from here; this is the one stand-in the issue allows). The
// stand-in answers at a GitHub Enterprise style base URL ({host}/api/v3),
// so the configurable API base URL is exercised too. Herald's side is real.

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/herald-idp/herald/op/registry"
	"github.com/herald-idp/herald/storage"
)

// fakeGitHub is the stand-in. deny makes the authorize endpoint answer
// error=access_denied; emails is what /user/emails lists.
type fakeGitHub struct {
	ts *httptest.Server

	mu       sync.Mutex
	deny     bool
	emails   []map[string]any
	codes    map[string]string // code → PKCE challenge
	tokens   map[string]bool
	clientID string
	secret   string
}

// set changes what the stand-in answers, under its lock.
func (g *fakeGitHub) set(deny bool, emails []map[string]any) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.deny, g.emails = deny, emails
}

func newFakeGitHub(t *testing.T, clientID, secret string) *fakeGitHub {
	g := &fakeGitHub{codes: map[string]string{}, tokens: map[string]bool{}, clientID: clientID, secret: secret}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login/oauth/authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		back, _ := url.Parse(q.Get("redirect_uri"))
		bq := url.Values{"state": {q.Get("state")}}
		g.mu.Lock()
		switch {
		case q.Get("client_id") != g.clientID || q.Get("code_challenge_method") != "S256":
			g.mu.Unlock()
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		case g.deny:
			bq.Set("error", "access_denied")
			bq.Set("error_description", "The user has denied your application access.")
		default:
			code := oauth2.GenerateVerifier()[:20]
			g.codes[code] = q.Get("code_challenge")
			bq.Set("code", code)
		}
		g.mu.Unlock()
		back.RawQuery = bq.Encode()
		http.Redirect(w, r, back.String(), http.StatusFound)
	})
	mux.HandleFunc("POST /login/oauth/access_token", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		g.mu.Lock()
		defer g.mu.Unlock()
		challenge, ok := g.codes[r.PostForm.Get("code")]
		delete(g.codes, r.PostForm.Get("code"))
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		w.Header().Set("Content-Type", "application/json")
		if !ok || r.PostForm.Get("client_id") != g.clientID || r.PostForm.Get("client_secret") != g.secret ||
			base64.RawURLEncoding.EncodeToString(sum[:]) != challenge {
			// GitHub answers 200 with an error body.
			_ = json.NewEncoder(w).Encode(map[string]string{"error": "bad_verification_code"})
			return
		}
		tok := oauth2.GenerateVerifier()
		g.tokens[tok] = true
		_ = json.NewEncoder(w).Encode(map[string]string{"access_token": tok, "token_type": "bearer", "scope": "read:user,user:email"})
	})
	authed := func(r *http.Request) bool {
		g.mu.Lock()
		defer g.mu.Unlock()
		return g.tokens[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
	}
	mux.HandleFunc("GET /api/v3/user", func(w http.ResponseWriter, r *http.Request) {
		if !authed(r) {
			http.Error(w, `{"message":"Bad credentials"}`, http.StatusUnauthorized)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"id": 583231, "login": "octocat", "name": "The Octocat", "email": nil})
	})
	mux.HandleFunc("GET /api/v3/user/emails", func(w http.ResponseWriter, r *http.Request) {
		if !authed(r) {
			http.Error(w, `{"message":"Bad credentials"}`, http.StatusUnauthorized)
			return
		}
		g.mu.Lock()
		defer g.mu.Unlock()
		_ = json.NewEncoder(w).Encode(g.emails)
	})
	g.ts = httptest.NewServer(mux)
	t.Cleanup(g.ts.Close)
	return g
}

// githubRoundTrip runs one authorization with idp_hint=gh: Herald sends
// the browser to the stand-in, whose answer the browser carries back to
// Herald's callback. It returns the page Herald shows (or its redirect).
func githubRoundTrip(t *testing.T, e *testEnv, b *browser, cfg *oauth2.Config, opts ...oauth2.AuthCodeOption) (*page, string) {
	t.Helper()
	u, state := authURL(cfg, append(opts, oauth2.SetAuthURLParam("idp_hint", "gh"))...)
	p := b.get(u)
	loc := p.location()
	if loc == nil || !strings.HasSuffix(loc.Path, "/login/oauth/authorize") {
		t.Fatalf("idp_hint=gh did not redirect to GitHub: %d %v\n%s", p.status, p.header, p.body)
	}
	// The stand-in is another origin: the browser follows by hand.
	res, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Get(loc.String())
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	back := res.Header.Get("Location")
	if !strings.HasPrefix(back, e.issuerOf(tenantAcme)+"/upstream/gh/callback") {
		t.Fatalf("GitHub sent the browser to %q (%d)", back, res.StatusCode)
	}
	return b.get(back), state
}

func TestE2EGitHubConnector(t *testing.T) {
	e := newTestServer(t)
	gh := newFakeGitHub(t, "Iv1.herald", "gh-client-secret")
	if _, err := e.reg.CreateConnector(t.Context(), tenantAcme, registry.ConnectorSpec{
		ID: "gh", Type: storage.ConnectorGitHub, DisplayName: "GitHub", Issuer: gh.ts.URL + "/api/v3",
		ClientID: "Iv1.herald", ClientSecret: "gh-client-secret", LinkByEmail: true,
	}); err != nil {
		t.Fatal(err)
	}
	cfg := e.config(e.web, oidc.ScopeOpenID, "email")

	// 1. Denied authorization at GitHub: access_denied, recorded.
	gh.set(true, nil)
	p, state := githubRoundTrip(t, e, e.newBrowser(t), cfg, newPKCE().challenge())
	if p.status != http.StatusForbidden {
		t.Fatalf("denied at GitHub: %d\n%s", p.status, p.body)
	}
	if q := returnLink(t, p); q.Get("error") != "access_denied" || q.Get("state") != state {
		t.Fatalf("return link %v", q)
	}
	// 2. The primary e-mail is alice's, but GitHub has not verified it: no
	// link to alice (and no JIT), a page saying why.
	gh.set(false, []map[string]any{{"email": "alice@example.com", "primary": true, "verified": false}})
	p, _ = githubRoundTrip(t, e, e.newBrowser(t), cfg, newPKCE().challenge())
	if p.status != http.StatusForbidden || !strings.Contains(p.body, "not verified") {
		t.Fatalf("unverified e-mail: %d\n%s", p.status, p.body)
	}
	if q := returnLink(t, p); q.Get("error") != "access_denied" {
		t.Fatalf("return link %v", q)
	}
	if _, err := e.store.Connectors().UserLink(t.Context(), tenantAcme, "gh", "583231"); err == nil {
		t.Fatal("an unverified e-mail was linked")
	}

	// 3. Verified: linked to alice (link by e-mail), signed in as her.
	gh.set(false, []map[string]any{
		{"email": "octo@other.example", "primary": false, "verified": true},
		{"email": "alice@example.com", "primary": true, "verified": true},
	})
	v := newPKCE()
	b := e.newBrowser(t)
	p, state = githubRoundTrip(t, e, b, cfg, v.challenge())
	q := p.requireRedirectTo(t, cfg.RedirectURL)
	if q.Get("state") != state || q.Get("code") == "" {
		t.Fatalf("authorization response %v", q)
	}
	tok, err := cfg.Exchange(e.ctx(t), q.Get("code"), v.verify())
	if err != nil {
		t.Fatal(err)
	}
	provider, _ := e.provider(t)
	idt, err := provider.Verifier(&oidc.Config{ClientID: cfg.ClientID}).Verify(e.ctx(t), tok.Extra("id_token").(string))
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		AMR []string `json:"amr"`
		IDP string   `json:"idp"`
	}
	_ = idt.Claims(&claims)
	if idt.Subject != e.alice.ID || claims.IDP != "gh" || !slices.Equal(claims.AMR, []string{"fed"}) {
		t.Fatalf("ID token sub %q amr %v idp %q, want alice via gh", idt.Subject, claims.AMR, claims.IDP)
	}
	link, err := e.store.Connectors().UserLink(t.Context(), tenantAcme, "gh", "583231")
	if err != nil || link.UserID != e.alice.ID {
		t.Fatalf("link %+v, %v", link, err)
	}

	// 4. Once linked, the link decides, whatever the e-mail says now.
	gh.set(false, nil)
	v = newPKCE()
	p, _ = githubRoundTrip(t, e, e.newBrowser(t), cfg, v.challenge())
	if q := p.requireRedirectTo(t, cfg.RedirectURL); q.Get("code") == "" {
		t.Fatalf("linked sign-in: %v", q)
	}

	events, err := e.store.AuthEvents().ListAuthEvents(t.Context(), tenantAcme,
		storage.AuthEventFilter{Event: storage.EventLoginFailed, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var reasons []string
	for _, ev := range events {
		reasons = append(reasons, ev.Reason)
	}
	for _, want := range []string{"upstream_access_denied:gh", "upstream_email_unverified:gh"} {
		if !slices.Contains(reasons, want) {
			t.Errorf("audit trail lacks %q: %v", want, reasons)
		}
	}
}

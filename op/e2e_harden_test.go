package op_test

// Issue 16: the smaller deviations a security review found, each tried the
// way an attacker would, over HTTP against a running Herald.

import (
	"context"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/herald-idp/herald/op/registry"
	"github.com/herald-idp/herald/storage"
)

// preflight sends a CORS preflight for path from origin.
func (e *testEnv) preflight(t *testing.T, rawURL, origin, method string) *jsonResponse {
	t.Helper()
	req, _ := http.NewRequest(http.MethodOptions, rawURL, nil)
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", method)
	return e.doJSON(t, req)
}

// TestE2ECORSOnlyOnAPIEndpoints: browser pages answer no CORS at all, not
// even a preflight from a registered origin (they are navigations, never
// fetched cross-origin; RFC 9700 §2.6), while the endpoints a single-page
// app calls do.
func TestE2ECORSOnlyOnAPIEndpoints(t *testing.T) {
	t.Parallel()
	e := newTestServer(t)
	for _, path := range []string{"/authorize", "/login", "/consent", "/end_session"} {
		t.Run("page "+path, func(t *testing.T) {
			for _, method := range []string{http.MethodGet, http.MethodPost} {
				r := e.preflight(t, e.issuer+path, spaOrigin, method)
				if got := r.header.Get("Access-Control-Allow-Origin"); got != "" {
					t.Errorf("preflight %s %s: Access-Control-Allow-Origin %q, want none", method, path, got)
				}
				if r.header.Get("Access-Control-Allow-Methods") != "" {
					t.Errorf("preflight %s %s: Access-Control-Allow-Methods present", method, path)
				}
				if r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != "GET, POST" {
					t.Errorf("preflight %s %s: %d Allow=%q, want 405 Allow: GET, POST", method, path, r.status, r.header.Get("Allow"))
				}
			}
		})
	}
	t.Run("unknown path under the tenant", func(t *testing.T) {
		r := e.preflight(t, e.issuer+"/nope", spaOrigin, http.MethodGet)
		if got := r.header.Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("preflight of an unknown path: Access-Control-Allow-Origin %q", got)
		}
	})
	for _, tc := range []struct{ path, method string }{
		{"/token", http.MethodPost}, {"/userinfo", http.MethodGet}, {"/revoke", http.MethodPost},
		{"/introspect", http.MethodPost}, {"/jwks", http.MethodGet}, {"/.well-known/openid-configuration", http.MethodGet},
	} {
		t.Run("api "+tc.path, func(t *testing.T) {
			r := e.preflight(t, e.issuer+tc.path, spaOrigin, tc.method)
			if r.status/100 != 2 || r.header.Get("Access-Control-Allow-Origin") != spaOrigin {
				t.Errorf("preflight %s: %d Access-Control-Allow-Origin %q, want 2xx %q", tc.path, r.status, r.header.Get("Access-Control-Allow-Origin"), spaOrigin)
			}
			r = e.preflight(t, e.issuer+tc.path, "https://evil.example", tc.method)
			if got := r.header.Get("Access-Control-Allow-Origin"); got != "" {
				t.Errorf("preflight %s from an unregistered origin: Access-Control-Allow-Origin %q", tc.path, got)
			}
		})
	}
}

// TestE2ERepeatedParameters: RFC 6749 §3.1 — request parameters must not be
// included more than once; the first-wins reading of a duplicate is
// refused with invalid_request naming the parameter. Client credentials
// must not disagree: a body client_id other than the Basic one is
// invalid_client (RFC 6749 §2.3, §5.2).
func TestE2ERepeatedParameters(t *testing.T) {
	t.Parallel()
	e := newTestServer(t)
	tok := e.tokens(t, e.newBrowser(t), e.web, oidc.ScopeOpenID)
	post := func(path, query string, c *client, body url.Values) *jsonResponse {
		t.Helper()
		u := e.issuer + path
		if query != "" {
			u += "?" + query
		}
		return e.postForm(t, u, c, body)
	}
	for _, tc := range []struct {
		name, path, query string
		body              url.Values
		param             string
	}{
		{"token grant_type twice", "/token", "", url.Values{"grant_type": {"client_credentials", "client_credentials"}}, "grant_type"},
		{"token grant_type in query and body", "/token", "grant_type=client_credentials", url.Values{"grant_type": {"client_credentials"}}, "grant_type"},
		{"token scope twice", "/token", "", url.Values{"grant_type": {"client_credentials"}, "scope": {"openid", "profile"}}, "scope"},
		{"revoke token twice", "/revoke", "", url.Values{"token": {tok.AccessToken, "x"}}, "token"},
		{"introspect token twice", "/introspect", "", url.Values{"token": {"x", tok.AccessToken}}, "token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := post(tc.path, tc.query, &e.web, tc.body)
			r.requireError(t, http.StatusBadRequest, "invalid_request")
			if !strings.Contains(r.str("error_description"), tc.param) {
				t.Errorf("error_description %q does not name %s", r.str("error_description"), tc.param)
			}
		})
	}
	// The access token is still valid: the refused revocation did nothing.
	e.requireActive(t, tok.AccessToken, true)

	for _, path := range []string{"/token", "/revoke", "/introspect"} {
		t.Run(path+" Basic and another client_id in the body", func(t *testing.T) {
			body := url.Values{"client_id": {e.spa.id}, "grant_type": {"client_credentials"}, "token": {tok.AccessToken}}
			r := post(path, "", &e.web, body)
			r.requireError(t, http.StatusUnauthorized, "invalid_client")
			if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Basic") {
				t.Errorf("WWW-Authenticate %q, want a Basic challenge", r.header.Get("WWW-Authenticate"))
			}
		})
	}
	t.Run("Basic and a body client_secret are two methods", func(t *testing.T) {
		r := post("/token", "", &e.web, url.Values{"client_secret": {e.web.secret}, "grant_type": {"client_credentials"}})
		r.requireError(t, http.StatusBadRequest, "invalid_request")
	})
	t.Run("Basic and the same client_id in the body is fine", func(t *testing.T) {
		post("/token", "", &e.web, url.Values{"client_id": {e.web.id}, "grant_type": {"client_credentials"}}).requireStatus(t, http.StatusOK)
	})
	e.requireActive(t, tok.AccessToken, true)

	t.Run("authorize", func(t *testing.T) {
		cfg := e.config(e.web, oidc.ScopeOpenID)
		u, _ := authURL(cfg)
		for _, extra := range []url.Values{
			{"request_uri": {"https://a.example/r", "https://a.example/r"}},
			{"request": {"x", "y"}},
		} {
			p := e.newBrowser(t).get(u + "&" + extra.Encode())
			p.requireErrorPage(t, http.StatusBadRequest)
		}
		// A parameter in both the query and the POST body is repeated too.
		p := e.newBrowser(t).post(u, url.Values{"client_id": {e.web.id}})
		p.requireErrorPage(t, http.StatusBadRequest)
		if !strings.Contains(p.body, "client_id") {
			t.Errorf("error page does not name client_id:\n%s", truncate(p.body))
		}
	})
}

// TestE2EIDTokenHintOtherUser: OIDC Core §3.1.2.1 — when the hint names one
// user and another is (or signs in), no code is issued for the other user:
// prompt=none answers login_required, otherwise the login page asks for the
// hinted user, and signing in as someone else ends in login_required.
func TestE2EIDTokenHintOtherUser(t *testing.T) {
	t.Parallel()
	e := newTestServer(t)
	if _, err := e.reg.CreateUser(t.Context(), tenantAcme, registryUser("bob")); err != nil {
		t.Fatal(err)
	}
	ctx := e.ctx(t)
	provider, err := oidc.NewProvider(ctx, e.issuer)
	if err != nil {
		t.Fatal(err)
	}
	verifier := provider.Verifier(&oidc.Config{ClientID: e.web.id})
	cfg := e.config(e.web, oidc.ScopeOpenID)
	aliceTok := e.tokens(t, e.newBrowser(t), e.web, oidc.ScopeOpenID)
	aliceHint, _ := aliceTok.Extra("id_token").(string)
	if aliceHint == "" {
		t.Fatal("no ID token for alice")
	}
	hint := oauth2.SetAuthURLParam("id_token_hint", aliceHint)

	// bobBrowser is a browser with bob signed in.
	bobBrowser := func(t *testing.T) *browser {
		b := e.newBrowser(t)
		u, _ := authURL(cfg)
		b.login(b.get(u), "bob", alicePassword).requireRedirectTo(t, webRedirect)
		return b
	}

	t.Run("alice's session answers alice's hint without a login", func(t *testing.T) {
		b := e.newBrowser(t)
		u, _ := authURL(cfg)
		b.login(b.get(u), "alice", alicePassword).requireRedirectTo(t, webRedirect)
		u, _ = authURL(cfg, hint, oauth2PromptNone())
		if q := b.get(u).requireRedirectTo(t, webRedirect); q.Get("code") == "" {
			t.Fatalf("SSO for the hinted user: %v", q)
		}
	})
	t.Run("prompt=none with bob's session", func(t *testing.T) {
		u, _ := authURL(cfg, hint, oauth2PromptNone())
		bobBrowser(t).get(u).requireAuthError(t, webRedirect, e.issuer, "login_required")
	})
	for _, tc := range []struct {
		name    string
		browser func(t *testing.T) *browser
	}{
		{"bob's session", bobBrowser},
		{"no session", e.newBrowser},
	} {
		t.Run(tc.name+", bob signs in", func(t *testing.T) {
			b := tc.browser(t)
			u, _ := authURL(cfg, hint)
			p := b.get(u)
			if !p.isLoginPage() {
				t.Fatalf("hint for alice: got %d %s, want the login page", p.status, p.header.Get("Location"))
			}
			b.login(p, "bob", alicePassword).requireAuthError(t, webRedirect, e.issuer, "login_required")
			// Bob's sign-in started no session: a request without a hint
			// still finds the browser as it was.
			u, _ = authURL(cfg)
			if p := b.get(u); p.isLoginPage() != (tc.name == "no session") {
				t.Errorf("after the refused sign-in: login page = %v", p.isLoginPage())
			}
		})
		t.Run(tc.name+", alice signs in", func(t *testing.T) {
			b := tc.browser(t)
			v := newPKCE()
			u, _ := authURL(cfg, hint, v.challenge())
			q := b.login(b.get(u), "alice", alicePassword).requireRedirectTo(t, webRedirect)
			if q.Get("code") == "" {
				t.Fatalf("alice signed in for alice's hint: %v", q)
			}
			tok, err := cfg.Exchange(ctx, q.Get("code"), v.verify())
			if err != nil {
				t.Fatal(err)
			}
			idt, err := verifier.Verify(ctx, tok.Extra("id_token").(string))
			if err != nil {
				t.Fatal(err)
			}
			if idt.Subject != e.alice.ID {
				t.Fatalf("ID token for %q, want alice (%q)", idt.Subject, e.alice.ID)
			}
		})
	}
}

// TestE2EHTTPSDeployment: with an https public URL every response carries
// Strict-Transport-Security, and a tenant at its own hostname (cookie path
// /) gets __Host- cookies; path tenants keep their names.
func TestE2EHTTPSDeployment(t *testing.T) {
	t.Parallel()
	e := newTestServer(t, withTLS())
	const wantHSTS = "max-age=31536000"
	for _, path := range []string{"/healthz", "/static/herald.css", "/t/acme/.well-known/openid-configuration", "/t/nope/jwks", "/nope"} {
		req, _ := http.NewRequest(http.MethodGet, e.ts.URL+path, nil)
		if got := e.doJSON(t, req).header.Get("Strict-Transport-Security"); got != wantHSTS {
			t.Errorf("GET %s: Strict-Transport-Security %q, want %q", path, got, wantHSTS)
		}
	}

	// Path tenant: cookies keep their names, Secure, at /t/acme/.
	b := e.newBrowser(t)
	u, _ := authURL(e.config(e.web, oidc.ScopeOpenID))
	login := b.get(u)
	if got := login.header.Get("Strict-Transport-Security"); got != wantHSTS {
		t.Errorf("login page: Strict-Transport-Security %q", got)
	}
	done := b.login(login, "alice", alicePassword)
	done.requireRedirectTo(t, webRedirect)
	for _, c := range append(login.resp.Cookies(), done.resp.Cookies()...) {
		if strings.HasPrefix(c.Name, "__Host-") || !c.Secure || c.Path != "/t/acme/" {
			t.Errorf("path tenant cookie %s: Secure=%v Path=%q; want its plain name, Secure, /t/acme/", c.Name, c.Secure, c.Path)
		}
	}

	// Hostname tenant: __Host- cookies (Secure, Path=/, no Domain).
	const host = "login.example.com" // covered by httptest's certificate
	e.updateTenant(t, tenantAcme, func(tn *storage.Tenant) { tn.Hostnames = []string{host} })
	_, port, _ := net.SplitHostPort(e.ts.Listener.Addr().String())
	issuer := "https://" + host + ":" + port
	tr := e.ts.Client().Transport.(*http.Transport).Clone()
	addr := e.ts.Listener.Addr().String()
	tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", addr)
	}
	jar, _ := cookiejar.New(nil)
	hb := &browser{t: t, client: &http.Client{Jar: jar, Transport: tr, Timeout: 30 * time.Second,
		CheckRedirect: func(req *http.Request, _ []*http.Request) error {
			if req.URL.Hostname() != host {
				return http.ErrUseLastResponse
			}
			return nil
		}}}
	cfg := oauthConfig(issuer, e.web, oidc.ScopeOpenID)
	u, _ = authURL(cfg)
	login = hb.get(u)
	if got := login.header.Get("Strict-Transport-Security"); got != wantHSTS {
		t.Errorf("hostname tenant: Strict-Transport-Security %q", got)
	}
	done = hb.login(login, "alice", alicePassword)
	q := done.requireRedirectTo(t, webRedirect)
	requireAll(t, "hostname tenant sign-in", field("code present", q.Get("code") != "", true), field("iss", q.Get("iss"), issuer))
	names := map[string]bool{}
	for _, c := range append(login.resp.Cookies(), done.resp.Cookies()...) {
		names[c.Name] = true
		if !strings.HasPrefix(c.Name, "__Host-") || !c.Secure || c.Path != "/" || c.Domain != "" {
			t.Errorf("hostname tenant cookie %s: Secure=%v Path=%q Domain=%q; want __Host-, Secure, /, no Domain", c.Name, c.Secure, c.Path, c.Domain)
		}
	}
	if !names["__Host-herald_session"] || !names["__Host-herald_csrf"] {
		t.Errorf("hostname tenant cookies %v, want __Host-herald_session and __Host-herald_csrf", names)
	}
	// The session is read back under its prefixed name: SSO works.
	u, _ = authURL(cfg)
	if q := hb.get(u).requireRedirectTo(t, webRedirect); q.Get("code") == "" {
		t.Fatalf("SSO at the hostname tenant: %v", q)
	}
}

// TestE2EHTTPNoHSTS: a plain-http deployment (development) sends no
// Strict-Transport-Security, which browsers would ignore anyway.
func TestE2EHTTPNoHSTS(t *testing.T) {
	t.Parallel()
	e := newTestServer(t)
	req, _ := http.NewRequest(http.MethodGet, e.ts.URL+"/healthz", nil)
	if got := e.doJSON(t, req).header.Get("Strict-Transport-Security"); got != "" {
		t.Errorf("http deployment: Strict-Transport-Security %q", got)
	}
}

// TestE2EStaticServesFilesOnly: /static/ serves its files and never lists
// a directory, with or without a trailing slash, at Herald's host and at a
// tenant's hostname.
func TestE2EStaticServesFilesOnly(t *testing.T) {
	t.Parallel()
	e := newTestServer(t)
	get := func(rawURL string) *jsonResponse {
		req, _ := http.NewRequest(http.MethodGet, rawURL, nil)
		return e.doJSON(t, req)
	}
	if r := get(e.ts.URL + "/static/herald.css"); r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "text/css") {
		t.Fatalf("herald.css: %d %q", r.status, r.header.Get("Content-Type"))
	}
	for _, path := range []string{"/static/", "/static", "/static/.", "/static/./", "/static//", "/static/herald.css/",
		"/static/nope.css", "/static/../static/", "/static/index.html"} {
		r := get(e.ts.URL + path)
		if r.status != http.StatusNotFound || strings.Contains(r.body, "herald.css") {
			t.Errorf("GET %s: %d %s, want 404 without a listing", path, r.status, truncate(r.body))
		}
	}
}

// TestE2ELoopbackPort: a native client's loopback redirect may use any
// port (RFC 8252 §7.3), but only a real one: 1-65535.
func TestE2ELoopbackPort(t *testing.T) {
	t.Parallel()
	e := newTestServer(t)
	native := e.createClient(t, tenantAcme, registry.ClientSpec{
		ID: "rp-native", Native: true, FirstParty: true, RedirectURIs: []string{"http://127.0.0.1/cb"},
	})
	for _, tc := range []struct {
		redirect string
		ok       bool
	}{
		{"http://127.0.0.1:51234/cb", true},
		{"http://127.0.0.1:1/cb", true},
		{"http://127.0.0.1:65535/cb", true},
		{"http://127.0.0.1:0/cb", false},
		{"http://127.0.0.1:99999/cb", false},
		{"http://127.0.0.1:65536/cb", false},
		{"http://127.0.0.1:/cb", false},
		{"http://127.0.0.1:051234/cb", false},
	} {
		t.Run(tc.redirect, func(t *testing.T) {
			c := native
			c.redirect = tc.redirect
			v := newPKCE()
			u, _ := authURL(e.config(c, oidc.ScopeOpenID), v.challenge())
			p := e.newBrowser(t).get(u)
			if tc.ok {
				if !p.isLoginPage() {
					t.Fatalf("got %d, want the login page", p.status)
				}
				return
			}
			p.requireErrorPage(t, http.StatusBadRequest)
		})
	}
}

// TestE2EUnknownTenantBecomesKnown: an unknown tenant name is remembered
// (tenantcache_test.go counts the lookups), and creating the tenant makes
// it resolvable at once on the replica that created it.
func TestE2EUnknownTenantBecomesKnown(t *testing.T) {
	t.Parallel()
	e := newTestServer(t)
	discovery := func() int {
		req, _ := http.NewRequest(http.MethodGet, e.issuerOf("later")+"/.well-known/openid-configuration", nil)
		return e.doJSON(t, req).status
	}
	for range 3 {
		if got := discovery(); got != http.StatusNotFound {
			t.Fatalf("unknown tenant: %d, want 404", got)
		}
	}
	if _, err := e.reg.CreateTenant(context.Background(), registry.TenantSpec{Name: "later"}); err != nil {
		t.Fatal(err)
	}
	if got := discovery(); got != http.StatusOK {
		t.Fatalf("right after creating the tenant: %d, want 200", got)
	}
}

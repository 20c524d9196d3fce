package op_test

// Error pages wherever a person can land, and tenant branding, over HTTP
// against a real server (issue 13). A browser (Accept: text/html first)
// gets a page naming what was refused, with the request ID; an API client
// keeps the JSON it always got.

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/herald-idp/herald/op/registry"
	"github.com/herald-idp/herald/storage"
)

// browserAccept is what Chromium sends when it navigates.
const browserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"

// getWithAccept fetches path from the test server (or, with host set, as
// that host) with the given Accept header.
func (e *testEnv) getWithAccept(t *testing.T, path, accept, host string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.ts.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if host != "" {
		req.Host = host
	}
	c := &http.Client{Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

// TestE2EErrorPagesForBrowsers: every error a person can land on is an
// HTML page with the request ID; the value refused is named, escaped. The
// same URL without an HTML preference answers as before (JSON, or the
// protocol's own error).
func TestE2EErrorPagesForBrowsers(t *testing.T) {
	t.Parallel()
	e := newTestServer(t)
	hostile := `<b>x</b>"'`
	authorize := func(v url.Values) string { return "/t/" + tenantAcme + "/authorize?" + v.Encode() }
	for _, tc := range []struct {
		name       string
		path, host string
		status     int
		want       []string // in the page
		notWant    []string
		// jsonStatus is the status for Accept: application/json; 0 means
		// the endpoint is a page for everyone.
		jsonStatus int
	}{
		{name: "unknown tenant", path: "/t/nope/authorize?client_id=x", status: http.StatusNotFound,
			want: []string{"Unknown sign-in service", "<dt>tenant</dt>", ">nope</code>"}, jsonStatus: http.StatusNotFound},
		{name: "unknown tenant, hostile name", path: "/t/" + url.PathEscape(hostile) + "/", status: http.StatusNotFound,
			want: []string{"Unknown sign-in service", "<dt>tenant</dt>"}, notWant: []string{hostile, "<b>"}, jsonStatus: http.StatusNotFound},
		{name: "disabled-looking case variant", path: "/t/ACME/.well-known/openid-configuration", status: http.StatusNotFound,
			want: []string{"Unknown sign-in service", ">ACME</code>"}, jsonStatus: http.StatusNotFound},
		{name: "unknown host", path: "/authorize", host: "nobody.example", status: http.StatusNotFound,
			want: []string{"Unknown sign-in service", "<dt>host</dt>", ">nobody.example</code>"}, jsonStatus: http.StatusNotFound},
		{name: "no such page under a tenant", path: "/t/" + tenantAcme + "/nope", status: http.StatusNotFound,
			want: []string{"Page not found", "Acme"}, jsonStatus: http.StatusNotFound},
		{name: "tenant root", path: "/t/" + tenantAcme + "/", status: http.StatusNotFound,
			want: []string{"Page not found"}, jsonStatus: http.StatusNotFound},
		{name: "no such page", path: "/nope", status: http.StatusNotFound,
			want: []string{"Page not found", "Herald"}, jsonStatus: http.StatusNotFound},
		{name: "authorize without parameters", path: authorize(url.Values{}), status: http.StatusBadRequest,
			want: []string{"client_id parameter is missing"}, notWant: []string{"Unknown application"}},
		{name: "unknown client", path: authorize(url.Values{"client_id": {"shop" + hostile}, "redirect_uri": {webRedirect}}),
			status: http.StatusBadRequest, want: []string{"Unknown application", "<dt>client_id</dt>", "shop&lt;b&gt;x&lt;/b&gt;"},
			notWant: []string{hostile}},
		{name: "wrong redirect_uri", path: authorize(url.Values{"client_id": {webClientID}, "redirect_uri": {"https://evil.example/cb?" + hostile}}),
			status: http.StatusBadRequest, want: []string{"Invalid redirect URI", "<dt>redirect_uri</dt>", "https://evil.example/cb?&lt;b&gt;"},
			notWant: []string{hostile}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := e.getWithAccept(t, tc.path, browserAccept, tc.host)
			if resp.StatusCode != tc.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Fatalf("Content-Type %q, want an HTML page: %s", ct, body)
			}
			if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
				t.Errorf("page without the page CSP: %q", csp)
			}
			id := resp.Header.Get("X-Request-Id")
			if id == "" || !strings.Contains(body, `<code class="request-id">`+id+`</code>`) {
				t.Errorf("page does not show the request ID %q:\n%s", id, body)
			}
			for _, want := range tc.want {
				if !strings.Contains(body, want) {
					t.Errorf("page lacks %q:\n%s", want, body)
				}
			}
			for _, bad := range tc.notWant {
				if strings.Contains(body, bad) {
					t.Errorf("page contains %q raw:\n%s", bad, body)
				}
			}
			if tc.jsonStatus == 0 {
				return
			}
			if vary := strings.Join(resp.Header.Values("Vary"), ","); !strings.Contains(vary, "Accept") {
				t.Errorf("Vary %q: the answer depends on Accept", vary)
			}
			for _, accept := range []string{"application/json", "*/*", ""} {
				resp, body := e.getWithAccept(t, tc.path, accept, tc.host)
				if resp.StatusCode != tc.jsonStatus || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") ||
					!strings.Contains(body, `"error":"not_found"`) {
					t.Errorf("Accept %q: %d %s %s, want %d and a JSON not_found", accept, resp.StatusCode,
						resp.Header.Get("Content-Type"), body, tc.jsonStatus)
				}
			}
		})
	}

	// The page for an unknown host is styled: the static files answer on
	// any host.
	if resp, _ := e.getWithAccept(t, "/static/herald.css", "text/css", "nobody.example"); resp.StatusCode != http.StatusOK {
		t.Errorf("herald.css at an unknown host: %d, want 200", resp.StatusCode)
	}
}

// TestE2EBrandingStylesheet: a tenant's accent colour reaches its pages
// through {issuer}/branding.css (the CSP forbids inline styles): the login
// page links the current version, the stylesheet is revalidated with its
// ETag, and a new colour is a new link. A tenant at its own hostname
// serves it at /branding.css.
func TestE2EBrandingStylesheet(t *testing.T) {
	t.Parallel()
	e := newTestServer(t)
	setAccent := func(c string) {
		t.Helper()
		if _, err := e.reg.UpdateTenant(e.ctx(t), tenantAcme, registry.TenantUpdate{
			Settings: &registry.SettingsUpdate{AccentColor: &c}}); err != nil {
			t.Fatalf("set accent %s: %v", c, err)
		}
	}
	loginPageLink := func() string {
		t.Helper()
		cfg := e.config(e.web, "openid")
		u, _ := authURL(cfg, newPKCE().challenge())
		p := e.newBrowser(t).get(u)
		_, rest, ok := strings.Cut(p.body, `<link rel="stylesheet" href="/t/`+tenantAcme+`/branding.css?v=`)
		if !ok {
			t.Fatalf("the login page does not link the tenant's stylesheet:\n%s", p.body)
		}
		v, _, _ := strings.Cut(rest, `"`)
		return "/t/" + tenantAcme + "/branding.css?v=" + v
	}

	setAccent("#0F766E")
	link := loginPageLink()
	resp, css := e.getWithAccept(t, link, "text/css", "")
	if resp.StatusCode != http.StatusOK || !strings.Contains(css, "--accent: #0f766e;") ||
		resp.Header.Get("Content-Type") != "text/css; charset=utf-8" {
		t.Fatalf("%s: %d %s\n%s", link, resp.StatusCode, resp.Header.Get("Content-Type"), css)
	}
	etag := resp.Header.Get("ETag")
	if !strings.HasPrefix(resp.Header.Get("Cache-Control"), "public, max-age=") {
		t.Errorf("Cache-Control %q", resp.Header.Get("Cache-Control"))
	}
	head, _ := http.NewRequest(http.MethodHead, e.ts.URL+link, nil)
	if r, err := e.ts.Client().Do(head); err != nil || r.StatusCode != http.StatusOK || r.Header.Get("ETag") != etag {
		t.Errorf("HEAD %s: %v %v, want 200 with the ETag", link, r, err)
	} else {
		r.Body.Close()
	}
	req, _ := http.NewRequest(http.MethodGet, e.ts.URL+link, nil)
	req.Header.Set("If-None-Match", etag)
	if r, err := e.ts.Client().Do(req); err != nil || r.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match %s: %v %v, want 304", etag, r, err)
	} else {
		r.Body.Close()
	}

	setAccent("#be123c")
	if next := loginPageLink(); next == link {
		t.Errorf("after a colour change the login page still links %s", link)
	}
	req, _ = http.NewRequest(http.MethodGet, e.ts.URL+link, nil)
	req.Header.Set("If-None-Match", etag)
	r, err := e.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != http.StatusOK || !strings.Contains(string(body), "--accent: #be123c;") {
		t.Errorf("the old ETag after a colour change: %d\n%s; want 200 with the new colour", r.StatusCode, body)
	}

	// At the tenant's own hostname.
	hostnames := []string{"login.acme.test"}
	if _, err := e.reg.UpdateTenant(e.ctx(t), tenantAcme, registry.TenantUpdate{Hostnames: &hostnames}); err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(e.ts.Listener.Addr().String())
	resp, css = e.getWithAccept(t, "/branding.css", "text/css", "login.acme.test:"+port)
	if resp.StatusCode != http.StatusOK || !strings.Contains(css, "--accent: #be123c;") {
		t.Errorf("/branding.css at the tenant's hostname: %d\n%s", resp.StatusCode, css)
	}
}

// brokenTenantStore fails every lookup of the tenant "broken" as an outage.
type brokenTenantStore struct{ storage.Store }

func (s brokenTenantStore) Tenants() storage.Tenants { return brokenTenants{s.Store.Tenants()} }

type brokenTenants struct{ storage.Tenants }

func (t brokenTenants) Tenant(ctx context.Context, name string) (*storage.Tenant, error) {
	if name == "broken" {
		return nil, fmt.Errorf("sqlite: %w: database is locked at /var/lib/secret.db", storage.ErrUnavailable)
	}
	return t.Tenants.Tenant(ctx, name)
}

// TestE2ETenantLookupOutagePage: when the tenant cannot be looked up, a
// browser gets a "try again" page (503) and an API client the JSON
// temporarily_unavailable; neither learns the cause.
func TestE2ETenantLookupOutagePage(t *testing.T) {
	t.Parallel()
	e := newTestServer(t, withStore(func(s storage.Store) storage.Store { return brokenTenantStore{s} }))
	resp, body := e.getWithAccept(t, "/t/broken/authorize", browserAccept, "")
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(body, "Please try again") || !strings.Contains(body, resp.Header.Get("X-Request-Id")) {
		t.Errorf("browser: %d %s, want a 503 page with the request ID:\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	resp, api := e.getWithAccept(t, "/t/broken/.well-known/openid-configuration", "application/json", "")
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(api, `"temporarily_unavailable"`) {
		t.Errorf("API: %d %s, want 503 temporarily_unavailable", resp.StatusCode, api)
	}
	for _, b := range []string{body, api} {
		if strings.Contains(b, "secret") || strings.Contains(b, "sqlite") {
			t.Errorf("response leaks the cause: %s", b)
		}
	}
}

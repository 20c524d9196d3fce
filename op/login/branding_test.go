package login

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/herald-idp/herald/storage"
)

// brandedProvider is failingProvider at a tenant with settings.
type brandedProvider struct {
	failingProvider
	settings storage.TenantSettings
}

func (p brandedProvider) Tenant(context.Context) Tenant {
	return Tenant{Tenant: &storage.Tenant{Name: "acme", DisplayName: "Acme", Settings: p.settings},
		Issuer: "https://id.example/t/acme", CookiePath: "/t/acme/"}
}

func brandedHandler(s storage.TenantSettings) *Handler {
	return New(Config{
		Provider: brandedProvider{failingProvider: failingProvider{fakeProvider: fakeProvider{scopes: []string{"openid"}},
			clientErr: &storage.NotFoundError{Record: storage.Record{Kind: storage.KindClient, Tenant: "acme"}}}, settings: s},
		Store:               failingStore{},
		AuthRequestLifetime: time.Minute,
	})
}

func TestWantsHTML(t *testing.T) {
	for _, tc := range []struct {
		accept string
		want   bool
	}{
		{"", false},
		{"*/*", false}, // curl, fetch()
		{"application/json", false},
		{"text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8", true}, // Chromium
		{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", true},                       // Firefox
		{"text/html", true},
		{"TEXT/HTML", true},
		{"text/html, */*", true},
		{"application/json, text/html", false},
		{"text/html, application/json", false},
		{"text/html;q=0.5, application/json", false},
		{"application/json;q=0.5, text/html", true},
		{"text/html;q=0", false},
		{"text/html;q=abc", false},
		{"text/html;q=0.9, application/*;q=0.95", false},
		{"text/*", false},
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		if tc.accept != "" {
			r.Header.Set("Accept", tc.accept)
		}
		if got := WantsHTML(r); got != tc.want {
			t.Errorf("Accept %q: WantsHTML = %v, want %v", tc.accept, got, tc.want)
		}
	}
}

// TestPageCSPAllowsOnlyTheLogoOrigin: img-src names the tenant's logo
// origin and nothing wider; a logo URL that would widen or break the
// policy is neither allowed nor shown.
func TestPageCSPAllowsOnlyTheLogoOrigin(t *testing.T) {
	for _, tc := range []struct {
		logo, wantImg string
		shown         bool
	}{
		{"", "img-src 'self' data:;", false},
		{"/brand/logo.svg", "img-src 'self' data:;", true},
		{"https://CDN.acme.test/a/logo.svg?v=2", "img-src 'self' data: https://cdn.acme.test;", true},
		{"https://cdn.acme.test:8443/logo.svg", "img-src 'self' data: https://cdn.acme.test:8443;", true},
		{"http://cdn.acme.test/logo.svg", "img-src 'self' data:;", false},
		{"//cdn.acme.test/logo.svg", "img-src 'self' data:;", false},
		{"javascript:alert(1)", "img-src 'self' data:;", false},
		{"https://cdn.acme.test;script-src/x", "img-src 'self' data:;", false},
		{"https://*.acme.test/x", "img-src 'self' data:;", false},
		{"https://u:p@cdn.acme.test/x", "img-src 'self' data:;", false},
	} {
		csp := pageCSPFor(tc.logo)
		if !strings.Contains(csp, tc.wantImg) {
			t.Errorf("logo %q: CSP %q, want %q", tc.logo, csp, tc.wantImg)
		}
		if strings.Contains(csp, "https:;") || strings.Count(csp, ";") != strings.Count(pageCSP, ";") {
			t.Errorf("logo %q: CSP %q is wider or has other directives than pageCSP", tc.logo, csp)
		}
		h := brandedHandler(storage.TenantSettings{LogoURL: tc.logo})
		if got := h.branding(context.Background()).LogoURL != ""; got != tc.shown {
			t.Errorf("logo %q: shown = %v, want %v", tc.logo, got, tc.shown)
		}
	}
}

// TestBrandingCSS: {issuer}/branding.css carries the accent, a strong
// ETag that answers If-None-Match with 304, and a long cache life only
// for the version the pages link.
func TestBrandingCSS(t *testing.T) {
	h := brandedHandler(storage.TenantSettings{AccentColor: "#0f766e"})
	link := h.branding(context.Background()).StylesheetURL
	base, version, ok := strings.Cut(link, "?v=")
	if !ok || base != "/t/acme/branding.css" {
		t.Fatalf("stylesheet link %q, want /t/acme/branding.css?v=…", link)
	}
	get := func(target string, hdr http.Header) *http.Response {
		r := httptest.NewRequest(http.MethodGet, target, nil)
		for k, v := range hdr {
			r.Header[k] = v
		}
		w := httptest.NewRecorder()
		h.handleBrandingCSS(w, r)
		return w.Result()
	}

	resp := get(link, nil)
	body, _ := io.ReadAll(resp.Body)
	etag := resp.Header.Get("ETag")
	for name, got := range map[string]string{
		"status":        resp.Status,
		"Content-Type":  resp.Header.Get("Content-Type"),
		"ETag":          etag,
		"Cache-Control": resp.Header.Get("Cache-Control"),
		"nosniff":       resp.Header.Get("X-Content-Type-Options"),
	} {
		want := map[string]string{"status": "200 OK", "Content-Type": "text/css; charset=utf-8", "ETag": `"` + version + `"`,
			"Cache-Control": brandingCacheVersioned, "nosniff": "nosniff"}[name]
		if got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if !strings.Contains(string(body), "--accent: #0f766e;") {
		t.Errorf("stylesheet lacks the accent:\n%s", body)
	}

	if resp := get(link, http.Header{"If-None-Match": {etag}}); resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match with the current ETag: %d, want 304", resp.StatusCode)
	}
	if resp := get(link, http.Header{"If-None-Match": {`"stale", ` + etag}}); resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match listing the current ETag: %d, want 304", resp.StatusCode)
	}
	if resp := get(link, http.Header{"If-None-Match": {`"0000000000000000"`}}); resp.StatusCode != http.StatusOK {
		t.Errorf("If-None-Match with another ETag: %d, want 200", resp.StatusCode)
	}
	for _, target := range []string{"/t/acme/branding.css", "/t/acme/branding.css?v=0000000000000000"} {
		if got := get(target, nil).Header.Get("Cache-Control"); got != brandingCacheOther {
			t.Errorf("%s: Cache-Control %q, want %q (not the version pages link)", target, got, brandingCacheOther)
		}
	}

	// A new colour is a new version, so cached copies of the old one are
	// never used by a new page.
	if other := brandedHandler(storage.TenantSettings{AccentColor: "#be123c"}).branding(context.Background()).StylesheetURL; other == link {
		t.Errorf("two colours share the link %s", link)
	}
	if none := brandedHandler(storage.TenantSettings{}).branding(context.Background()).StylesheetURL; none != "" {
		t.Errorf("a tenant without an accent links %q", none)
	}
}

// TestAuthorizeErrorPagesNameTheRefusedValue: before the client and its
// redirect URI are verified, /authorize answers with pages that say which
// parameter is missing or which value was refused, escaped, with the
// request ID.
func TestAuthorizeErrorPagesNameTheRefusedValue(t *testing.T) {
	known := authorizeHandler(nil)
	unknown := brandedHandler(storage.TenantSettings{})
	hostile := `<img src=x onerror=alert(1)>`
	for _, tc := range []struct {
		name       string
		h          *Handler
		query      url.Values
		wantStatus int
		want       []string
		notWant    []string
	}{
		{"no parameters", known, url.Values{}, http.StatusBadRequest,
			[]string{"Invalid request", "client_id parameter is missing"}, []string{"Unknown application"}},
		{"unknown client", unknown, url.Values{"client_id": {"shop-" + hostile}, "redirect_uri": {"https://rp.example/cb"}},
			http.StatusBadRequest, []string{"Unknown application", "<dt>client_id</dt>", "shop-&lt;img src=x onerror=alert(1)&gt;"}, []string{hostile}},
		{"no redirect_uri", known, url.Values{"client_id": {"web"}}, http.StatusBadRequest,
			[]string{"redirect_uri parameter is missing"}, nil},
		{"wrong redirect_uri", known, url.Values{"client_id": {"web"}, "redirect_uri": {"https://evil.example/cb?x=" + hostile}},
			http.StatusBadRequest, []string{"Invalid redirect URI", "<dt>redirect_uri</dt>", "https://evil.example/cb?x=&lt;img"}, []string{hostile}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			tc.h.handleAuthorize(w, httptest.NewRequest(http.MethodGet, "/t/acme/authorize?"+tc.query.Encode(), nil))
			resp := w.Result()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.wantStatus || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
				t.Errorf("status %d %s, want %d text/html", resp.StatusCode, resp.Header.Get("Content-Type"), tc.wantStatus)
			}
			if loc := resp.Header.Get("Location"); loc != "" {
				t.Errorf("redirected to %s before the redirect URI was verified", loc)
			}
			for _, want := range append(tc.want, "req-42") {
				if !strings.Contains(string(body), want) {
					t.Errorf("page lacks %q:\n%s", want, body)
				}
			}
			for _, bad := range tc.notWant {
				if strings.Contains(string(body), bad) {
					t.Errorf("page contains %q:\n%s", bad, body)
				}
			}
		})
	}
}

// authorizeHandler is a handler whose provider knows every client, each
// registered for https://rp.example/cb.
func authorizeHandler(clientErr error) *Handler {
	return New(Config{
		Provider:            failingProvider{fakeProvider: fakeProvider{scopes: []string{"openid"}}, clientErr: clientErr},
		Store:               failingStore{},
		AuthRequestLifetime: time.Minute,
	})
}

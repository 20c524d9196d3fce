package op_test

// The login form: no user enumeration (I3), CSRF, page and cookie security
// headers, and the password hasher's back-pressure under a login storm.

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

func TestE2ELoginFailure(t *testing.T) {
	t.Parallel()
	e := newTestServer(t)
	b := e.newBrowser(t)
	u, _ := authURL(e.config(e.web, oidc.ScopeOpenID))
	loginPage := b.get(u)

	wrongPassword := b.login(loginPage, "alice", "not alice's password at all")
	unknownUser := b.login(loginPage, "mallory", "not alice's password at all")
	for name, p := range map[string]*page{"wrong password": wrongPassword, "unknown user": unknownUser} {
		if !p.isLoginPage() || !strings.Contains(p.body, msgInvalidCreds) {
			t.Errorf("%s: got %d without %q:\n%s", name, p.status, msgInvalidCreds, truncate(p.body))
		}
	}
	if wrongPassword.status != unknownUser.status {
		t.Errorf("status: wrong password %d, unknown user %d", wrongPassword.status, unknownUser.status)
	}
	// Same form, same CSRF token: the pages differ only in the echoed username.
	if strings.ReplaceAll(unknownUser.body, "mallory", "alice") != wrongPassword.body {
		t.Errorf("the pages for a wrong password and an unknown user differ beyond the username")
	}
	if a, b := setCookieNames(wrongPassword), setCookieNames(unknownUser); a != b {
		t.Errorf("Set-Cookie differs: %q vs %q", a, b)
	}
	// The auth request survives failed attempts.
	b.login(unknownUser, "alice", alicePassword).requireRedirectTo(t, webRedirect)
}

func setCookieNames(p *page) string {
	var names []string
	for _, c := range p.resp.Cookies() {
		names = append(names, c.Name)
	}
	return strings.Join(names, ",")
}

func TestE2ELoginCSRF(t *testing.T) {
	t.Parallel()
	e := newTestServer(t)
	cfg := e.config(e.web, oidc.ScopeOpenID)
	b := e.newBrowser(t)
	u1, _ := authURL(cfg)
	u2, _ := authURL(cfg)
	first, second := b.get(u1).form(t), b.get(u2).form(t)
	if first.hidden.Get("auth_request_id") == second.hidden.Get("auth_request_id") {
		t.Fatal("two authorization requests share an auth_request_id")
	}
	creds := url.Values{"username": {"alice"}, "password": {alicePassword}}
	post := func(b *browser, fields url.Values) *page {
		form := cloneValues(creds)
		for k, v := range fields {
			form[k] = v
		}
		return b.post(e.issuer+"/login", form)
	}

	t.Run("missing token", func(t *testing.T) {
		post(b, url.Values{"auth_request_id": {first.hidden.Get("auth_request_id")}}).requireErrorPage(t, http.StatusForbidden)
	})
	t.Run("token of another request", func(t *testing.T) {
		post(b, url.Values{
			"auth_request_id": {second.hidden.Get("auth_request_id")}, "csrf_token": {first.hidden.Get("csrf_token")},
		}).requireErrorPage(t, http.StatusForbidden)
	})
	t.Run("token of another browser", func(t *testing.T) {
		other := e.newBrowser(t)
		other.get(u1) // has a CSRF cookie of its own
		post(other, url.Values{
			"auth_request_id": {first.hidden.Get("auth_request_id")}, "csrf_token": {first.hidden.Get("csrf_token")},
		}).requireErrorPage(t, http.StatusForbidden)
	})
	t.Run("cross-site form post", func(t *testing.T) {
		form := cloneValues(first.hidden)
		for k, v := range creds {
			form[k] = v
		}
		req, _ := http.NewRequest(http.MethodPost, e.issuer+"/login", nil)
		setFormBody(req, form.Encode())
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		req.Header.Set("Origin", "https://evil.example")
		p := b.do(req)
		if p.status != http.StatusForbidden {
			t.Fatalf("cross-site login POST: %d, want 403", p.status)
		}
	})
	t.Run("valid token", func(t *testing.T) {
		form := cloneValues(first.hidden)
		for k, v := range creds {
			form[k] = v
		}
		b.post(e.issuer+"/login", form).requireRedirectTo(t, webRedirect)
	})
}

func TestE2ESecurityHeaders(t *testing.T) {
	t.Parallel()
	e := newTestServer(t)
	b := e.newBrowser(t)
	u, _ := authURL(e.config(e.web, oidc.ScopeOpenID))
	login := b.get(u)
	if !login.isLoginPage() {
		t.Fatalf("no login page: %d", login.status)
	}
	h := login.header
	if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("Content-Security-Policy = %q, want frame-ancestors 'none'", csp)
	}
	for k, want := range map[string]string{"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"} {
		if got := h.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if h.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("login page sends CORS headers")
	}

	done := b.login(login, "alice", alicePassword)
	done.requireRedirectTo(t, webRedirect)
	cookies := map[string]*http.Cookie{}
	for _, c := range append(login.resp.Cookies(), done.resp.Cookies()...) {
		cookies[c.Name] = c
	}
	for _, name := range []string{"herald_session", "herald_csrf"} {
		c := cookies[name]
		switch {
		case c == nil:
			t.Errorf("cookie %s not set (have %v)", name, cookies)
		case !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/t/acme/":
			t.Errorf("cookie %s: HttpOnly=%v SameSite=%v Path=%q; want HttpOnly, Lax, /t/acme/", name, c.HttpOnly, c.SameSite, c.Path)
		}
	}

	t.Run("authorization endpoint sends no CORS headers", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		req.Header.Set("Origin", spaOrigin)
		p := e.newBrowser(t).do(req)
		if p.header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("authorize answered CORS for %s (A7)", spaOrigin)
		}
	})
	t.Run("token endpoint CORS only for registered origins", func(t *testing.T) {
		for origin, allowed := range map[string]bool{spaOrigin: true, "https://evil.example": false} {
			req, _ := http.NewRequest(http.MethodOptions, e.issuer+"/token", nil)
			req.Header.Set("Origin", origin)
			req.Header.Set("Access-Control-Request-Method", "POST")
			r := e.doJSON(t, req)
			if got := r.header.Get("Access-Control-Allow-Origin") == origin; got != allowed {
				t.Errorf("origin %s: allowed=%v, want %v", origin, got, allowed)
			}
		}
	})
}

// TestE2EHasherSaturation: a login storm beyond the hasher's slots gets 503
// (or, from the throttle, 429) with Retry-After, never a 500.
func TestE2EHasherSaturation(t *testing.T) {
	t.Parallel()
	e := newTestServer(t, withHasherLimits(1, time.Millisecond))
	b := e.newBrowser(t)
	u, _ := authURL(e.config(e.web, oidc.ScopeOpenID))
	p := b.get(u)
	f := p.form(t)
	form := cloneValues(f.hidden)
	form.Set("username", "alice")
	form.Set("password", "a wrong password, many times")

	const n = 10
	results := make([]*page, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			results[i] = b.post(e.issuer+"/login", form)
		})
	}
	close(start)
	wg.Wait()
	busy := 0
	for i, r := range results {
		switch r.status {
		case http.StatusServiceUnavailable, http.StatusTooManyRequests:
			busy++
			if r.header.Get("Retry-After") == "" {
				t.Errorf("request %d: 503 without Retry-After", i)
			}
		case http.StatusBadRequest: // a completed check: invalid credentials
		default:
			t.Errorf("request %d: status %d", i, r.status)
		}
	}
	if busy == 0 {
		t.Fatalf("no request was refused with 503 although %d shared one hashing slot", n)
	}
}

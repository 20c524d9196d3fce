package op_test

// Garbage, oversized and hostile input at every endpoint: never a 5xx,
// never Go internals in a body, never an unescaped reflection (checklist
// section (c), D4, D5, G3).

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
)

const scriptMarker = "<script>alert(1)</script>"

// junkRequest is one hostile request; path is relative to acme's issuer.
type junkRequest struct {
	name, method, path, query, body string
	header                          map[string]string
}

func junkRequests(e *testEnv) []junkRequest {
	huge := strings.Repeat("A", 10_000)
	reg := url.QueryEscape(webRedirect)
	auth := "client_id=" + e.web.id + "&redirect_uri=" + reg + "&response_type=code&scope=openid"
	noneJWT := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none"}`)) + "." +
		base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"x","aud":"rp-web","iss":"`+e.issuer+`"}`)) + "."
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(e.web.id)+":"+url.QueryEscape(e.web.secret)))
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	authed := map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Authorization": basic}
	script := url.QueryEscape(scriptMarker)
	deep := url.QueryEscape(strings.Repeat(`{"a":`, 500) + "1" + strings.Repeat("}", 500))
	return []junkRequest{
		// /authorize
		{name: "authorize empty", method: "GET", path: "/authorize"},
		{name: "authorize NUL client", method: "GET", path: "/authorize", query: "client_id=%00&redirect_uri=" + reg},
		{name: "authorize long client", method: "GET", path: "/authorize", query: "client_id=" + huge},
		{name: "authorize unicode client", method: "GET", path: "/authorize", query: "client_id=%E2%80%AE%F0%9F%98%80&redirect_uri=" + reg},
		{name: "authorize invalid UTF-8", method: "GET", path: "/authorize", query: auth + "&state=%ff%fe&nonce=%c3%28"},
		{name: "authorize script client", method: "GET", path: "/authorize", query: "client_id=" + script},
		{name: "authorize CRLF redirect", method: "GET", path: "/authorize", query: "client_id=" + e.web.id + "&redirect_uri=https://rp.example/cb%0d%0aSet-Cookie:x=1"},
		{name: "authorize javascript redirect", method: "GET", path: "/authorize", query: "client_id=" + e.web.id + "&redirect_uri=javascript:alert(1)"},
		{name: "authorize backslash redirect", method: "GET", path: "/authorize", query: "client_id=" + e.web.id + "&redirect_uri=https://rp.example%5C@evil.example/cb"},
		{name: "authorize two redirect_uri", method: "GET", path: "/authorize", query: auth + "&redirect_uri=https://evil.example/cb"},
		{name: "authorize query and body", method: "POST", path: "/authorize", query: "client_id=" + e.web.id, body: "client_id=other&redirect_uri=" + reg, header: form},
		{name: "authorize bad percent", method: "GET", path: "/authorize", query: "client_id=%zz&redirect_uri=%"},
		{name: "authorize max_age negative", method: "GET", path: "/authorize", query: auth + "&max_age=-1"},
		{name: "authorize max_age float", method: "GET", path: "/authorize", query: auth + "&max_age=1.5"},
		{name: "authorize max_age huge", method: "GET", path: "/authorize", query: auth + "&max_age=99999999999999999999999"},
		{name: "authorize max_age max", method: "GET", path: "/authorize", query: auth + "&max_age=9223372036854775807"},
		{name: "authorize challenge 129", method: "GET", path: "/authorize", query: auth + "&code_challenge_method=S256&code_challenge=" + strings.Repeat("a", 129)},
		{name: "authorize prompt junk", method: "GET", path: "/authorize", query: auth + "&prompt=" + script},
		{name: "authorize response_mode junk", method: "GET", path: "/authorize", query: auth + "&response_mode=form_post"},
		{name: "authorize hint garbage", method: "GET", path: "/authorize", query: auth + "&id_token_hint=a.b.c"},
		{name: "authorize hint alg none", method: "GET", path: "/authorize", query: auth + "&id_token_hint=" + noneJWT},
		{name: "authorize request object", method: "GET", path: "/authorize", query: auth + "&request=" + noneJWT},
		{name: "authorize request_uri", method: "GET", path: "/authorize", query: auth + "&request_uri=https://evil.example/r"},
		{name: "authorize huge scope", method: "GET", path: "/authorize", query: "client_id=" + e.web.id + "&redirect_uri=" + reg + "&response_type=code&scope=" + strings.Repeat("openid+", 300)},
		{name: "authorize unknown scope", method: "GET", path: "/authorize", query: auth + "+" + script},
		{name: "authorize scripted state", method: "GET", path: "/authorize", query: auth + "&state=" + script + "&nonce=" + script + "&login_hint=" + script},
		{name: "authorize claims nesting", method: "GET", path: "/authorize", query: auth + "&claims=" + deep},
		{name: "authorize huge body", method: "POST", path: "/authorize", body: auth + "&x=" + strings.Repeat("a", 100_000), header: form},
		// /token
		{name: "token empty", method: "POST", path: "/token", header: form},
		{name: "token unknown grant", method: "POST", path: "/token", body: "grant_type=" + script, header: authed},
		{name: "token password grant", method: "POST", path: "/token", body: "grant_type=password&username=alice&password=x", header: authed},
		{name: "token duplicated grant", method: "POST", path: "/token", body: "grant_type=authorization_code&grant_type=refresh_token&code=x&redirect_uri=" + reg, header: authed},
		{name: "token no code", method: "POST", path: "/token", body: "grant_type=authorization_code&redirect_uri=" + reg, header: authed},
		{name: "token short verifier", method: "POST", path: "/token", body: "grant_type=authorization_code&code=x&code_verifier=abc&redirect_uri=" + reg, header: authed},
		{name: "token bad verifier chars", method: "POST", path: "/token", body: "grant_type=authorization_code&code=x&code_verifier=" + strings.Repeat("%21", 50) + "&redirect_uri=" + reg, header: authed},
		{name: "token refresh garbage", method: "POST", path: "/token", body: "grant_type=refresh_token&refresh_token=" + script, header: authed},
		{name: "token bad basic base64", method: "POST", path: "/token", body: "grant_type=client_credentials", header: map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Authorization": "Basic !!!"}},
		{name: "token basic no colon", method: "POST", path: "/token", body: "grant_type=client_credentials", header: map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("rp-web"))}},
		{name: "token basic bad escape", method: "POST", path: "/token", body: "grant_type=client_credentials", header: map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("rp%zz:%zz"))}},
		{name: "token JSON body", method: "POST", path: "/token", body: `{"grant_type":"client_credentials"}`, header: map[string]string{"Content-Type": "application/json", "Authorization": basic}},
		{name: "token multipart", method: "POST", path: "/token", body: "--x\r\nContent-Disposition: form-data; name=\"grant_type\"\r\n\r\nclient_credentials\r\n--x--\r\n", header: map[string]string{"Content-Type": "multipart/form-data; boundary=x", "Authorization": basic}},
		{name: "token client assertion", method: "POST", path: "/token", body: "grant_type=client_credentials&client_id=rp-web&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=" + noneJWT, header: form},
		{name: "token jwt-bearer grant", method: "POST", path: "/token", body: "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=" + noneJWT, header: form},
		{name: "token token-exchange", method: "POST", path: "/token", body: "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange&subject_token=x&subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Aaccess_token", header: authed},
		{name: "token device_code", method: "POST", path: "/token", body: "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&device_code=x", header: authed},
		{name: "token GET", method: "GET", path: "/token", query: "grant_type=client_credentials"},
		// /userinfo
		{name: "userinfo no token", method: "GET", path: "/userinfo"},
		{name: "userinfo garbage", method: "GET", path: "/userinfo", header: map[string]string{"Authorization": "Bearer garbage"}},
		{name: "userinfo three parts", method: "GET", path: "/userinfo", header: map[string]string{"Authorization": "Bearer a.b.c"}},
		{name: "userinfo alg none", method: "GET", path: "/userinfo", header: map[string]string{"Authorization": "Bearer " + noneJWT}},
		{name: "userinfo five parts", method: "GET", path: "/userinfo", header: map[string]string{"Authorization": "Bearer a.b.c.d.e"}},
		{name: "userinfo basic", method: "GET", path: "/userinfo", header: map[string]string{"Authorization": basic}},
		{name: "userinfo POST body", method: "POST", path: "/userinfo", body: "access_token=" + script, header: form},
		// /introspect
		{name: "introspect no token", method: "POST", path: "/introspect", header: authed},
		{name: "introspect scripted token", method: "POST", path: "/introspect", body: "token=" + script, header: authed},
		{name: "introspect bad auth", method: "POST", path: "/introspect", body: "token=x", header: map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Authorization": "Basic !!!"}},
		{name: "introspect huge token", method: "POST", path: "/introspect", body: "token=" + huge, header: authed},
		// /revoke
		{name: "revoke no token", method: "POST", path: "/revoke", header: authed},
		{name: "revoke junk hint", method: "POST", path: "/revoke", body: "token=x&token_type_hint=" + script, header: authed},
		{name: "revoke three parts", method: "POST", path: "/revoke", body: "token=a.b.c&token_type_hint=access_token", header: authed},
		{name: "revoke unauthenticated", method: "POST", path: "/revoke", body: "token=x", header: form},
		// /end_session
		{name: "end_session hint garbage", method: "GET", path: "/end_session", query: "id_token_hint=" + script},
		{name: "end_session hint none", method: "GET", path: "/end_session", query: "id_token_hint=" + noneJWT + "&post_logout_redirect_uri=" + url.QueryEscape(webPostLogout)},
		{name: "end_session javascript", method: "GET", path: "/end_session", query: "client_id=" + e.web.id + "&post_logout_redirect_uri=javascript:alert(1)"},
		{name: "end_session unknown client", method: "GET", path: "/end_session", query: "client_id=" + script + "&post_logout_redirect_uri=" + url.QueryEscape(webPostLogout)},
		{name: "end_session state only", method: "GET", path: "/end_session", query: "state=" + script},
		{name: "end_session huge state", method: "GET", path: "/end_session", query: "state=" + huge},
		{name: "end_session POST junk", method: "POST", path: "/end_session", body: "decision=logout&csrf_token=" + script, header: form},
		// login and consent
		{name: "login no request", method: "GET", path: "/login"},
		{name: "login unknown request", method: "GET", path: "/login", query: "auth_request_id=" + script},
		{name: "login POST empty", method: "POST", path: "/login", header: form},
		{name: "login POST unknown", method: "POST", path: "/login", body: "auth_request_id=x&username=alice&password=x&csrf_token=x", header: form},
		{name: "consent unknown", method: "GET", path: "/consent", query: "auth_request_id=" + script},
		{name: "consent POST empty", method: "POST", path: "/consent", header: form},
		// discovery and keys
		{name: "discovery junk query", method: "GET", path: "/.well-known/openid-configuration", query: "x=" + script},
		{name: "jwks POST", method: "POST", path: "/jwks", header: form},
		{name: "unknown path", method: "GET", path: "/" + script},
		{name: "traversal", method: "GET", path: "/../../etc/passwd"},
	}
}

func TestE2EJunkInput(t *testing.T) {
	t.Parallel()
	e := newTestServer(t)
	for _, jr := range junkRequests(e) {
		t.Run(jr.name, func(t *testing.T) {
			target := e.issuer + jr.path
			if jr.query != "" {
				target += "?" + jr.query
			}
			req, err := http.NewRequest(jr.method, target, strings.NewReader(jr.body))
			if err != nil {
				t.Fatalf("build request: %v", err)
			}
			for k, v := range jr.header {
				req.Header.Set(k, v)
			}
			p := e.newBrowser(t).do(req)
			if p.status >= 500 {
				t.Errorf("status %d:\n%s", p.status, truncate(p.body))
			}
			requireNoGoErrors(t, jr.name, p.body)
			if strings.Contains(p.body, scriptMarker) {
				t.Errorf("input reflected unescaped:\n%s", truncate(p.body))
			}
			if loc := p.location(); loc != nil && loc.Host != e.ts.Listener.Addr().String() &&
				!strings.HasPrefix(loc.String(), webRedirect+"?") && !strings.HasPrefix(loc.String(), webPostLogout+"?") {
				t.Errorf("redirected to an unregistered URI %s", loc)
			}
		})
	}
}

func TestE2EOversizedInput(t *testing.T) {
	t.Parallel()
	e := newTestServer(t)
	b := e.newBrowser(t)

	t.Run("100 KB token request", func(t *testing.T) {
		r := e.token(t, e.web, url.Values{"grant_type": {"client_credentials"}, "pad": {strings.Repeat("x", 100<<10)}})
		if r.status < 400 || r.status >= 500 {
			t.Fatalf("status %d, want 4xx: %s", r.status, truncate(r.body))
		}
		requireNoGoErrors(t, "token", r.body)
	})
	t.Run("random code", func(t *testing.T) {
		e.exchangeRaw(t, e.web, randomString(32), webRedirect, "").requireError(t, http.StatusBadRequest, "invalid_grant")
	})
	t.Run("3 KB state", func(t *testing.T) {
		cfg := e.config(e.web, oidc.ScopeOpenID)
		b.get(cfg.AuthCodeURL(strings.Repeat("s", 3000))).requireErrorPage(t, http.StatusBadRequest)
	})
	t.Run("1 MB password", func(t *testing.T) {
		cfg := e.config(e.web, oidc.ScopeOpenID)
		u, _ := authURL(cfg)
		p := b.get(u)
		f := p.form(t)
		form := cloneValues(f.hidden)
		form.Set("username", "alice")
		form.Set("password", strings.Repeat("p", 1<<20))
		r := b.post(p.url.ResolveReference(mustParse(t, f.action)).String(), form)
		if r.status < 400 || r.status >= 500 {
			t.Fatalf("status %d, want 4xx", r.status)
		}
	})
}

// TestE2ETenantNotFound: an unknown tenant is a JSON 404 before any
// protocol work (G3).
func TestE2ETenantNotFound(t *testing.T) {
	t.Parallel()
	e := newTestServer(t)
	for _, path := range []string{
		"/t/nope/.well-known/openid-configuration", "/t/nope/authorize?client_id=rp-web", "/t/nope/jwks",
		"/t/ACME/.well-known/openid-configuration", "/t/acme-evil/.well-known/openid-configuration",
	} {
		t.Run(path, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, e.ts.URL+path, nil)
			r := e.doJSON(t, req)
			if r.status != http.StatusNotFound {
				t.Fatalf("status %d, want 404: %s", r.status, r.body)
			}
			if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") || r.json == nil {
				t.Fatalf("Content-Type %q body %s, want a JSON error", ct, r.body)
			}
		})
	}
}

// TestE2ENoStore: every response carrying tokens has Cache-Control:
// no-store and Pragma: no-cache (RFC 6749 §5.1, D4).
func TestE2ENoStore(t *testing.T) {
	t.Parallel()
	e := newTestServer(t)
	b := e.newBrowser(t)
	cfg := e.config(e.web, oidc.ScopeOpenID, oidc.ScopeOfflineAccess)
	v := newPKCE()
	code := e.signInCode(t, b, cfg, v.challenge())
	exchange := e.exchangeRaw(t, e.web, code, webRedirect, v.verifier)
	exchange.requireStatus(t, http.StatusOK)
	refresh := e.refresh(t, e.web, exchange.str("refresh_token"))
	refresh.requireStatus(t, http.StatusOK)
	cc := e.token(t, e.web, url.Values{"grant_type": {"client_credentials"}})
	cc.requireStatus(t, http.StatusOK)
	for name, r := range map[string]*jsonResponse{"code": exchange, "refresh": refresh, "client_credentials": cc} {
		if r.header.Get("Cache-Control") != "no-store" || r.header.Get("Pragma") != "no-cache" {
			t.Errorf("%s: Cache-Control %q, Pragma %q; want no-store, no-cache", name, r.header.Get("Cache-Control"), r.header.Get("Pragma"))
		}
	}
}

func mustParse(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

package op_test

// Negative protocol tests: codes (checklist C), PKCE (B), redirect URIs (A)
// and client authentication (D), each asserting the exact OAuth error.

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/herald-idp/herald/op"
	"github.com/herald-idp/herald/op/registry"
)

// TestE2ECodeReuse mirrors oidcc-codereuse (C3, C4).
func TestE2ECodeReuse(t *testing.T) {
	t.Parallel()
	e := newTestServer(t)
	b := e.newBrowser(t)
	cfg := e.config(e.web, oidc.ScopeOpenID, oidc.ScopeOfflineAccess)

	t.Run("second exchange revokes the first", func(t *testing.T) {
		v := newPKCE()
		code := e.signInCode(t, b, cfg, v.challenge())
		first := e.exchangeRaw(t, e.web, code, webRedirect, v.verifier)
		first.requireStatus(t, http.StatusOK)
		at, rt := first.str("access_token"), first.str("refresh_token")
		e.requireActive(t, at, true)

		e.exchangeRaw(t, e.web, code, webRedirect, v.verifier).requireError(t, http.StatusBadRequest, "invalid_grant")
		e.requireActive(t, at, false)
		e.refresh(t, e.web, rt).requireError(t, http.StatusBadRequest, "invalid_grant")
	})
	t.Run("concurrent redemptions: at most one wins, and its tokens die", func(t *testing.T) {
		// Issue 9: the replay must revoke the winner's tokens even when it
		// reaches the store first; then nobody wins, which is as good.
		v := newPKCE()
		code := e.signInCode(t, b, cfg, v.challenge())
		const n = 8
		results := make([]*jsonResponse, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { results[i] = e.exchangeRaw(t, e.web, code, webRedirect, v.verifier) })
		}
		wg.Wait()
		var winners []*jsonResponse
		for _, r := range results {
			switch r.status {
			case http.StatusOK:
				winners = append(winners, r)
			case http.StatusBadRequest:
			default:
				t.Errorf("unexpected status %d", r.status)
			}
		}
		if len(winners) > 1 {
			t.Fatalf("%d of %d concurrent redemptions succeeded, want at most 1", len(winners), n)
		}
		for _, w := range winners {
			e.requireActive(t, w.str("access_token"), false)
			e.refresh(t, e.web, w.str("refresh_token")).requireError(t, http.StatusBadRequest, "invalid_grant")
		}
	})
	t.Run("code bound to client", func(t *testing.T) {
		opaqueCfg := e.config(e.opaque, oidc.ScopeOpenID)
		code := e.signInCode(t, b, opaqueCfg)
		// The web client presents the opaque client's code (C5).
		e.exchangeRaw(t, e.web, code, opaqueRedirect, "").requireError(t, http.StatusBadRequest, "invalid_grant")
	})
}

// TestE2EPKCE covers B1-B4.
func TestE2EPKCE(t *testing.T) {
	t.Parallel()
	e := newTestServer(t)
	b := e.newBrowser(t)
	web := e.config(e.web, oidc.ScopeOpenID)
	spa := e.config(e.spa, oidc.ScopeOpenID)

	t.Run("wrong code_verifier", func(t *testing.T) {
		code := e.signInCode(t, b, web, newPKCE().challenge())
		e.exchangeRaw(t, e.web, code, webRedirect, newPKCE().verifier).requireError(t, http.StatusBadRequest, "invalid_grant")
	})
	t.Run("missing code_verifier", func(t *testing.T) {
		code := e.signInCode(t, b, web, newPKCE().challenge())
		e.exchangeRaw(t, e.web, code, webRedirect, "").requireError(t, http.StatusBadRequest, "invalid_grant")
	})
	t.Run("public client missing code_verifier", func(t *testing.T) {
		code := e.signInCode(t, b, spa, newPKCE().challenge())
		e.exchangeRaw(t, e.spa, code, spaRedirect, "").requireError(t, http.StatusBadRequest, "invalid_grant")
	})
	t.Run("downgrade: verifier without challenge", func(t *testing.T) {
		code := e.signInCode(t, b, web)
		e.exchangeRaw(t, e.web, code, webRedirect, newPKCE().verifier).requireError(t, http.StatusBadRequest, "invalid_grant")
	})
	t.Run("confidential client without PKCE works", func(t *testing.T) {
		code := e.signInCode(t, b, web)
		e.exchangeRaw(t, e.web, code, webRedirect, "").requireStatus(t, http.StatusOK)
	})

	challenge := oauth2.S256ChallengeFromVerifier(newPKCE().verifier)
	for _, tc := range []struct {
		name   string
		cfg    *oauth2.Config
		params map[string]string
	}{
		{"method plain", web, map[string]string{"code_challenge": challenge, "code_challenge_method": "plain"}},
		{"method PLAIN", web, map[string]string{"code_challenge": challenge, "code_challenge_method": "PLAIN"}},
		{"method missing", web, map[string]string{"code_challenge": challenge}},
		{"method without challenge", web, map[string]string{"code_challenge_method": "S256"}},
		{"challenge too short", web, map[string]string{"code_challenge": challenge[:42], "code_challenge_method": "S256"}},
		{"challenge not base64url", web, map[string]string{"code_challenge": strings.Repeat("+", 43), "code_challenge_method": "S256"}},
		{"public client without PKCE", spa, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var opts []oauth2.AuthCodeOption
			for k, v := range tc.params {
				opts = append(opts, oauth2.SetAuthURLParam(k, v))
			}
			u, state := authURL(tc.cfg, opts...)
			q := b.get(u).requireAuthError(t, tc.cfg.RedirectURL, e.issuer, "invalid_request")
			if q.Get("state") != state {
				t.Errorf("state = %q, want %q", q.Get("state"), state)
			}
		})
	}
}

// TestE2ERedirectURI mirrors oidcc-ensure-registered-redirect-uri and the
// redirect-uri-query modules (A1-A3, C5).
func TestE2ERedirectURI(t *testing.T) {
	t.Parallel()
	e := newTestServer(t)
	b := e.newBrowser(t)
	authorize := func(params url.Values) *page {
		return b.get(e.issuer + "/authorize?" + params.Encode())
	}
	base := func() url.Values {
		return url.Values{"client_id": {e.web.id}, "response_type": {"code"}, "scope": {"openid"}, "state": {"s"}}
	}

	for name, uri := range map[string]string{
		"added query":        webRedirect + "?x=1",
		"trailing slash":     webRedirect + "/",
		"upper-case host":    "https://RP.example/cb",
		"upper-case path":    "https://rp.example/CB",
		"%2F for /":          "https://rp.example%2Fcb",
		"%2F in path":        "https://rp.example/cb%2F",
		"encoded path":       "https://rp.example/%63b",
		"added path segment": webRedirect + "/more",
		"fragment":           webRedirect + "#f",
		"http scheme":        "http://rp.example/cb",
		"default port":       "https://rp.example:443/cb",
		"userinfo":           "https://rp.example@evil.example/cb",
		"other site":         "https://evil.example/cb",
		"missing":            "",
	} {
		t.Run(name, func(t *testing.T) {
			q := base()
			if uri != "" {
				q.Set("redirect_uri", uri)
			}
			authorize(q).requireErrorPage(t, http.StatusBadRequest)
		})
	}
	t.Run("unknown client_id", func(t *testing.T) {
		q := base()
		q.Set("client_id", "no-such-client")
		q.Set("redirect_uri", webRedirect)
		authorize(q).requireErrorPage(t, http.StatusBadRequest)
	})
	t.Run("another client's redirect_uri", func(t *testing.T) {
		q := base()
		q.Set("redirect_uri", thirdRedirect)
		authorize(q).requireErrorPage(t, http.StatusBadRequest)
	})
	t.Run("redirect checked before other errors", func(t *testing.T) {
		q := base()
		q.Set("redirect_uri", "https://evil.example/cb")
		q.Set("response_type", "token")
		q.Set("prompt", "bogus")
		authorize(q).requireErrorPage(t, http.StatusBadRequest)
	})
	t.Run("prompt=none with an unregistered redirect_uri", func(t *testing.T) {
		// A6: no silent redirect to an attacker's URI, even for an
		// unauthenticated prompt=none request.
		q := base()
		q.Set("redirect_uri", "https://evil.example/cb")
		q.Set("prompt", "none")
		e.newBrowser(t).get(e.issuer+"/authorize?"+q.Encode()).requireErrorPage(t, http.StatusBadRequest)
	})
	t.Run("unsupported response_type redirects after the redirect check", func(t *testing.T) {
		for _, rt := range []string{"token", "id_token token", "code id_token", ""} {
			q := base()
			q.Set("redirect_uri", webRedirect)
			q.Set("response_type", rt)
			authorize(q).requireAuthError(t, webRedirect, e.issuer, "unsupported_response_type")
		}
	})
	t.Run("unknown parameters are ignored", func(t *testing.T) {
		cfg := e.config(e.web, oidc.ScopeOpenID)
		e.signInCode(t, b, cfg, oauth2.SetAuthURLParam("x-unknown", "1"))
	})
	t.Run("POST authorization request", func(t *testing.T) {
		// Signed in by the previous subtest (or signs in here).
		q := base()
		q.Set("redirect_uri", webRedirect)
		p := b.post(e.issuer+"/authorize", q)
		if p.isLoginPage() {
			p = b.login(p, "alice", alicePassword)
		}
		if got := p.requireRedirectTo(t, webRedirect); got.Get("code") == "" {
			t.Fatalf("POST authorize: %v", got)
		}
	})
	t.Run("token endpoint redirect_uri mismatch", func(t *testing.T) {
		cfg := e.config(e.web, oidc.ScopeOpenID)
		code := e.signInCode(t, b, cfg)
		e.exchangeRaw(t, e.web, code, "https://rp.example/other", "").requireError(t, http.StatusBadRequest, "invalid_grant")
	})
}

// TestE2EClientAuth covers D1, D2 at the token endpoint.
func TestE2EClientAuth(t *testing.T) {
	t.Parallel()
	e := newTestServer(t)
	cc := url.Values{"grant_type": {"client_credentials"}}
	wrongSecret := e.web
	wrongSecret.secret = "not-the-secret"
	unknown := client{id: "no-such-client", secret: "x", method: e.web.method}

	for _, tc := range []struct {
		name string
		c    client
	}{
		{"wrong secret", wrongSecret},
		{"unknown client", unknown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.token(t, tc.c, cc)
			r.requireError(t, http.StatusUnauthorized, "invalid_client")
		})
	}
	t.Run("wrong secret and unknown client answer alike", func(t *testing.T) {
		a, b := e.token(t, wrongSecret, cc), e.token(t, unknown, cc)
		// got: the wrong secret's answer; want: the unknown client's.
		requireAll(t, "wrong secret vs unknown client", field("status", a.status, b.status), field("body", a.body, b.body))
	})
	t.Run("WWW-Authenticate on Basic failure", func(t *testing.T) {
		// RFC 6749 §5.2: a client that tried HTTP Basic gets 401 with a
		// WWW-Authenticate challenge.
		r := e.token(t, wrongSecret, cc)
		if !strings.HasPrefix(strings.ToLower(r.header.Get("WWW-Authenticate")), "basic") {
			t.Fatalf("WWW-Authenticate = %q, want a Basic challenge", r.header.Get("WWW-Authenticate"))
		}
	})
	t.Run("basic and post together", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, e.issuer+"/token", nil)
		req.SetBasicAuth(e.web.id, e.web.secret)
		setFormBody(req, url.Values{"grant_type": {"client_credentials"}, "client_id": {e.web.id}, "client_secret": {e.web.secret}}.Encode())
		r := e.doJSON(t, req)
		if r.status < 400 || r.status >= 500 || r.str("access_token") != "" {
			t.Fatalf("two authentication methods: %d %s, want a 4xx error", r.status, r.body)
		}
	})
	t.Run("either transport of the secret", func(t *testing.T) {
		// A secret is a secret, by Basic or in the body (checklist D2;
		// TestE2ESecretEitherTransport runs whole flows).
		post := e.createClient(t, tenantAcme, registry.ClientSpec{
			ID: "rp-post", AuthMethod: "client_secret_post", GrantTypes: []string{registry.GrantClientCredentials},
		})
		asBasic := post
		asBasic.method = "client_secret_basic"
		asPost := e.web
		asPost.method = "client_secret_post"
		for _, c := range []client{post, asBasic, e.web, asPost} {
			e.token(t, c, cc).requireStatus(t, http.StatusOK)
		}
	})
	t.Run("public client may not send a secret", func(t *testing.T) {
		withSecret := e.spa
		withSecret.method, withSecret.secret = "client_secret_post", "anything"
		r := e.token(t, withSecret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}})
		r.requireError(t, http.StatusUnauthorized, "invalid_client")
	})
}

// TestE2EExpiredCode: a code past its lifetime is invalid_grant (C2). The
// lifetime is shortened to 1 s so that the test sleeps only briefly.
func TestE2EExpiredCode(t *testing.T) {
	t.Parallel()
	e := newTestServer(t, withLifetimes(func(l *op.Lifetimes) { l.AuthCode = time.Second }))
	b := e.newBrowser(t)
	v := newPKCE()
	code := e.signInCode(t, b, e.config(e.web, oidc.ScopeOpenID), v.challenge())
	time.Sleep(1500 * time.Millisecond)
	e.exchangeRaw(t, e.web, code, webRedirect, v.verifier).requireError(t, http.StatusBadRequest, "invalid_grant")
}

// randomString is n random bytes, base64url-encoded.
func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

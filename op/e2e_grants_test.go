package op_test

// Grants as the unit of revocation (docs/tokens.md): one test per row of
// the revocation table, and the attacks of issue 9 that used to work.

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/oauth2"

	"github.com/herald-idp/herald/op"
	"github.com/herald-idp/herald/op/registry"
	"github.com/herald-idp/herald/storage"
)

// requireDead asserts that neither the access token nor the refresh token
// of tok works any more, wherever a resource server or the client would
// use them.
func (e *testEnv) requireDead(t *testing.T, c client, accessToken, refreshToken string) {
	t.Helper()
	if s := e.userinfoStatus(t, accessToken); s != http.StatusUnauthorized {
		t.Errorf("userinfo with a revoked access token: %d, want 401", s)
	}
	e.requireActive(t, accessToken, false)
	if refreshToken != "" {
		e.requireActive(t, refreshToken, false)
		e.refresh(t, c, refreshToken).requireError(t, http.StatusBadRequest, "invalid_grant")
	}
}

func (e *testEnv) requireAlive(t *testing.T, accessToken, refreshToken string) {
	t.Helper()
	if s := e.userinfoStatus(t, accessToken); s != http.StatusOK {
		t.Errorf("userinfo with a live access token: %d, want 200", s)
	}
	if refreshToken != "" {
		e.requireActive(t, refreshToken, true)
	}
}

func TestE2ERevocationTable(t *testing.T) {
	t.Parallel()
	e := newTestServer(t)
	b := e.newBrowser(t)
	revoke := func(t *testing.T, c client, form url.Values) {
		t.Helper()
		e.postForm(t, e.issuer+"/revoke", &c, form).requireStatus(t, http.StatusOK)
	}

	t.Run("revoke a refresh token with the access_token hint", func(t *testing.T) {
		tok := e.tokens(t, b, e.web, oidc.ScopeOpenID, oidc.ScopeOfflineAccess)
		revoke(t, e.web, url.Values{"token": {tok.RefreshToken}, "token_type_hint": {"access_token"}})
		e.requireDead(t, e.web, tok.AccessToken, tok.RefreshToken)
	})
	t.Run("revoke a JWT access token ends its refresh token", func(t *testing.T) {
		tok := e.tokens(t, b, e.web, oidc.ScopeOpenID, oidc.ScopeOfflineAccess)
		revoke(t, e.web, url.Values{"token": {tok.AccessToken}, "token_type_hint": {"refresh_token"}})
		e.requireDead(t, e.web, tok.AccessToken, tok.RefreshToken)
	})
	t.Run("code replay ends the JWT of the first redemption", func(t *testing.T) {
		cfg := e.config(e.web, oidc.ScopeOpenID, oidc.ScopeOfflineAccess)
		v := newPKCE()
		code := e.signInCode(t, b, cfg, v.challenge())
		first := e.exchangeRaw(t, e.web, code, e.web.redirect, v.verifier)
		first.requireStatus(t, http.StatusOK)
		e.exchangeRaw(t, e.web, code, e.web.redirect, v.verifier).requireError(t, http.StatusBadRequest, "invalid_grant")
		e.requireDead(t, e.web, first.str("access_token"), first.str("refresh_token"))
	})
	t.Run("password change ends offline_access", func(t *testing.T) {
		bob := e.user(t, "bob-pw")
		bb := e.newBrowser(t)
		tok := e.tokensAs(t, bb, "bob-pw", e.web, oidc.ScopeOpenID, oidc.ScopeOfflineAccess)
		e.requireAlive(t, tok.AccessToken, tok.RefreshToken)
		if err := e.reg.SetPassword(e.ctx(t), tenantAcme, bob.ID, "another long passphrase 77"); err != nil {
			t.Fatal(err)
		}
		e.requireDead(t, e.web, tok.AccessToken, tok.RefreshToken)
	})
	t.Run("disable ends offline_access, enabling does not revive", func(t *testing.T) {
		bob := e.user(t, "bob-disable")
		tok := e.tokensAs(t, e.newBrowser(t), "bob-disable", e.web, oidc.ScopeOpenID, oidc.ScopeOfflineAccess)
		yes, no := true, false
		if _, err := e.reg.UpdateUser(e.ctx(t), tenantAcme, bob.ID, registry.UserUpdate{Disabled: &yes}); err != nil {
			t.Fatal(err)
		}
		e.requireDead(t, e.web, tok.AccessToken, tok.RefreshToken)
		if _, err := e.reg.UpdateUser(e.ctx(t), tenantAcme, bob.ID, registry.UserUpdate{Disabled: &no}); err != nil {
			t.Fatal(err)
		}
		e.requireDead(t, e.web, tok.AccessToken, tok.RefreshToken)
	})
	t.Run("user delete", func(t *testing.T) {
		bob := e.user(t, "bob-delete")
		tok := e.tokensAs(t, e.newBrowser(t), "bob-delete", e.web, oidc.ScopeOpenID, oidc.ScopeOfflineAccess)
		if err := e.reg.DeleteUser(e.ctx(t), tenantAcme, bob.ID); err != nil {
			t.Fatal(err)
		}
		e.requireDead(t, e.web, tok.AccessToken, tok.RefreshToken)
	})
	t.Run("client delete; the ID registered again inherits nothing", func(t *testing.T) {
		spec := registry.ClientSpec{ID: "rp-doomed", FirstParty: true, RedirectURIs: []string{"https://doomed.example/cb"},
			GrantTypes: []string{registry.GrantAuthorizationCode, registry.GrantRefreshToken, registry.GrantClientCredentials}}
		c := e.createClient(t, tenantAcme, spec)
		tok := e.tokens(t, b, c, oidc.ScopeOpenID, oidc.ScopeOfflineAccess)
		cc := e.token(t, c, url.Values{"grant_type": {"client_credentials"}})
		cc.requireStatus(t, http.StatusOK)
		e.requireActive(t, cc.str("access_token"), true)
		if err := e.reg.DeleteClient(e.ctx(t), tenantAcme, c.id); err != nil {
			t.Fatal(err)
		}
		again := e.createClient(t, tenantAcme, spec)
		e.requireDead(t, again, tok.AccessToken, tok.RefreshToken)
		e.requireActive(t, cc.str("access_token"), false)
	})
	t.Run("logout ends session-bound grants, not offline_access", func(t *testing.T) {
		bl := e.newBrowser(t)
		online := e.tokens(t, bl, e.web, oidc.ScopeOpenID)
		offline := e.tokens(t, bl, e.web, oidc.ScopeOpenID, oidc.ScopeOfflineAccess)
		spa := e.tokens(t, bl, e.spa, oidc.ScopeOpenID) // public: session-bound refresh
		if spa.RefreshToken == "" {
			t.Fatal("a public client registered for refresh_token got no session-bound refresh token")
		}
		e.requireAlive(t, online.AccessToken, "")
		p := bl.get(e.issuer + "/end_session?" + url.Values{
			"id_token_hint": {online.Extra("id_token").(string)}, "post_logout_redirect_uri": {webPostLogout}}.Encode())
		if p.status != http.StatusSeeOther {
			t.Fatalf("logout: %d", p.status)
		}
		e.requireDead(t, e.web, online.AccessToken, "")
		e.requireDead(t, e.spa, spa.AccessToken, spa.RefreshToken)
		e.requireAlive(t, offline.AccessToken, offline.RefreshToken)
	})
	t.Run("revoke a client_credentials token; the next one works", func(t *testing.T) {
		first := e.token(t, e.web, url.Values{"grant_type": {"client_credentials"}})
		first.requireStatus(t, http.StatusOK)
		revoke(t, e.web, url.Values{"token": {first.str("access_token")}})
		e.requireActive(t, first.str("access_token"), false)
		next := e.token(t, e.web, url.Values{"grant_type": {"client_credentials"}})
		next.requireStatus(t, http.StatusOK)
		e.requireActive(t, next.str("access_token"), true)
	})
}

// user creates a user of acme with alice's password.
func (e *testEnv) user(t *testing.T, username string) *storage.User {
	t.Helper()
	u, err := e.reg.CreateUser(e.ctx(t), tenantAcme, registry.UserSpec{Username: username, Password: alicePassword})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// tokensAs runs a code flow for c in a fresh session of username.
func (e *testEnv) tokensAs(t *testing.T, b *browser, username string, c client, scopes ...string) *tokenSet {
	t.Helper()
	cfg := e.config(c, scopes...)
	v := newPKCE()
	u, _ := authURL(cfg, v.challenge())
	q := b.login(b.get(u), username, alicePassword).requireRedirectTo(t, cfg.RedirectURL)
	r := e.exchangeRaw(t, c, q.Get("code"), cfg.RedirectURL, v.verifier)
	r.requireStatus(t, http.StatusOK)
	return &tokenSet{AccessToken: r.str("access_token"), RefreshToken: r.str("refresh_token")}
}

type tokenSet struct{ AccessToken, RefreshToken string }

// TestE2ECodeCheckedBeforeConsumed: a party that is not the code's client,
// or lacks its verifier, redirect URI or issuer, gets the answer an unknown
// code gets and cannot burn the code.
func TestE2ECodeCheckedBeforeConsumed(t *testing.T) {
	t.Parallel()
	e := newTestServer(t)
	b := e.newBrowser(t)
	cfg := e.config(e.web, oidc.ScopeOpenID)
	v := newPKCE()
	code := e.signInCode(t, b, cfg, v.challenge())

	unknown := e.exchangeRaw(t, e.opaque, "no-such-code", e.web.redirect, v.verifier)
	unknown.requireError(t, http.StatusBadRequest, "invalid_grant")
	for name, r := range map[string]*jsonResponse{
		"another confidential client": e.exchangeRaw(t, e.opaque, code, e.web.redirect, v.verifier),
		"a public client":             e.exchangeRaw(t, e.spa, code, e.web.redirect, v.verifier),
		"wrong verifier":              e.exchangeRaw(t, e.web, code, e.web.redirect, newPKCE().verifier),
		"no verifier":                 e.exchangeRaw(t, e.web, code, e.web.redirect, ""),
		"wrong redirect_uri":          e.exchangeRaw(t, e.web, code, "https://rp.example/other", v.verifier),
	} {
		r.requireError(t, http.StatusBadRequest, "invalid_grant")
		if r.str("error_description") != unknown.str("error_description") {
			t.Errorf("%s: %q tells the code apart from an unknown one (%q)", name, r.str("error_description"), unknown.str("error_description"))
		}
	}
	e.exchangeRaw(t, e.web, code, e.web.redirect, v.verifier).requireStatus(t, http.StatusOK)

	// Issue 16 item 6: a code and a refresh token obtained at …/t/acme are
	// not redeemed at the tenant's own hostname (another issuer).
	e.updateTenant(t, tenantAcme, func(tn *storage.Tenant) { tn.Hostnames = []string{"login.acme.test"} })
	_, port, _ := net.SplitHostPort(e.ts.Listener.Addr().String())
	hosted := "http://login.acme.test:" + port
	hc := &http.Client{Transport: e.hostedTransport()}
	postHosted := func(form url.Values) *jsonResponse {
		req, _ := http.NewRequest(http.MethodPost, hosted+"/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(e.web.id, e.web.secret)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return readJSON(t, resp)
	}
	time.Sleep(1100 * time.Millisecond) // SQLite: no notifier, the tenant cache lives 1s
	v2 := newPKCE()
	code2 := e.signInCode(t, b, e.config(e.web, oidc.ScopeOpenID, oidc.ScopeOfflineAccess), v2.challenge())
	postHosted(url.Values{"grant_type": {"authorization_code"}, "code": {code2}, "redirect_uri": {e.web.redirect},
		"code_verifier": {v2.verifier}}).requireError(t, http.StatusBadRequest, "invalid_grant")
	tok := e.exchangeRaw(t, e.web, code2, e.web.redirect, v2.verifier)
	tok.requireStatus(t, http.StatusOK)
	postHosted(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.str("refresh_token")}}).
		requireError(t, http.StatusBadRequest, "invalid_grant")
	e.refresh(t, e.web, tok.str("refresh_token")).requireStatus(t, http.StatusOK)
}

// TestE2EOneCodePerAuthorizationRequest: six concurrent posts of one login
// form yield one code.
func TestE2EOneCodePerAuthorizationRequest(t *testing.T) {
	t.Parallel()
	e := newTestServer(t)
	b := e.newBrowser(t)
	cfg := e.config(e.web, oidc.ScopeOpenID)
	v := newPKCE()
	u, _ := authURL(cfg, v.challenge())
	login := b.get(u)
	if !login.isLoginPage() {
		t.Fatalf("no login page: %d", login.status)
	}
	const posts = 6
	pages := make([]*page, posts)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range posts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			pages[i] = b.submit(login, url.Values{"username": {"alice"}, "password": {alicePassword}})
		}()
	}
	close(start)
	wg.Wait()
	var codes []string
	for _, p := range pages {
		if loc := p.location(); loc != nil && strings.HasPrefix(loc.String(), e.web.redirect) && loc.Query().Get("code") != "" {
			codes = append(codes, loc.Query().Get("code"))
		}
	}
	if len(codes) != 1 {
		t.Fatalf("%d concurrent login posts gave %d codes, want 1", posts, len(codes))
	}
	e.exchangeRaw(t, e.web, codes[0], e.web.redirect, v.verifier).requireStatus(t, http.StatusOK)
}

// TestE2ETokensOnlyInBodyOrHeader: GET at the token, revocation and
// introspection endpoints is refused (405), and so is a bearer token in the
// userinfo URL.
func TestE2ETokensOnlyInBodyOrHeader(t *testing.T) {
	t.Parallel()
	e := newTestServer(t)
	b := e.newBrowser(t)
	tok := e.tokens(t, b, e.web, oidc.ScopeOpenID)
	for _, path := range []string{"/token", "/revoke", "/introspect"} {
		q := url.Values{"grant_type": {"client_credentials"}, "client_id": {e.web.id}, "client_secret": {e.web.secret}, "token": {tok.AccessToken}}
		req, _ := http.NewRequest(http.MethodGet, e.issuer+path+"?"+q.Encode(), nil)
		r := e.doJSON(t, req)
		if r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != http.MethodPost {
			t.Errorf("GET %s: %d Allow=%q, want 405 Allow: POST (%s)", path, r.status, r.header.Get("Allow"), r.body)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, e.issuer+"/userinfo?access_token="+url.QueryEscape(tok.AccessToken), nil)
	if r := e.doJSON(t, req); r.status == http.StatusOK {
		t.Errorf("userinfo with access_token in the query: 200, want a refusal")
	}
}

// TestE2EIntrospectionAudience: a client learns about a token only if the
// token is for it (or it may introspect everything); the username of other
// clients' users does not leak.
func TestE2EIntrospectionAudience(t *testing.T) {
	t.Parallel()
	e := newTestServer(t)
	b := e.newBrowser(t)
	tok := e.tokens(t, b, e.web, oidc.ScopeOpenID, oidc.ScopeOfflineAccess)
	as := func(c client, token string) *jsonResponse {
		r := e.postForm(t, e.issuer+"/introspect", &c, url.Values{"token": {token}})
		r.requireStatus(t, http.StatusOK)
		return r
	}
	for _, token := range []string{tok.AccessToken, tok.RefreshToken} {
		if r := as(e.opaque, token); r.json["active"] != false || strings.Contains(r.body, "alice") {
			t.Errorf("another client introspected the web client's token: %s", r.body)
		}
		if r := as(e.web, token); r.json["active"] != true {
			t.Errorf("the token's own client: %s", r.body)
		}
		if r := as(e.gateway, token); r.json["active"] != true || r.str("username") == "" && token == tok.AccessToken {
			t.Errorf("the introspection gateway: %s", r.body)
		}
	}
}

// TestE2EOpaqueTokensUnforgeable: opaque tokens are random and stored only
// as a hash; the library's AES-CFB format is refused.
func TestE2EOpaqueTokensUnforgeable(t *testing.T) {
	t.Parallel()
	e := newTestServer(t)
	b := e.newBrowser(t)
	tok := e.tokens(t, b, e.opaque, oidc.ScopeOpenID)
	if len(tok.AccessToken) != 43 || strings.Contains(tok.AccessToken, ".") {
		t.Fatalf("opaque access token %q is not 256 random bits", tok.AccessToken)
	}
	if _, err := e.store.Tokens().AccessToken(e.ctx(t), tenantAcme, tok.AccessToken, time.Now()); err == nil {
		t.Error("the opaque token is stored in the clear")
	}
	sum := sha256.Sum256([]byte(tok.AccessToken))
	rec, err := e.store.Tokens().AccessToken(e.ctx(t), tenantAcme, hex.EncodeToString(sum[:]), time.Now())
	if err != nil {
		t.Fatalf("opaque token not stored under its hash: %v", err)
	}
	// What an attacker who read a token record could build in the old
	// format: subject and token ID, AES-CFB-encrypted (here under a key of
	// their choosing; the old key no longer exists).
	var key [32]byte
	//lint:ignore SA1019 the attacker forges the deprecated AES-CFB format on purpose
	forged, err := zop.CreateBearerToken(rec.ID, e.alice.ID, zop.NewAESCrypto(key))
	if err != nil {
		t.Fatal(err)
	}
	if s := e.userinfoStatus(t, forged); s != http.StatusUnauthorized {
		t.Errorf("userinfo with an AES-CFB token: %d, want 401", s)
	}
	e.requireActive(t, forged, false)
}

// TestE2ELifetimeCaps: registration refuses access-token lifetimes over the
// caps, naming the field.
func TestE2ELifetimeCaps(t *testing.T) {
	t.Parallel()
	e := newTestServer(t)
	for _, tc := range []struct {
		spec registry.ClientSpec
		want string
	}{
		{registry.ClientSpec{ID: "long", GrantTypes: []string{registry.GrantClientCredentials}, AccessTokenLifetime: 25 * time.Hour}, "24h"},
		{registry.ClientSpec{ID: "admin-long", GrantTypes: []string{registry.GrantClientCredentials}, Scopes: []string{registry.AdminScope},
			AccessTokenLifetime: 10 * 365 * 24 * time.Hour}, "1h"},
		{registry.ClientSpec{ID: "admin-2h", GrantTypes: []string{registry.GrantClientCredentials}, Scopes: []string{registry.AdminScope},
			AccessTokenLifetime: 2 * time.Hour}, "1h"},
	} {
		_, _, err := e.reg.CreateClient(e.ctx(t), tenantAcme, tc.spec)
		if err == nil || !strings.Contains(err.Error(), "access_token_lifetime") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one naming access_token_lifetime and %s", tc.spec.ID, err, tc.want)
		}
	}
	if _, _, err := e.reg.CreateClient(e.ctx(t), tenantAcme, registry.ClientSpec{ID: "admin-ok", GrantTypes: []string{registry.GrantClientCredentials},
		Scopes: []string{registry.AdminScope}, AccessTokenLifetime: time.Hour}); err != nil {
		t.Errorf("1h admin lifetime refused: %v", err)
	}
}

// readJSON reads and decodes a JSON response.
func readJSON(t *testing.T, resp *http.Response) *jsonResponse {
	t.Helper()
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	r := &jsonResponse{status: resp.StatusCode, header: resp.Header, body: string(body)}
	_ = json.Unmarshal(body, &r.json)
	return r
}

// TestE2ELogoutHints: end_session is silent only for an ID token of the
// current session; the attacker's own ID token or an access token sent
// from a cross-site page cannot end the victim's session.
func TestE2ELogoutHints(t *testing.T) {
	t.Parallel()
	e := newTestServer(t)
	cfg := e.config(e.web, oidc.ScopeOpenID)
	endSession := e.issuer + "/end_session"
	loggedIn := func(t *testing.T, b *browser) bool {
		t.Helper()
		u, _ := authURL(cfg, oauth2PromptNone())
		loc := b.get(u).location()
		return loc != nil && loc.Query().Get("code") != ""
	}
	e.user(t, "mallory")
	attacker := e.tokens(t, e.newBrowser(t), e.web, oidc.ScopeOpenID) // alice, another session
	mal := e.newBrowser(t)
	malCfg := e.config(e.web, oidc.ScopeOpenID)
	mv := newPKCE()
	mu, _ := authURL(malCfg, mv.challenge())
	mq := mal.login(mal.get(mu), "mallory", alicePassword).requireRedirectTo(t, e.web.redirect)
	malTok := e.exchangeRaw(t, e.web, mq.Get("code"), e.web.redirect, mv.verifier)
	malTok.requireStatus(t, http.StatusOK)

	victim := e.newBrowser(t)
	own := e.tokens(t, victim, e.web, oidc.ScopeOpenID)
	for name, hint := range map[string]string{
		"the attacker's own ID token":         malTok.str("id_token"),
		"an ID token of another session":      attacker.Extra("id_token").(string),
		"an access token of the same session": own.AccessToken,
	} {
		p := victim.get(endSession + "?" + url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {webPostLogout}}.Encode())
		if loc := p.location(); loc != nil {
			t.Errorf("%s: logout went through silently (redirect to %s)", name, loc)
		}
		if !loggedIn(t, victim) {
			t.Fatalf("%s ended the victim's session", name)
		}
	}
	// The hint of the current session logs out without asking.
	p := victim.get(endSession + "?" + url.Values{"id_token_hint": {own.Extra("id_token").(string)}, "post_logout_redirect_uri": {webPostLogout}}.Encode())
	if p.status != http.StatusSeeOther {
		t.Fatalf("logout with the session's own hint: %d, want 303", p.status)
	}
	if loggedIn(t, victim) {
		t.Fatal("still logged in")
	}
}

// TestE2EAdminTokenFollowsItsClient: an admin token dies with its client —
// the deleted client's token no longer opens the admin API (issue 9).
func TestE2EAdminTokenFollowsItsClient(t *testing.T) {
	t.Parallel()
	e := newTestServer(t)
	if _, _, _, err := e.reg.Bootstrap(e.ctx(t), e.ts.URL); err != nil {
		t.Fatal(err)
	}
	c, secret, err := e.reg.CreateClient(e.ctx(t), registry.SystemTenant, registry.ClientSpec{
		ID: "ops-bot", GrantTypes: []string{registry.GrantClientCredentials}, Scopes: []string{registry.AdminScope},
	})
	if err != nil {
		t.Fatal(err)
	}
	tok := e.systemToken(t, c.ID, secret, registry.AdminScope)
	e.adminCall(t, tok, http.MethodGet, "/tenants", nil).requireStatus(t, http.StatusOK)
	if err := e.reg.DeleteClient(e.ctx(t), registry.SystemTenant, c.ID); err != nil {
		t.Fatal(err)
	}
	e.adminCall(t, tok, http.MethodGet, "/tenants", nil).requireStatus(t, http.StatusUnauthorized)
	e.adminCall(t, tok, http.MethodPost, "/tenants", map[string]any{"name": "evil"}).requireStatus(t, http.StatusUnauthorized)
	// Registered again under the same ID: the old token stays dead.
	if _, _, err := e.reg.CreateClient(e.ctx(t), registry.SystemTenant, registry.ClientSpec{
		ID: "ops-bot", GrantTypes: []string{registry.GrantClientCredentials}, Scopes: []string{registry.AdminScope},
	}); err != nil {
		t.Fatal(err)
	}
	e.adminCall(t, tok, http.MethodGet, "/tenants", nil).requireStatus(t, http.StatusUnauthorized)
}

// TestE2ERefreshFamilyLifetime: rotating a public client's refresh token
// never extends its family beyond the absolute lifetime (issue 9: a 4 s
// lifetime was kept alive 14 s by rotating).
func TestE2ERefreshFamilyLifetime(t *testing.T) {
	t.Parallel()
	e := newTestServer(t, withLifetimes(func(l *op.Lifetimes) { l.RefreshToken = 3 * time.Second }))
	tok := e.tokens(t, e.newBrowser(t), e.spa, oidc.ScopeOpenID, oidc.ScopeOfflineAccess)
	rt := tok.RefreshToken
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline.Add(-700 * time.Millisecond)) {
		time.Sleep(500 * time.Millisecond)
		r := e.refresh(t, e.spa, rt)
		r.requireStatus(t, http.StatusOK)
		rt = r.str("refresh_token")
	}
	time.Sleep(time.Until(deadline) + 200*time.Millisecond)
	e.refresh(t, e.spa, rt).requireError(t, http.StatusBadRequest, "invalid_grant")
}

// TestE2ERefreshReuseGrace: with a grace window, a spent refresh token
// presented again at once (two tabs) is honoured; after the window it
// revokes the family. The default (no window) is tested in TestE2ERefresh.
func TestE2ERefreshReuseGrace(t *testing.T) {
	t.Parallel()
	e := newTestServer(t, withLifetimes(func(l *op.Lifetimes) { l.RefreshReuseGrace = time.Second }))
	tok := e.tokens(t, e.newBrowser(t), e.spa, oidc.ScopeOpenID, oidc.ScopeOfflineAccess)
	first := e.refresh(t, e.spa, tok.RefreshToken)
	first.requireStatus(t, http.StatusOK)
	second := e.refresh(t, e.spa, tok.RefreshToken) // the other tab
	second.requireStatus(t, http.StatusOK)
	time.Sleep(1200 * time.Millisecond)
	e.refresh(t, e.spa, tok.RefreshToken).requireError(t, http.StatusBadRequest, "invalid_grant")
	e.refresh(t, e.spa, first.str("refresh_token")).requireError(t, http.StatusBadRequest, "invalid_grant")
	e.refresh(t, e.spa, second.str("refresh_token")).requireError(t, http.StatusBadRequest, "invalid_grant")
}

// TestE2EAccessTokenIsNoIDTokenHint: /authorize refuses an access token as
// id_token_hint (same keys, but typ at+jwt).
func TestE2EAccessTokenIsNoIDTokenHint(t *testing.T) {
	t.Parallel()
	e := newTestServer(t)
	b := e.newBrowser(t)
	tok := e.tokens(t, b, e.web, oidc.ScopeOpenID)
	cfg := e.config(e.web, oidc.ScopeOpenID)
	u, _ := authURL(cfg, newPKCE().challenge(), oauth2.SetAuthURLParam("id_token_hint", tok.AccessToken))
	b.get(u).requireAuthError(t, webRedirect, e.issuer, "invalid_request")
	u, _ = authURL(cfg, newPKCE().challenge(), oauth2.SetAuthURLParam("id_token_hint", tok.Extra("id_token").(string)))
	if q := b.get(u).requireRedirectTo(t, webRedirect); q.Get("code") == "" {
		t.Fatalf("the ID token as hint: %v", q)
	}
}

// TestE2EConfidentialRotation: optional rotation for confidential clients.
func TestE2EConfidentialRotation(t *testing.T) {
	t.Parallel()
	for _, rotate := range []bool{false, true} {
		var opts []serverOption
		if rotate {
			opts = append(opts, withConfidentialRotation())
		}
		e := newTestServer(t, opts...)
		tok := e.tokens(t, e.newBrowser(t), e.web, oidc.ScopeOpenID, oidc.ScopeOfflineAccess)
		r := e.refresh(t, e.web, tok.RefreshToken)
		r.requireStatus(t, http.StatusOK)
		rotated := r.str("refresh_token") != tok.RefreshToken
		if rotated != rotate {
			t.Fatalf("rotation %v: refresh token rotated = %v", rotate, rotated)
		}
		again := e.refresh(t, e.web, tok.RefreshToken)
		if rotate {
			again.requireError(t, http.StatusBadRequest, "invalid_grant")
			e.refresh(t, e.web, r.str("refresh_token")).requireError(t, http.StatusBadRequest, "invalid_grant")
		} else {
			again.requireStatus(t, http.StatusOK)
		}
	}
}

// TestE2EGrantStateCacheRaces attacks the per-replica grant-state cache
// (grantcache.go) on one server: while four clients hammer userinfo with
// a token the cache holds, the token is revoked; no request sent after the
// revocation answered may succeed. A change made outside the server (the
// CLI's own registry on the same storage) is seen within a second.
func TestE2EGrantStateCacheRaces(t *testing.T) {
	t.Parallel()
	e := newTestServer(t)
	t.Run("revocation racing userinfo", func(t *testing.T) {
		tok := e.tokens(t, e.newBrowser(t), e.web, oidc.ScopeOpenID, oidc.ScopeOfflineAccess)
		e.requireAlive(t, tok.AccessToken, tok.RefreshToken) // cached now
		var revoked atomic.Bool
		var afterOK, after atomic.Int64
		stop := make(chan struct{})
		start := make(chan struct{})
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				for {
					select {
					case <-stop:
						return
					default:
					}
					sentAfter := revoked.Load()
					req, _ := http.NewRequest(http.MethodGet, e.issuer+"/userinfo", nil)
					req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						t.Error(err)
						return
					}
					resp.Body.Close()
					if sentAfter {
						after.Add(1)
						if resp.StatusCode == http.StatusOK {
							afterOK.Add(1)
						}
					}
				}
			}()
		}
		close(start)
		time.Sleep(50 * time.Millisecond)
		e.postForm(t, e.issuer+"/revoke", &e.web, url.Values{"token": {tok.RefreshToken}}).requireStatus(t, http.StatusOK)
		revoked.Store(true)
		for after.Load() < 20 {
			time.Sleep(5 * time.Millisecond)
		}
		close(stop)
		wg.Wait()
		if n := afterOK.Load(); n > 0 {
			t.Fatalf("%d of %d userinfo requests sent after the revocation answered 200", n, after.Load())
		}
		e.requireDead(t, e.web, tok.AccessToken, tok.RefreshToken)
	})
	t.Run("a change made by another process is seen within a second", func(t *testing.T) {
		bob := e.user(t, "bob-cli")
		tok := e.tokensAs(t, e.newBrowser(t), "bob-cli", e.web, oidc.ScopeOpenID)
		e.requireAlive(t, tok.AccessToken, "") // cached now
		// The herald CLI builds its own registry on the same storage.
		cli := &registry.Registry{Store: e.store, Keys: e.reg.Keys, Passwords: e.reg.Passwords, PublicURL: e.reg.PublicURL}
		yes := true
		if _, err := cli.UpdateUser(e.ctx(t), tenantAcme, bob.ID, registry.UserUpdate{Disabled: &yes}); err != nil {
			t.Fatal(err)
		}
		changed := time.Now()
		for e.userinfoStatus(t, tok.AccessToken) == http.StatusOK {
			if time.Since(changed) > time.Second {
				t.Fatal("userinfo still accepts a disabled user's token a second after the change")
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Logf("the server saw the CLI's change after %s", time.Since(changed))
		e.requireActive(t, tok.AccessToken, false)
	})
}

// TestE2ERefreshReuseGraceConcurrent: two tabs refreshing one token at the
// same instant (behind a barrier, eight times over) both get tokens when a
// grace window is configured, and the family survives; without one, exactly
// one wins and the whole family ends (RFC 9700 §4.14.2).
func TestE2ERefreshReuseGraceConcurrent(t *testing.T) {
	t.Parallel()
	race := func(e *testEnv, rt string) [2]*jsonResponse {
		var out [2]*jsonResponse
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range out {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				out[i] = e.refresh(t, e.spa, rt)
			}()
		}
		close(start)
		wg.Wait()
		return out
	}
	t.Run("grace", func(t *testing.T) {
		e := newTestServer(t, withLifetimes(func(l *op.Lifetimes) { l.RefreshReuseGrace = 5 * time.Second }))
		rt := e.tokens(t, e.newBrowser(t), e.spa, oidc.ScopeOpenID, oidc.ScopeOfflineAccess).RefreshToken
		for round := range 8 {
			got := race(e, rt)
			for i, r := range got {
				if r.status != http.StatusOK {
					t.Fatalf("round %d, tab %d: %d %s", round, i, r.status, r.body)
				}
			}
			for _, r := range got {
				e.requireActive(t, r.str("access_token"), true)
				if round == 7 { // both tabs' successors still work
					e.refresh(t, e.spa, r.str("refresh_token")).requireStatus(t, http.StatusOK)
				}
			}
			rt = got[round%2].str("refresh_token")
		}
	})
	t.Run("no grace", func(t *testing.T) {
		e := newTestServer(t)
		rt := e.tokens(t, e.newBrowser(t), e.spa, oidc.ScopeOpenID, oidc.ScopeOfflineAccess).RefreshToken
		got := race(e, rt)
		ok := 0
		for _, r := range got {
			if r.status == http.StatusOK {
				ok++
			} else {
				r.requireError(t, http.StatusBadRequest, "invalid_grant")
			}
		}
		if ok != 1 {
			t.Fatalf("%d of two concurrent refreshes of one token succeeded without a grace window, want exactly one", ok)
		}
		for _, r := range got {
			if r.status == http.StatusOK {
				e.requireDead(t, e.spa, r.str("access_token"), r.str("refresh_token"))
			}
		}
	})
}

// TestE2ERememberedRefreshTokenOtherClientOrTenant: a refresh token the
// server remembers minting (refreshcache.go) is still bound to its client
// and tenant — another public client of the tenant, or a client of the
// same ID in another tenant, gets invalid_grant — and presenting it there
// does not spend it: its own client still refreshes with it.
func TestE2ERememberedRefreshTokenOtherClientOrTenant(t *testing.T) {
	t.Parallel()
	e := newTestServer(t)
	spec := registry.ClientSpec{ID: "rp-spa-other", Public: true, FirstParty: true,
		RedirectURIs: []string{spaRedirect}, GrantTypes: []string{registry.GrantAuthorizationCode, registry.GrantRefreshToken}}
	other := e.createClient(t, tenantAcme, spec)
	if _, err := e.reg.CreateTenant(e.ctx(t), registry.TenantSpec{Name: "gamma"}); err != nil {
		t.Fatal(err)
	}
	spec.ID = spaClientID // the same client ID in another tenant
	e.createClient(t, "gamma", spec)
	rt := e.tokens(t, e.newBrowser(t), e.spa, oidc.ScopeOpenID, oidc.ScopeOfflineAccess).RefreshToken
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
	e.token(t, other, form).requireError(t, http.StatusBadRequest, "invalid_grant")
	form.Set("client_id", spaClientID)
	req, _ := http.NewRequest(http.MethodPost, e.issuerOf("gamma")+"/token", nil)
	setFormBody(req, form.Encode())
	e.doJSON(t, req).requireError(t, http.StatusBadRequest, "invalid_grant")
	next := e.refresh(t, e.spa, rt)
	next.requireStatus(t, http.StatusOK)
	e.requireActive(t, next.str("access_token"), true)
}

package op_test

// Federation end to end: tenant acme signs people in at tenant "up" of the
// same Herald (both on loopback), which plays the upstream OpenID provider.
// A real relying party (x/oauth2 + coreos/go-oidc) signs in through both
// hops; Herald is the relying party of "up" through op/upstream.

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/net/html"
	"golang.org/x/oauth2"

	"github.com/herald-idp/herald/op/registry"
	"github.com/herald-idp/herald/storage"
)

const (
	tenantUp    = "up"
	bobPassword = "bob's long upstream passphrase"
)

type fedEnv struct {
	*testEnv
	bob *storage.User
}

// newFedEnv adds tenant "up" with user bob and two clients for acme (one
// first party, one asking for consent), and connectors "corp" and
// "corp3p" in acme pointing at them.
func newFedEnv(t *testing.T) *fedEnv {
	t.Helper()
	e := newTestServer(t)
	ctx := t.Context()
	if _, err := e.reg.CreateTenant(ctx, registry.TenantSpec{Name: tenantUp, DisplayName: "Upstream"}); err != nil {
		t.Fatal(err)
	}
	bob, err := e.reg.CreateUser(ctx, tenantUp, registry.UserSpec{Username: "bob", Email: "bob@up.example",
		EmailVerified: true, Name: "Bob Upstream", Password: bobPassword})
	if err != nil {
		t.Fatal(err)
	}
	for _, cn := range []struct {
		id         string
		firstParty bool
	}{{"corp", true}, {"corp3p", false}} {
		cl := e.createClient(t, tenantUp, registry.ClientSpec{
			ID: "acme-" + cn.id, Name: "Acme via " + cn.id, FirstParty: cn.firstParty,
			RedirectURIs: []string{e.issuerOf(tenantAcme) + "/upstream/" + cn.id + "/callback"},
		})
		if _, err := e.reg.CreateConnector(ctx, tenantAcme, registry.ConnectorSpec{
			ID: cn.id, Type: storage.ConnectorOIDC, DisplayName: "Sign in with " + cn.id,
			Issuer: e.issuerOf(tenantUp), ClientID: cl.id, ClientSecret: cl.secret, JITCreate: true,
		}); err != nil {
			t.Fatal(err)
		}
	}
	return &fedEnv{testEnv: e, bob: bob}
}

// formByAction finds the form whose action contains part, with its hidden
// fields.
func formByAction(t *testing.T, p *page, part string) (string, url.Values) {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(p.body))
	if err != nil {
		t.Fatal(err)
	}
	for n := range doc.Descendants() {
		if n.Type != html.ElementNode || n.Data != "form" || !strings.Contains(attr(n, "action"), part) {
			continue
		}
		vals := url.Values{}
		for c := range n.Descendants() {
			if c.Type == html.ElementNode && c.Data == "input" && attr(c, "type") == "hidden" {
				vals.Add(attr(c, "name"), attr(c, "value"))
			}
		}
		action, _ := p.url.Parse(attr(n, "action"))
		return action.String(), vals
	}
	t.Fatalf("no form with action *%s* on the page (%d):\n%s", part, p.status, p.body)
	return "", nil
}

// verifyFederatedToken redeems code as the relying party and checks the ID
// token with go-oidc: the local user, amr fed and the idp claim.
func (f *fedEnv) verifyFederatedToken(t *testing.T, cfg *oauth2.Config, code string, v pkce, nonce string) *oidc.IDToken {
	t.Helper()
	tok, err := cfg.Exchange(f.ctx(t), code, v.verify())
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	provider, _ := f.provider(t)
	var meta struct {
		Claims []string `json:"claims_supported"`
	}
	if err := provider.Claims(&meta); err != nil || !slices.Contains(meta.Claims, "idp") {
		t.Fatalf("discovery does not list the idp claim it issues: %v (%v)", meta.Claims, err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := provider.Verifier(&oidc.Config{ClientID: cfg.ClientID}).Verify(f.ctx(t), raw)
	if err != nil {
		t.Fatalf("verify the ID token: %v", err)
	}
	var claims struct {
		AMR   []string `json:"amr"`
		IDP   string   `json:"idp"`
		Email string   `json:"email"`
	}
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if idt.Nonce != nonce || !slices.Equal(claims.AMR, []string{"fed"}) || claims.IDP != "corp" || claims.Email != "bob@up.example" {
		t.Fatalf("ID token: nonce %q amr %v idp %q email %q", idt.Nonce, claims.AMR, claims.IDP, claims.Email)
	}
	if idt.Subject == f.bob.ID {
		t.Fatal("the local subject is the upstream one")
	}
	return idt
}

// TestE2EFederationLoginPageAndHint: a person picks the connector on acme's
// login page, signs in at "up", and the relying party gets an ID token of
// acme for a just-in-time local user (amr fed, idp corp). A second sign-in
// with idp_hint=corp skips acme's login page and maps to the same user.
func TestE2EFederationLoginPageAndHint(t *testing.T) {
	f := newFedEnv(t)
	cfg := f.config(f.web, oidc.ScopeOpenID, "email", "profile")

	// 1. Through the login page's button.
	b := f.newBrowser(t)
	v, nonce := newPKCE(), oauth2.GenerateVerifier()
	u, state := authURL(cfg, v.challenge(), oidc.Nonce(nonce))
	p := b.get(u)
	if !p.isLoginPage() || !strings.Contains(p.body, "Sign in with corp") {
		t.Fatalf("acme's login page shows no connector button (%d):\n%s", p.status, p.body)
	}
	action, form := formByAction(t, p, "/upstream/corp/start")
	p = b.post(action, form)
	if !p.isLoginPage() || !strings.HasPrefix(p.url.Path, "/t/"+tenantUp+"/") {
		t.Fatalf("the button did not lead to up's login page: %s (%d)", p.url, p.status)
	}
	p = b.login(p, "bob", bobPassword)
	q := p.requireRedirectTo(t, cfg.RedirectURL)
	if q.Get("state") != state || q.Get("iss") != f.issuer || q.Get("code") == "" {
		t.Fatalf("authorization response %v", q)
	}
	first := f.verifyFederatedToken(t, cfg, q.Get("code"), v, nonce)
	local, err := f.store.Users().User(t.Context(), tenantAcme, first.Subject)
	if err != nil || local.Email != "bob@up.example" || !local.EmailVerified || local.PasswordHash != "" {
		t.Fatalf("JIT user %+v, %v", local, err)
	}
	link, err := f.store.Connectors().UserLink(t.Context(), tenantAcme, "corp", f.bob.ID)
	if err != nil || link.UserID != local.ID {
		t.Fatalf("link %+v, %v", link, err)
	}

	// 2. idp_hint in a fresh browser: no acme login page at all.
	b2 := f.newBrowser(t)
	v2, nonce2 := newPKCE(), oauth2.GenerateVerifier()
	u, state = authURL(cfg, v2.challenge(), oidc.Nonce(nonce2), oauth2.SetAuthURLParam("idp_hint", "corp"))
	p = b2.get(u)
	if !p.isLoginPage() || !strings.HasPrefix(p.url.Path, "/t/"+tenantUp+"/") {
		t.Fatalf("idp_hint did not go straight to up: %s (%d)", p.url, p.status)
	}
	p = b2.login(p, "bob", bobPassword)
	q = p.requireRedirectTo(t, cfg.RedirectURL)
	if q.Get("state") != state {
		t.Fatalf("state %q", q.Get("state"))
	}
	second := f.verifyFederatedToken(t, cfg, q.Get("code"), v2, nonce2)
	if second.Subject != first.Subject {
		t.Fatalf("second sign-in mapped to %s, want the linked %s", second.Subject, first.Subject)
	}

	// 3. SSO at acme: the session started by the upstream sign-in answers.
	v3 := newPKCE()
	u, _ = authURL(cfg, v3.challenge())
	q = b2.get(u).requireRedirectTo(t, cfg.RedirectURL)
	if q.Get("code") == "" {
		t.Fatalf("SSO after an upstream sign-in: %v", q)
	}

	events, err := f.store.AuthEvents().ListAuthEvents(t.Context(), tenantAcme,
		storage.AuthEventFilter{Event: storage.EventLoginSucceeded, Limit: 100})
	if err != nil || !slices.ContainsFunc(events, func(ev *storage.AuthEvent) bool { return ev.Reason == "upstream:corp" }) {
		t.Fatalf("no upstream login in the audit trail: %v", err)
	}
}

// returnLink is the failure page's link back to the client.
func returnLink(t *testing.T, p *page) url.Values {
	t.Helper()
	doc, _ := html.Parse(strings.NewReader(p.body))
	for n := range doc.Descendants() {
		if n.Type == html.ElementNode && attr(n, "id") == "return-link" {
			u, err := url.Parse(attr(n, "href"))
			if err != nil {
				t.Fatal(err)
			}
			return u.Query()
		}
	}
	t.Fatalf("no return link on the page (%d):\n%s", p.status, p.body)
	return nil
}

func requireFailedEvent(t *testing.T, f *fedEnv, reason string) {
	t.Helper()
	events, err := f.store.AuthEvents().ListAuthEvents(t.Context(), tenantAcme,
		storage.AuthEventFilter{Event: storage.EventLoginFailed, Limit: 100})
	if err != nil || !slices.ContainsFunc(events, func(ev *storage.AuthEvent) bool { return ev.Reason == reason }) {
		var got []string
		for _, ev := range events {
			got = append(got, ev.Reason)
		}
		t.Fatalf("no failed login %q in the audit trail (have %v, %v)", reason, got, err)
	}
}

// TestE2EFederationConsentDenied: the person refuses consent at the
// upstream; acme shows a page saying so whose link tells the client
// access_denied; the refusal is in the audit trail.
func TestE2EFederationConsentDenied(t *testing.T) {
	f := newFedEnv(t)
	cfg := f.config(f.web, oidc.ScopeOpenID)
	b := f.newBrowser(t)
	u, state := authURL(cfg, newPKCE().challenge(), oauth2.SetAuthURLParam("idp_hint", "corp3p"))
	p := b.login(b.get(u), "bob", bobPassword)
	if !p.isConsentPage() {
		t.Fatalf("expected up's consent page, got %d:\n%s", p.status, p.body)
	}
	p = b.submit(p, url.Values{"decision": {"deny"}})
	if p.status != http.StatusForbidden || !strings.Contains(p.body, "cancelled") || !strings.HasPrefix(p.url.Path, "/t/"+tenantAcme+"/upstream/") {
		t.Fatalf("denied consent: %d at %s:\n%s", p.status, p.url, p.body)
	}
	q := returnLink(t, p)
	if q.Get("error") != "access_denied" || q.Get("state") != state || q.Get("iss") != f.issuer {
		t.Fatalf("return link %v", q)
	}
	requireFailedEvent(t, f, "upstream_access_denied:corp3p")
	for _, m := range goErrorMarkers {
		if strings.Contains(p.body, m) {
			t.Fatalf("page leaks %q", m)
		}
	}
}

// TestE2EFederationWrongState: a callback whose state this browser did not
// start, a replayed callback, and one opened in another browser are all
// refused with a page (no code, no session), and recorded.
func TestE2EFederationWrongState(t *testing.T) {
	f := newFedEnv(t)
	cfg := f.config(f.web, oidc.ScopeOpenID, "email")
	b := f.newBrowser(t)
	// Stop at acme's callback so the test holds its URL.
	follow := b.client.CheckRedirect
	b.client.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if strings.HasSuffix(req.URL.Path, "/callback") {
			return http.ErrUseLastResponse
		}
		return follow(req, via)
	}
	v, nonce := newPKCE(), oauth2.GenerateVerifier()
	u, _ := authURL(cfg, v.challenge(), oidc.Nonce(nonce), oauth2.SetAuthURLParam("idp_hint", "corp"))
	p := b.login(b.get(u), "bob", bobPassword)
	callback := p.location()
	if callback == nil || !strings.HasSuffix(callback.Path, "/upstream/corp/callback") {
		t.Fatalf("no redirect to acme's callback: %d %v", p.status, p.header)
	}

	// Forged state, in the right browser: refused, and the real one still works after.
	forged := *callback
	fq := forged.Query()
	fq.Set("state", "forged-"+fq.Get("state"))
	forged.RawQuery = fq.Encode()
	got := b.get(forged.String())
	if got.status != http.StatusBadRequest || !strings.Contains(got.body, "Sign-in expired") {
		t.Fatalf("forged state: %d\n%s", got.status, got.body)
	}
	requireFailedEvent(t, f, "upstream_state_mismatch:corp")

	// The real callback in another browser (no state cookie): refused.
	other := f.newBrowser(t)
	if got := other.get(callback.String()); got.status != http.StatusBadRequest {
		t.Fatalf("callback in another browser: %d", got.status)
	}

	// The real state, but the answer names another issuer (RFC 9207
	// mix-up): refused, the client is told access_denied.
	b.client.Jar.SetCookies(callback, []*http.Cookie{{Name: "herald_upstream", Value: callback.Query().Get("state"), Path: "/t/" + tenantAcme + "/"}})
	mixed := *callback
	mq := mixed.Query()
	mq.Set("iss", "https://evil.example")
	mixed.RawQuery = mq.Encode()
	got = b.get(mixed.String())
	if got.status != http.StatusBadGateway || returnLink(t, got).Get("error") != "access_denied" {
		t.Fatalf("mix-up: %d\n%s", got.status, got.body)
	}
	requireFailedEvent(t, f, "upstream_issuer:corp")
}

// TestE2EFederationReplayAndUnreachable: a callback used once cannot be
// used again; an unreachable provider is a 503 page whose link tells the
// client temporarily_unavailable.
func TestE2EFederationReplayAndUnreachable(t *testing.T) {
	f := newFedEnv(t)
	cfg := f.config(f.web, oidc.ScopeOpenID, "email")
	b := f.newBrowser(t)
	follow := b.client.CheckRedirect
	b.client.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if strings.HasSuffix(req.URL.Path, "/callback") {
			return http.ErrUseLastResponse
		}
		return follow(req, via)
	}
	v, nonce := newPKCE(), oauth2.GenerateVerifier()
	u, _ := authURL(cfg, v.challenge(), oidc.Nonce(nonce), oauth2.SetAuthURLParam("idp_hint", "corp"))
	callback := b.login(b.get(u), "bob", bobPassword).location()
	if callback == nil {
		t.Fatal("no callback redirect")
	}
	// The browser's cookie survives so that the replay fails on the
	// server-side state, not on the cookie: put it back after the first use.
	stateCookie := b.cookie(callback.String(), "herald_upstream")
	q := b.get(callback.String()).requireRedirectTo(t, cfg.RedirectURL)
	f.verifyFederatedToken(t, cfg, q.Get("code"), v, nonce)
	b.client.Jar.SetCookies(callback, []*http.Cookie{{Name: "herald_upstream", Value: stateCookie, Path: "/t/" + tenantAcme + "/"}})
	if got := b.get(callback.String()); got.status != http.StatusBadRequest || !strings.Contains(got.body, "Sign-in expired") {
		t.Fatalf("replayed callback: %d\n%s", got.status, got.body)
	}
	requireFailedEvent(t, f, "upstream_state_unknown:corp")

	// Unreachable provider.
	if _, err := f.reg.CreateConnector(t.Context(), tenantAcme, registry.ConnectorSpec{
		ID: "down", Type: storage.ConnectorOIDC, Issuer: "http://127.0.0.1:1/nothing", ClientID: "x",
	}); err != nil {
		t.Fatal(err)
	}
	u, state := authURL(cfg, newPKCE().challenge(), oauth2.SetAuthURLParam("idp_hint", "down"))
	p := f.newBrowser(t).get(u)
	if p.status != http.StatusServiceUnavailable {
		t.Fatalf("unreachable provider: %d\n%s", p.status, p.body)
	}
	rq := returnLink(t, p)
	if rq.Get("error") != "temporarily_unavailable" || rq.Get("state") != state {
		t.Fatalf("return link %v", rq)
	}
	requireFailedEvent(t, f, "upstream_start:down")

	// A native app's private-use scheme survives in the link.
	native := f.createClient(t, tenantAcme, registry.ClientSpec{ID: "native-app", Native: true, FirstParty: true,
		RedirectURIs: []string{"com.example.app:/cb"}})
	u, _ = authURL(oauthConfig(f.issuer, native, oidc.ScopeOpenID), newPKCE().challenge(),
		oauth2.SetAuthURLParam("idp_hint", "down"))
	p = f.newBrowser(t).get(u)
	if !strings.Contains(p.body, `href="com.example.app:/cb?error=temporarily_unavailable`) {
		t.Fatalf("native return link:\n%s", p.body)
	}
}

// TestE2EFederationConnectorsOnly: with the tenant setting connectors_only
// the login page has no password form and a posted password is refused;
// with every connector disabled the password form is back (nobody is
// locked out).
func TestE2EFederationConnectorsOnly(t *testing.T) {
	f := newFedEnv(t)
	on := true
	if _, err := f.reg.UpdateTenant(t.Context(), tenantAcme, registry.TenantUpdate{
		Settings: &registry.SettingsUpdate{ConnectorsOnly: &on}}); err != nil {
		t.Fatal(err)
	}
	cfg := f.config(f.web, oidc.ScopeOpenID)
	b := f.newBrowser(t)
	u, _ := authURL(cfg, newPKCE().challenge())
	p := b.get(u)
	if p.status != http.StatusOK || strings.Contains(p.body, `name="password"`) || !strings.Contains(p.body, "Sign in with corp") {
		t.Fatalf("connectors-only login page (%d):\n%s", p.status, p.body)
	}
	_, form := formByAction(t, p, "/upstream/corp/start")
	form.Set("username", "alice")
	form.Set("password", alicePassword)
	if got := b.post(f.issuer+"/login", form); got.status != http.StatusForbidden || got.location() != nil {
		t.Fatalf("password login with connectors_only: %d %v", got.status, got.header)
	}

	for _, id := range []string{"corp", "corp3p"} {
		off := true
		if _, err := f.reg.UpdateConnector(t.Context(), tenantAcme, id, registry.ConnectorUpdate{Disabled: &off}); err != nil {
			t.Fatal(err)
		}
	}
	p = f.newBrowser(t).get(u)
	if !p.isLoginPage() || strings.Contains(p.body, "Sign in with corp") {
		t.Fatalf("without enabled connectors the password form must show (%d):\n%s", p.status, p.body)
	}
}

// TestE2EFederationLinkByEmail: without just-in-time creation, an upstream
// account with a verified e-mail joins the one local user with that
// verified e-mail; when two local users share it, nobody is linked.
func TestE2EFederationLinkByEmail(t *testing.T) {
	f := newFedEnv(t)
	ctx := t.Context()
	carol, err := f.reg.CreateUser(ctx, tenantUp, registry.UserSpec{Username: "carol", Email: "ALICE@example.com",
		EmailVerified: true, Password: bobPassword})
	if err != nil {
		t.Fatal(err)
	}
	off, on := false, true
	if _, err := f.reg.UpdateConnector(ctx, tenantAcme, "corp", registry.ConnectorUpdate{JITCreate: &off, LinkByEmail: &on}); err != nil {
		t.Fatal(err)
	}
	cfg := f.config(f.web, oidc.ScopeOpenID, "email")
	hint := oauth2.SetAuthURLParam("idp_hint", "corp")

	// A second local user with alice's verified address: ambiguous.
	twin, err := f.reg.CreateUser(ctx, tenantAcme, registry.UserSpec{Username: "alice-twin", Email: "alice@example.com",
		EmailVerified: true, Password: alicePassword})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := authURL(cfg, newPKCE().challenge(), hint)
	b := f.newBrowser(t)
	p := b.login(b.get(u), "carol", bobPassword)
	if p.status != http.StatusForbidden || !strings.Contains(p.body, "No account") {
		t.Fatalf("ambiguous e-mail: %d\n%s", p.status, p.body)
	}
	requireFailedEvent(t, f, "upstream_email_ambiguous:corp")

	// One match: linked to alice.
	if err := f.reg.DeleteUser(ctx, tenantAcme, twin.ID); err != nil {
		t.Fatal(err)
	}
	v, nonce := newPKCE(), oauth2.GenerateVerifier()
	u, _ = authURL(cfg, v.challenge(), oidc.Nonce(nonce), hint)
	b = f.newBrowser(t)
	q := b.login(b.get(u), "carol", bobPassword).requireRedirectTo(t, cfg.RedirectURL)
	tok, err := cfg.Exchange(f.ctx(t), q.Get("code"), v.verify())
	if err != nil {
		t.Fatal(err)
	}
	provider, _ := f.provider(t)
	idt, err := provider.Verifier(&oidc.Config{ClientID: cfg.ClientID}).Verify(f.ctx(t), tok.Extra("id_token").(string))
	if err != nil || idt.Subject != f.alice.ID {
		t.Fatalf("linked by e-mail: sub %v, %v; want alice", idt, err)
	}
	if link, err := f.store.Connectors().UserLink(ctx, tenantAcme, "corp", carol.ID); err != nil || link.UserID != f.alice.ID {
		t.Fatalf("link %+v, %v", link, err)
	}
	// bob's address matches nobody and JIT is off: no account.
	b = f.newBrowser(t)
	u, _ = authURL(cfg, newPKCE().challenge(), hint)
	if p := b.login(b.get(u), "bob", bobPassword); p.status != http.StatusForbidden {
		t.Fatalf("no account: %d", p.status)
	}
	requireFailedEvent(t, f, "upstream_no_account:corp")
}

// TestE2EFederationConcurrentFirstSignIn: two browsers finish bob's very
// first upstream sign-in at the same moment; both are signed in, as one
// and the same just-in-time user (the loser of the link race removes the
// user it created).
func TestE2EFederationConcurrentFirstSignIn(t *testing.T) {
	f := newFedEnv(t)
	cfg := f.config(f.web, oidc.ScopeOpenID, "email")
	const n = 4
	type flow struct {
		b        *browser
		callback string
		v        pkce
		nonce    string
	}
	flows := make([]flow, n)
	for i := range flows {
		b := f.newBrowser(t)
		follow := b.client.CheckRedirect
		b.client.CheckRedirect = func(req *http.Request, via []*http.Request) error {
			if strings.HasSuffix(req.URL.Path, "/callback") {
				return http.ErrUseLastResponse
			}
			return follow(req, via)
		}
		v, nonce := newPKCE(), oauth2.GenerateVerifier()
		u, _ := authURL(cfg, v.challenge(), oidc.Nonce(nonce), oauth2.SetAuthURLParam("idp_hint", "corp"))
		loc := b.login(b.get(u), "bob", bobPassword).location()
		if loc == nil {
			t.Fatal("no callback redirect")
		}
		flows[i] = flow{b, loc.String(), v, nonce}
	}
	codes := make([]string, n)
	errs := make(chan string, n)
	start := make(chan struct{})
	done := make(chan int, n)
	for i := range flows {
		go func() {
			<-start
			p := flows[i].b.get(flows[i].callback)
			loc := p.location()
			if loc == nil || loc.Query().Get("code") == "" {
				errs <- fmt.Sprintf("flow %d: %d %s", i, p.status, truncate(p.body))
			} else {
				codes[i] = loc.Query().Get("code")
			}
			done <- i
		}()
	}
	close(start)
	for range n {
		<-done
	}
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if t.Failed() {
		return
	}
	subjects := map[string]bool{}
	for i, code := range codes {
		subjects[f.verifyFederatedToken(t, cfg, code, flows[i].v, flows[i].nonce).Subject] = true
	}
	users, err := f.store.Users().ListUsers(t.Context(), tenantAcme)
	if err != nil {
		t.Fatal(err)
	}
	if len(subjects) != 1 || len(users) != 2 { // alice and the one JIT user
		t.Fatalf("subjects %v, %d users in acme; want one federated user", subjects, len(users))
	}
}

// TestE2EFederationAccountLinks: the account page of a user who signed in
// through connector corp lists the link; removing it is refused while it
// is the only way to sign in, allowed once the user has a password, and
// needs the page's CSRF token. Another user cannot remove it.
func TestE2EFederationAccountLinks(t *testing.T) {
	f := newFedEnv(t)
	ctx := t.Context()
	b := f.newBrowser(t)

	// Sign in for the account page through the connector.
	p := b.get(f.issuer + "/account")
	action, form := formByAction(t, p, "/upstream/corp/start")
	p = b.login(b.post(action, form), "bob", bobPassword)
	if p.status != http.StatusOK || p.url.Path != "/t/"+tenantAcme+"/account" {
		t.Fatalf("account page after the upstream sign-in: %d at %s:\n%s", p.status, p.url, truncate(p.body))
	}
	link, err := f.store.Connectors().UserLink(ctx, tenantAcme, "corp", f.bob.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Linked accounts", "Sign in with corp", f.bob.ID, `id="link-only"`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the account page lacks %q", want)
		}
	}
	if strings.Contains(p.body, "/account/links/remove") {
		t.Error("the only way to sign in is offered for removal")
	}
	token := csrfOf(t, p)
	unlink := url.Values{"connector": {"corp"}, "subject": {f.bob.ID}, "csrf_token": {token}}
	requireLinked := func(what string) {
		t.Helper()
		if _, err := f.store.Connectors().UserLink(ctx, tenantAcme, "corp", f.bob.ID); err != nil {
			t.Fatalf("%s: the link is gone: %v", what, err)
		}
	}

	// The only way to sign in (no password): refused, with a notice.
	p = b.post(f.issuer+"/account/links/remove", unlink)
	if p.status != http.StatusConflict || !strings.Contains(p.body, `id="link-error"`) || !strings.Contains(p.body, "only way you can sign in") {
		t.Fatalf("removing the last way to sign in: %d\n%s", p.status, truncate(p.body))
	}
	requireLinked("refused removal")
	events, err := f.store.AuthEvents().ListAuthEvents(ctx, tenantAcme, storage.AuthEventFilter{Event: storage.EventLinkRemoved, Limit: 10})
	if err != nil || len(events) != 1 || events[0].Outcome != "denied" || events[0].UserID != link.UserID {
		t.Fatalf("audit of the refused removal: %+v, %v", events, err)
	}

	// With a password (set as an administrator would, but keeping this
	// session) the link can go — but only with the page's token.
	if _, err := f.store.Users().UpdateUser(ctx, tenantAcme, link.UserID, func(u *storage.User) error {
		u.PasswordHash = "$argon2id$v=19$m=65536,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	p = b.get(f.issuer + "/account")
	if !strings.Contains(p.body, "/account/links/remove") || strings.Contains(p.body, `id="link-only"`) {
		t.Fatalf("with a password the link is not offered for removal:\n%s", truncate(p.body))
	}
	// Alice (another user of acme, another browser) cannot remove bob's
	// link with her own valid token.
	alice := f.newBrowser(t)
	ap := f.accountPage(t, alice)
	if !strings.Contains(ap.body, "Linked accounts") || !strings.Contains(ap.body, `id="no-links"`) {
		t.Errorf("alice's page (tenant with connectors, no links) lacks the empty section")
	}
	if p := alice.post(f.issuer+"/account/links/remove", url.Values{"connector": {"corp"}, "subject": {f.bob.ID},
		"csrf_token": {csrfOf(t, ap)}}); p.status != http.StatusBadRequest {
		t.Errorf("alice removing bob's link: %d, want 400", p.status)
	}
	requireLinked("another user's attempt")
	for name, tok := range map[string]string{"no token": "", "another session's token": csrfOf(t, ap), "garbage": "x"} {
		form := cloneValues(unlink)
		form.Del("csrf_token")
		if tok != "" {
			form.Set("csrf_token", tok)
		}
		if p := b.post(f.issuer+"/account/links/remove", form); p.status != http.StatusForbidden {
			t.Errorf("removal with %s: %d, want 403", name, p.status)
		}
		requireLinked(name)
	}
	// A cross-site post with the right token is refused too.
	req, err := http.NewRequest(http.MethodPost, f.issuer+"/account/links/remove", nil)
	if err != nil {
		t.Fatal(err)
	}
	setFormBody(req, unlink.Encode())
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if p := b.do(req); p.status != http.StatusForbidden {
		t.Errorf("cross-site removal with a valid token: %d, want 403", p.status)
	}
	requireLinked("cross-site post")

	p = b.post(f.issuer+"/account/links/remove", unlink)
	if p.status != http.StatusOK || p.url.Path != "/t/"+tenantAcme+"/account" || !strings.Contains(p.body, "linked account was removed") {
		t.Fatalf("removal with a password: %d at %s\n%s", p.status, p.url, truncate(p.body))
	}
	if _, err := f.store.Connectors().UserLink(ctx, tenantAcme, "corp", f.bob.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("the link after its removal: %v", err)
	}
	if strings.Contains(p.body, f.bob.ID) || !strings.Contains(p.body, `id="no-links"`) {
		t.Errorf("the page still lists the removed link")
	}
	events, err = f.store.AuthEvents().ListAuthEvents(ctx, tenantAcme, storage.AuthEventFilter{Event: storage.EventLinkRemoved, Limit: 10})
	if err != nil || !slices.ContainsFunc(events, func(ev *storage.AuthEvent) bool {
		return ev.Outcome == "success" && ev.Reason == "account:corp" && ev.UserID == link.UserID
	}) {
		t.Fatalf("audit of the removal: %+v, %v", events, err)
	}

	// A tenant without connectors, and a user without links: no section.
	for _, id := range []string{"corp", "corp3p"} {
		if err := f.reg.DeleteConnector(ctx, tenantAcme, id); err != nil {
			t.Fatal(err)
		}
	}
	if p := alice.get(f.issuer + "/account"); p.status != http.StatusOK || strings.Contains(p.body, "Linked accounts") {
		t.Errorf("no connectors, no links: the section is shown (%d)", p.status)
	}
}

// TestE2EFederationStateOtherTenant: acme's upstream state (with its
// cookie) delivered to tenant "up"'s callback for a connector of the same
// id is refused there, and does not consume acme's state: the real
// callback at acme still signs bob in.
func TestE2EFederationStateOtherTenant(t *testing.T) {
	f := newFedEnv(t)
	if _, err := f.reg.CreateConnector(t.Context(), tenantUp, registry.ConnectorSpec{
		ID: "corp", Type: storage.ConnectorOIDC, Issuer: f.issuerOf(tenantAcme), ClientID: "x",
	}); err != nil {
		t.Fatal(err)
	}
	cfg := f.config(f.web, oidc.ScopeOpenID, "email")
	b := f.newBrowser(t)
	follow := b.client.CheckRedirect
	b.client.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if strings.HasSuffix(req.URL.Path, "/callback") {
			return http.ErrUseLastResponse
		}
		return follow(req, via)
	}
	v, nonce := newPKCE(), oauth2.GenerateVerifier()
	u, _ := authURL(cfg, v.challenge(), oidc.Nonce(nonce), oauth2.SetAuthURLParam("idp_hint", "corp"))
	callback := b.login(b.get(u), "bob", bobPassword).location()
	if callback == nil || !strings.Contains(callback.Path, "/t/"+tenantAcme+"/") {
		t.Fatalf("no redirect to acme's callback: %v", callback)
	}
	stateCookie := b.cookie(callback.String(), "herald_upstream")
	other, err := url.Parse(strings.Replace(callback.String(), "/t/"+tenantAcme+"/", "/t/"+tenantUp+"/", 1))
	if err != nil {
		t.Fatal(err)
	}
	b.client.Jar.SetCookies(other, []*http.Cookie{{Name: "herald_upstream", Value: stateCookie, Path: "/t/" + tenantUp + "/"}})
	if got := b.get(other.String()); got.status != http.StatusBadRequest || !strings.Contains(got.body, "Sign-in expired") {
		t.Fatalf("acme's state at up's callback: %d\n%s", got.status, got.body)
	}
	// Refused on the state (up has no such state), not on a missing cookie.
	events, err := f.store.AuthEvents().ListAuthEvents(t.Context(), tenantUp,
		storage.AuthEventFilter{Event: storage.EventLoginFailed, Limit: 100})
	if err != nil || !slices.ContainsFunc(events, func(ev *storage.AuthEvent) bool { return ev.Reason == "upstream_state_unknown:corp" }) {
		t.Fatalf("up's audit trail lacks upstream_state_unknown:corp (%d events, %v)", len(events), err)
	}
	q := b.get(callback.String()).requireRedirectTo(t, cfg.RedirectURL)
	f.verifyFederatedToken(t, cfg, q.Get("code"), v, nonce)
}

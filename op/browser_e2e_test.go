package op_test

// End-to-end tests in a real headless Chromium (checklist J): the code flow
// with SSO and logout through the browser's own cookies, clickjacking
// protection of the login page, and pages that load without a CSP
// violation. Named TestBrowser*, not TestE2E*, so that the suite that runs
// TestE2E twice does not start Chromium twice.

import (
	"bytes"
	"fmt"
	"html"
	"image/png"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/herald-idp/herald/op/registry"
)

// browserClientID is the relying party of the browser tests.
const browserClientID = "rp-browser"

// registerRelyingParty registers rp at acme as a first-party confidential
// client with rp's /callback and /bye.
func (e *testEnv) registerRelyingParty(t *testing.T, rp *relyingParty) client {
	t.Helper()
	return e.createClient(t, tenantAcme, registry.ClientSpec{
		ID: browserClientID, Name: "Browser RP", FirstParty: true,
		RedirectURIs:           []string{rp.ts.URL + "/callback"},
		PostLogoutRedirectURIs: []string{rp.ts.URL + "/bye"},
		GrantTypes:             []string{registry.GrantAuthorizationCode, registry.GrantRefreshToken},
	})
}

// TestBrowserLoginCodeFlow: a person signs in through Herald's login form
// in Chromium; the relying party gets a code with state and iss (RFC 9207),
// redeems it with PKCE and verifies the ID token. A second authorization is
// answered from the session cookie without the login page (SSO), and after
// RP-initiated logout prompt=none fails with login_required.
func TestBrowserLoginCodeFlow(t *testing.T) {
	e := newTestServer(t)
	rp := newRelyingParty(t)
	rpClient := e.registerRelyingParty(t, rp)
	provider, _ := e.provider(t)
	verifier := provider.Verifier(&oidc.Config{ClientID: rpClient.id})
	cfg := e.config(rpClient, oidc.ScopeOpenID, "profile", "email")
	b := newChromium(t)

	// 1. Sign in through the form.
	v, nonce := newPKCE(), oauth2.GenerateVerifier()
	authorize, state := authURL(cfg, v.challenge(), oidc.Nonce(nonce))
	b.do("open the authorize URL", chromedp.Navigate(authorize),
		chromedp.WaitVisible(chromedp.CSS(`input[name=password]`)))
	if loc := b.location(); loc.Path != "/t/"+tenantAcme+"/login" {
		t.Fatalf("authorize showed %s, want Herald's login page", loc)
	}
	b.do("sign in",
		chromedp.SendKeys(chromedp.CSS(`input[name=username]`), "alice"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), alicePassword),
		chromedp.Click(chromedp.CSS(`form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("rp-callback")),
	)
	q := rp.lastCallback(t)
	requireCodeResponse(t, q, state, e.issuer)
	requireSessionCookie(t, b, e.issuer)
	tok, err := cfg.Exchange(e.ctx(t), q.Get("code"), v.verify())
	if err != nil {
		t.Fatalf("exchange the code: %v", err)
	}
	rawID, _ := tok.Extra("id_token").(string)
	idt, err := verifier.Verify(e.ctx(t), rawID)
	if err != nil {
		t.Fatalf("verify the ID token: %v", err)
	}
	if idt.Nonce != nonce || idt.Subject != e.alice.ID {
		t.Fatalf("ID token nonce = %q sub = %q, want %q and alice %q", idt.Nonce, idt.Subject, nonce, e.alice.ID)
	}

	// 2. SSO: Chromium's session cookie answers a fresh request, no login page.
	b.takeDocuments()
	v2, nonce2 := newPKCE(), oauth2.GenerateVerifier()
	authorize, state = authURL(cfg, v2.challenge(), oidc.Nonce(nonce2))
	b.do("authorize again", chromedp.Navigate(authorize), chromedp.WaitVisible(chromedp.ID("rp-callback")))
	docs := b.takeDocuments()
	if len(docs) < 2 {
		t.Fatalf("documents of the second authorization: %q, want authorize and callback", docs)
	}
	for _, doc := range docs {
		if u, err := url.Parse(doc); err != nil || u.Path == "/t/"+tenantAcme+"/login" {
			t.Errorf("the second authorization loaded %s, want SSO without the login page", doc)
		}
	}
	q = rp.lastCallback(t)
	requireCodeResponse(t, q, state, e.issuer)
	tok2, err := cfg.Exchange(e.ctx(t), q.Get("code"), v2.verify())
	if err != nil {
		t.Fatalf("exchange the SSO code: %v", err)
	}
	idt2, err := verifier.Verify(e.ctx(t), tok2.Extra("id_token").(string))
	if err != nil {
		t.Fatalf("verify the SSO ID token: %v", err)
	}
	if idt2.Nonce != nonce2 || idt2.Subject != e.alice.ID {
		t.Fatalf("SSO ID token nonce = %q sub = %q, want %q and alice", idt2.Nonce, idt2.Subject, nonce2)
	}

	// 3. RP-initiated logout, then prompt=none must not find a session.
	logoutState := oauth2.GenerateVerifier()[:16]
	endSession := e.issuer + "/end_session?" + url.Values{
		"id_token_hint":            {rawID},
		"post_logout_redirect_uri": {rp.ts.URL + "/bye"},
		"state":                    {logoutState},
	}.Encode()
	b.do("log out", chromedp.Navigate(endSession), chromedp.WaitVisible(chromedp.ID("rp-bye")))
	if got := rp.lastBye(t).Get("state"); got != logoutState {
		t.Errorf("post-logout state = %q, want %q", got, logoutState)
	}
	authorize, state = authURL(cfg, newPKCE().challenge(), oauth2PromptNone())
	b.do("prompt=none after logout", chromedp.Navigate(authorize), chromedp.WaitVisible(chromedp.ID("rp-callback")))
	q = rp.lastCallback(t)
	if q.Get("error") != "login_required" || q.Get("code") != "" {
		t.Fatalf("prompt=none after logout: %v, want error=login_required and no code", q)
	}
	if q.Get("state") != state || q.Get("iss") != e.issuer {
		t.Errorf("prompt=none error: state = %q iss = %q, want %q and %q", q.Get("state"), q.Get("iss"), state, e.issuer)
	}
}

// sessionCookieName is Herald's session cookie (op.sessionCookie).
const sessionCookieName = "herald_session"

// requireSessionCookie asserts the session cookie as Chromium stored it
// (checklist J1): out of reach of scripts, and not sent on cross-site
// subrequests.
func requireSessionCookie(t *testing.T, b *chromium, issuer string) {
	t.Helper()
	res, err := chromedp.Call(b.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{issuer + "/authorize"}})
	if err != nil {
		t.Fatalf("read cookies: %v", err)
	}
	for _, c := range res.Cookies {
		if c.Name != sessionCookieName {
			continue
		}
		if !c.HTTPOnly || c.SameSite != network.CookieSameSiteLax {
			t.Errorf("session cookie HttpOnly = %v SameSite = %q, want HttpOnly and Lax (J1)", c.HTTPOnly, c.SameSite)
		}
		return
	}
	t.Fatalf("Chromium holds no %s cookie for %s after the login", sessionCookieName, issuer)
}

// requireCodeResponse asserts a successful authorization response.
func requireCodeResponse(t *testing.T, q url.Values, state, issuer string) {
	t.Helper()
	if q.Get("error") != "" {
		t.Fatalf("authorization failed: %s (%s)", q.Get("error"), q.Get("error_description"))
	}
	if q.Get("code") == "" || q.Get("state") != state || q.Get("iss") != issuer {
		t.Fatalf("callback code = %q state = %q iss = %q, want a code, state %q and iss %q (RFC 9207)",
			q.Get("code"), q.Get("state"), q.Get("iss"), state, issuer)
	}
}

// TestBrowserLoginPageCannotBeFramed (checklist J5, RFC 9700 §4.16): a page
// of another site frames Herald's login page; Chromium must refuse to
// render it. The same page also frames a prompt=none authorization, which
// ends on the relying party and must render: that proves the frame check
// sees cross-site frames at all, and that silent renewal still works.
func TestBrowserLoginPageCannotBeFramed(t *testing.T) {
	e := newTestServer(t)
	rp := newRelyingParty(t)
	rpClient := e.registerRelyingParty(t, rp)
	cfg := e.config(rpClient, oidc.ScopeOpenID)

	// A pending auth request gives a real login page URL.
	authorize, _ := authURL(cfg, newPKCE().challenge())
	loginPage := e.newBrowser(t).get(authorize)
	if !loginPage.isLoginPage() {
		t.Fatalf("authorize did not lead to the login page: %d %s", loginPage.status, loginPage.url)
	}
	loginURL := loginPage.url.String()
	silent, _ := authURL(cfg, newPKCE().challenge(), oauth2PromptNone())

	attacker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html><head><meta charset="utf-8"><title>attacker</title></head><body>`+
			`<iframe id="login" src="%s" width="600" height="400"></iframe>`+
			`<iframe id="silent" src="%s" width="600" height="100"></iframe></body></html>`,
			html.EscapeString(loginURL), html.EscapeString(silent))
	}))
	t.Cleanup(attacker.Close)
	// localhost vs Herald's 127.0.0.1: another origin and another site.
	attackerURL := strings.Replace(attacker.URL, "127.0.0.1", "localhost", 1)

	b := newChromium(t)
	b.do("open the attacker page", chromedp.Navigate(attackerURL))
	frames := b.loadedFrames(2)
	sawRP := false
	for _, f := range frames {
		if f.HasPassword || strings.HasPrefix(f.Location, e.ts.URL) {
			t.Errorf("frame %s rendered %s (password field: %v): Herald's login page can be framed (J5)",
				f.URL, f.Location, f.HasPassword)
		}
		sawRP = sawRP || f.IsRP
	}
	if !sawRP {
		t.Fatalf("the prompt=none frame did not render the relying party: %+v\nconsole: %v", frames, b.consoleEntries())
	}
	if t.Failed() {
		t.Logf("frames: %+v\nconsole: %v", frames, b.consoleEntries())
	}
}

// TestBrowserNoScriptsAndCSPClean (checklist J7): the login and consent
// pages run no script and load their stylesheet under Herald's CSP without
// a single violation or console error, and they render.
func TestBrowserNoScriptsAndCSPClean(t *testing.T) {
	e := newTestServer(t)
	b := newChromium(t)
	// The third-party client gets the consent page after the login; its
	// redirect URI is never reached, the test stops at the consent page.
	cfg := e.config(e.third, oidc.ScopeOpenID, "profile", "email")
	authorize, _ := authURL(cfg, newPKCE().challenge())

	b.do("open the login page", chromedp.Navigate(authorize),
		chromedp.WaitVisible(chromedp.CSS(`input[name=password]`)))
	requireStyledWithoutScripts(t, b, "login page")
	shot, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100)) // 100: PNG
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	requirePNG(t, shot, filepath.Join(t.TempDir(), "login.png"))

	b.do("sign in",
		chromedp.SendKeys(chromedp.CSS(`input[name=username]`), "alice"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), alicePassword),
		chromedp.Click(chromedp.CSS(`form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`button[name=decision][value=allow]`)),
	)
	if loc := b.location(); loc.Path != "/t/"+tenantAcme+"/consent" {
		t.Fatalf("after the login the browser shows %s, want the consent page", loc)
	}
	requireStyledWithoutScripts(t, b, "consent page")

	for _, entry := range b.consoleEntries() {
		switch {
		case entry.serious():
			t.Errorf("console %s", entry)
		default:
			t.Logf("console %s", entry)
		}
	}
}

// requireStyledWithoutScripts asserts that the current page applied its
// stylesheet (style-src 'self' lets it load) and contains no script.
func requireStyledWithoutScripts(t *testing.T, b *chromium, what string) {
	t.Helper()
	if n := eval[int](b, `document.scripts.length`); n != 0 {
		t.Errorf("%s has %d <script> elements, want none", what, n)
	}
	// The rules of a stylesheet that CSP blocked cannot be read (cssRules
	// throws a SecurityError): count the rules of the applied sheets.
	rules := eval[int](b, `Array.from(document.styleSheets).reduce((n, s) => {
		try { return n + s.cssRules.length } catch (e) { return n }
	}, 0)`)
	if rules == 0 {
		t.Errorf("%s applied no stylesheet rules: was herald.css blocked?", what)
	}
}

// requirePNG asserts that data is a non-empty PNG image and keeps it at path
// for a person who wants to look at it (go test -v prints the path).
func requirePNG(t *testing.T, data []byte, path string) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("screenshot is not a PNG (%d bytes): %v", len(data), err)
	}
	if r := img.Bounds(); r.Dx() == 0 || r.Dy() == 0 {
		t.Fatalf("screenshot is empty: %v", r)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %dx%d: %s", img.Bounds().Dx(), img.Bounds().Dy(), path)
}

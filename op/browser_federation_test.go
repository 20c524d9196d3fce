package op_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// TestBrowserFederation: in real Chromium, a person clicks acme's
// "Sign in with corp" button, signs in at tenant "up" (the upstream
// provider, same Herald, loopback) and lands at the relying party with a
// code; the ID token says amr fed, idp corp. The pages of both hops load
// without a CSP violation or console error. Then idp_hint skips acme's
// login page, and up's own SSO session answers without any form. Last,
// refusing consent upstream shows acme's page whose link tells the
// relying party access_denied.
func TestBrowserFederation(t *testing.T) {
	f := newFedEnv(t)
	rp := newRelyingParty(t)
	rpClient := f.registerRelyingParty(t, rp)
	cfg := f.config(rpClient, oidc.ScopeOpenID, "email")
	b := newChromium(t)

	v, nonce := newPKCE(), oauth2.GenerateVerifier()
	authorize, state := authURL(cfg, v.challenge(), oidc.Nonce(nonce))
	b.do("open the authorize URL", chromedp.Navigate(authorize),
		chromedp.WaitVisible(chromedp.CSS(`form.connector button`)))
	if loc := b.location(); loc.Path != "/t/"+tenantAcme+"/login" {
		t.Fatalf("authorize showed %s, want acme's login page", loc)
	}
	federationScreenshots(b, "federation-login")
	b.do("choose the connector", chromedp.Click(chromedp.CSS(`form.connector button`)),
		chromedp.WaitVisible(chromedp.CSS(`input[name=password]`)))
	if loc := b.location(); loc.Path != "/t/"+tenantUp+"/login" {
		t.Fatalf("the button led to %s, want up's login page", loc)
	}
	b.do("sign in upstream",
		chromedp.SendKeys(chromedp.CSS(`input[name=username]`), "bob"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), bobPassword),
		chromedp.Click(chromedp.CSS(`form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("rp-callback")),
	)
	q := rp.lastCallback(t)
	requireCodeResponse(t, q, state, f.issuer)
	cfg.RedirectURL = rpClient.redirect
	first := f.verifyFederatedToken(t, cfg, q.Get("code"), v, nonce)

	// idp_hint: acme's login page is skipped; up's session answers, so no
	// form at all.
	b.takeDocuments()
	v2, nonce2 := newPKCE(), oauth2.GenerateVerifier()
	// A fresh acme sign-in is forced with prompt=login: the SSO session of
	// acme would otherwise answer before the hint is looked at.
	authorize, state = authURL(cfg, v2.challenge(), oidc.Nonce(nonce2),
		oauth2.SetAuthURLParam("idp_hint", "corp"), oauth2.SetAuthURLParam("prompt", "login"))
	b.do("authorize with idp_hint", chromedp.Navigate(authorize), chromedp.WaitVisible(chromedp.ID("rp-callback")))
	for _, doc := range b.takeDocuments() {
		if strings.Contains(doc, "/t/"+tenantAcme+"/login") || strings.Contains(doc, "/t/"+tenantUp+"/login") {
			t.Errorf("idp_hint with an upstream session loaded a login page: %s", doc)
		}
	}
	q = rp.lastCallback(t)
	requireCodeResponse(t, q, state, f.issuer)
	second := f.verifyFederatedToken(t, cfg, q.Get("code"), v2, nonce2)
	if second.Subject != first.Subject {
		t.Fatalf("second sign-in is %s, want %s", second.Subject, first.Subject)
	}

	// Refusing consent upstream: acme's page says so, and its link tells
	// the relying party access_denied.
	authorize, state = authURL(cfg, newPKCE().challenge(),
		oauth2.SetAuthURLParam("idp_hint", "corp3p"), oauth2.SetAuthURLParam("prompt", "login"))
	b.do("authorize with idp_hint=corp3p", chromedp.Navigate(authorize),
		chromedp.WaitVisible(chromedp.CSS(`button[name=decision][value=deny]`)))
	b.do("deny upstream consent", chromedp.Click(chromedp.CSS(`button[name=decision][value=deny]`)),
		chromedp.WaitVisible(chromedp.ID("return-link")))
	if loc := b.location(); !strings.HasPrefix(loc.Path, "/t/"+tenantAcme+"/upstream/corp3p/callback") {
		t.Fatalf("after the refusal the browser is at %s", loc)
	}
	federationScreenshots(b, "federation-denied")
	b.do("return to the application", chromedp.Click(chromedp.ID("return-link")), chromedp.WaitVisible(chromedp.ID("rp-callback")))
	q = rp.lastCallback(t)
	if q.Get("error") != "access_denied" || q.Get("state") != state || q.Get("iss") != f.issuer {
		t.Fatalf("the relying party heard %v", q)
	}

	// Chromium logs the refusal page's 403 status; nothing else may appear.
	expected := func(e consoleEntry) bool {
		return strings.Contains(e.text, "status of 403") && strings.Contains(e.text, "/upstream/corp3p/callback")
	}
	if i := slices.IndexFunc(b.consoleEntries(), func(e consoleEntry) bool { return e.serious() && !expected(e) }); i >= 0 {
		t.Errorf("console: %v", b.consoleEntries())
	}
}

// federationScreenshots keeps the page b shows at desktop width and at
// 390 px (in HERALD_SCREENSHOT_DIR when set), so that the connector buttons
// and the upstream failure page are looked at like every other page.
func federationScreenshots(b *chromium, name string) {
	b.t.Helper()
	screenshot(b, name+"-desktop.png", 1280, 900)
	screenshot(b, name+"-mobile.png", 390, 844)
	b.do("restore the viewport", chromedp.EmulateViewport(1280, 900))
}

package op_test

// Issue 12 in a real headless Chromium: the account page. Chromium signs
// in through the account page itself, gives consent to an app, and then,
// on the page, ends another session, changes the password (which ends a
// further session and its refresh tokens) and withdraws the app — each
// checked against the token endpoint, not only the page's word.

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/herald-idp/herald/op/registry"
)

// screenshotDirEnv names a directory where TestBrowserAccount keeps its
// screenshots (default: the test's temporary directory).
const screenshotDirEnv = "HERALD_SCREENSHOT_DIR"

// accountAppID is the third-party app of TestBrowserAccount: it asks for
// consent, so the account page lists it.
const accountAppID = "browser-app"

// openAccount navigates b to the account page (no notice shown) and waits
// for it.
func openAccount(b *chromium, issuer string) {
	b.t.Helper()
	b.do("open the account page", chromedp.Navigate(issuer+"/account"),
		chromedp.WaitVisible(chromedp.ID("account-username")))
}

// accountNotice is the confirmation the account page shows after a change.
func accountNotice(b *chromium) string {
	b.t.Helper()
	b.do("wait for the notice", chromedp.WaitVisible(chromedp.ID("account-notice")))
	return eval[string](b, `document.getElementById('account-notice').textContent`)
}

// screenshot keeps a full-page PNG of what b shows at width×height.
func screenshot(b *chromium, name string, width, height int64) {
	b.t.Helper()
	dir := os.Getenv(screenshotDirEnv)
	if dir == "" {
		dir = b.t.TempDir()
	}
	b.do("set the viewport", chromedp.EmulateViewport(width, height))
	shot, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	requirePNG(b.t, shot, filepath.Join(dir, name))
}

func TestBrowserAccount(t *testing.T) {
	e := newTestServer(t)
	rp := newRelyingParty(t)
	app := e.createClient(t, tenantAcme, registry.ClientSpec{
		ID: accountAppID, Name: "Browser App", RedirectURIs: []string{rp.ts.URL + "/callback"},
		GrantTypes: []string{registry.GrantAuthorizationCode, registry.GrantRefreshToken},
	})
	b := newChromium(t)

	// 1. The account page without a session: sign in, come back to it.
	b.do("open the account page", chromedp.Navigate(e.issuer+"/account"),
		chromedp.WaitVisible(chromedp.CSS(`input[name=password]`)))
	if loc := b.location(); loc.Path != "/t/"+tenantAcme+"/login" {
		t.Fatalf("the account page without a session showed %s, want the login page", loc)
	}
	if lead := eval[string](b, `document.querySelector('.lead').textContent`); !strings.Contains(lead, "your account") {
		t.Errorf("the login page says %q, want it to name the account", lead)
	}
	b.do("sign in",
		chromedp.SendKeys(chromedp.CSS(`input[name=username]`), "alice"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), alicePassword),
		chromedp.Click(chromedp.CSS(`form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("account-username")),
	)
	if loc := b.location(); loc.String() != e.issuer+"/account" {
		t.Fatalf("after signing in the browser shows %s, want %s/account", loc, e.issuer)
	}
	requireStyledWithoutScripts(t, b, "account page")

	// 2. Consent to the app in Chromium; it gets an offline refresh token.
	cfg := e.config(app, oidc.ScopeOpenID, "email", oidc.ScopeOfflineAccess)
	v := newPKCE()
	authorize, _ := authURL(cfg, v.challenge())
	b.do("authorize the app", chromedp.Navigate(authorize),
		chromedp.WaitVisible(chromedp.CSS(`button[name=decision][value=allow]`)))
	b.do("allow", chromedp.Click(chromedp.CSS(`button[name=decision][value=allow]`)),
		chromedp.WaitVisible(chromedp.ID("rp-callback")))
	appTok, err := cfg.Exchange(e.ctx(t), rp.lastCallback(t).Get("code"), v.verify())
	if err != nil {
		t.Fatalf("exchange the app's code: %v", err)
	}
	appRT := rotate(t, e, app, appTok.RefreshToken)

	// 3. Another device signs in; the page lists it and ends it.
	other := e.newBrowser(t)
	otherRT := rotate(t, e, e.spa, e.tokens(t, other, e.spa, oidc.ScopeOpenID).RefreshToken)
	openAccount(b, e.issuer)
	if n := eval[int](b, `document.querySelectorAll('#sessions .session').length`); n != 2 {
		t.Fatalf("the page lists %d sessions, want 2", n)
	}
	if n := eval[int](b, `document.querySelectorAll('#sessions .session-current').length`); n != 1 {
		t.Errorf("%d sessions marked as this device, want 1", n)
	}
	if apps := eval[string](b, `document.getElementById('apps').textContent`); !strings.Contains(apps, "Browser App") {
		t.Errorf("the apps list is %q, want Browser App in it", apps)
	}
	for _, size := range []struct {
		name string
		w, h int64
	}{{"account-desktop.png", 1280, 900}, {"account-mobile.png", 390, 844}} {
		screenshot(b, size.name, size.w, size.h)
	}
	b.do("reset the viewport", chromedp.EmulateViewport(1280, 900))
	b.do("end the other session", chromedp.Click(chromedp.CSS(`#sessions .session:not(.session-current) button`)))
	if got := accountNotice(b); !strings.Contains(got, "session was signed out") {
		t.Errorf("notice after ending a session: %q", got)
	}
	if n := eval[int](b, `document.querySelectorAll('#sessions .session').length`); n != 1 {
		t.Errorf("after ending one, %d sessions are listed, want 1", n)
	}
	e.refresh(t, e.spa, otherRT).requireError(t, http.StatusBadRequest, "invalid_grant")
	if p := other.get(e.issuer + "/account"); !p.isLoginPage() {
		t.Errorf("the ended session still reaches the account page: %d", p.status)
	}

	// 4. A password change on the page ends a further session and its
	// refresh tokens; Chromium's session and the app's consent stay.
	third := e.newBrowser(t)
	thirdRT := rotate(t, e, e.spa, e.tokens(t, third, e.spa, oidc.ScopeOpenID).RefreshToken)
	const newPassword = "quiet harbour lantern 58"
	openAccount(b, e.issuer)
	b.do("change the password",
		chromedp.SendKeys(chromedp.ID("current_password"), alicePassword),
		chromedp.SendKeys(chromedp.ID("new_password"), newPassword),
		chromedp.SendKeys(chromedp.ID("confirm_password"), newPassword),
		chromedp.Click(chromedp.ID("change-password")),
	)
	if got := accountNotice(b); !strings.Contains(got, "password was changed") {
		t.Errorf("notice after the password change: %q", got)
	}
	e.refresh(t, e.spa, thirdRT).requireError(t, http.StatusBadRequest, "invalid_grant")
	if p := third.get(e.issuer + "/account"); !p.isLoginPage() {
		t.Errorf("the session of another device survived the password change: %d", p.status)
	}
	// The app's grant is offline_access, bound to no session: the password
	// change revoked it too.
	e.refresh(t, app, appRT).requireError(t, http.StatusBadRequest, "invalid_grant")

	// 5. The app, authorized again (consent is remembered), is withdrawn
	// from the page: its new refresh token dies, its consent is gone.
	v = newPKCE()
	authorize, _ = authURL(cfg, v.challenge())
	b.do("authorize the app again", chromedp.Navigate(authorize), chromedp.WaitVisible(chromedp.ID("rp-callback")))
	appTok, err = cfg.Exchange(e.ctx(t), rp.lastCallback(t).Get("code"), v.verify())
	if err != nil {
		t.Fatalf("exchange the app's second code: %v", err)
	}
	appRT = rotate(t, e, app, appTok.RefreshToken)
	openAccount(b, e.issuer)
	b.do("remove the app", chromedp.Click(chromedp.CSS(`#apps .app button`)))
	if got := accountNotice(b); !strings.Contains(got, "no longer has access") {
		t.Errorf("notice after withdrawing: %q", got)
	}
	if n := eval[int](b, `document.querySelectorAll('#apps .app').length`); n != 0 {
		t.Errorf("%d apps still listed", n)
	}
	e.refresh(t, app, appRT).requireError(t, http.StatusBadRequest, "invalid_grant")
	b.do("authorize the app once more", chromedp.Navigate(authorize),
		chromedp.WaitVisible(chromedp.CSS(`button[name=decision][value=allow]`)))

	for _, entry := range b.consoleEntries() {
		if entry.serious() {
			t.Errorf("console %s", entry)
		}
	}
}

package op_test

import (
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/herald-idp/herald/op/registry"
)

// brandAccent and its rgb() form, as getComputedStyle reports it.
const (
	brandAccent    = "#0f766e"
	brandAccentRGB = "rgb(15, 118, 110)"
)

// brandStyle is what a page's branded elements computed in Chromium.
type brandStyle struct {
	Button     string // background of the primary button ("" if none)
	ButtonText string
	CardTop    string // border-top colour of the card
	LogoLoaded bool   // the logo <img> loaded and has a size
	Heading    string
	RequestID  string
}

const brandStyleJS = `(() => {
	const button = document.querySelector('.button-primary');
	const logo = document.querySelector('img.brand-logo');
	const id = document.querySelector('.request-id');
	return {
		Button: button ? getComputedStyle(button).backgroundColor : '',
		ButtonText: button ? getComputedStyle(button).color : '',
		CardTop: getComputedStyle(document.querySelector('.card')).borderTopColor,
		LogoLoaded: !!logo && logo.complete && logo.naturalWidth > 0,
		Heading: document.querySelector('h1').textContent,
		RequestID: id ? id.textContent : '',
	};
})()`

// TestBrowserBranding: in real Chromium, under the pages' strict CSP, a
// tenant's accent colour reaches the login button and the card's top bar
// through its stylesheet, and its logo (a path on Herald's host) loads.
// Error pages carry the same look; an unknown tenant's page is Herald's
// own. No CSP violation is reported anywhere.
func TestBrowserBranding(t *testing.T) {
	e := newTestServer(t)
	accent, logo := brandAccent, "/static/herald.svg"
	if _, err := e.reg.UpdateTenant(e.ctx(t), tenantAcme, registry.TenantUpdate{
		Settings: &registry.SettingsUpdate{AccentColor: &accent, LogoURL: &logo}}); err != nil {
		t.Fatal(err)
	}
	b := newChromium(t)
	authorize, _ := authURL(e.config(e.web, "openid"), newPKCE().challenge())

	b.do("open the login page", chromedp.Navigate(authorize),
		chromedp.WaitVisible(chromedp.CSS(`input[name=password]`)))
	requireStyledWithoutScripts(t, b, "login page")
	got := eval[brandStyle](b, brandStyleJS)
	if got.Button != brandAccentRGB || got.CardTop != brandAccentRGB || got.ButtonText != "rgb(255, 255, 255)" {
		t.Errorf("login page: button %s on %s, card top %s; want white on %s", got.ButtonText, got.Button, got.CardTop, brandAccentRGB)
	}
	if !got.LogoLoaded {
		t.Error("login page: the logo did not load")
	}
	shot, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	requirePNG(t, shot, filepath.Join(t.TempDir(), "branded-login.png"))

	// An error page of the tenant (a redirect_uri it never registered).
	q := url.Values{"client_id": {e.web.id}, "redirect_uri": {"https://evil.example/cb"}, "response_type": {"code"}}
	b.do("open an error page", chromedp.Navigate(e.issuer+"/authorize?"+q.Encode()),
		chromedp.WaitVisible(chromedp.CSS(`.rejected-value`)))
	requireStyledWithoutScripts(t, b, "error page")
	got = eval[brandStyle](b, brandStyleJS)
	if got.CardTop != brandAccentRGB || !got.LogoLoaded || got.RequestID == "" || got.Heading != "Invalid redirect URI" {
		t.Errorf("error page: %+v, want the tenant's look, the heading and a request ID", got)
	}

	// An unknown tenant: Chromium's Accept prefers HTML, so a page.
	b.do("open an unknown tenant", chromedp.Navigate(e.ts.URL+"/t/nope/authorize"),
		chromedp.WaitVisible(chromedp.CSS(`.request-id`)))
	requireStyledWithoutScripts(t, b, "unknown-tenant page")
	got = eval[brandStyle](b, brandStyleJS)
	if got.Heading != "Unknown sign-in service" || got.CardTop == brandAccentRGB || got.LogoLoaded {
		t.Errorf("unknown-tenant page: %+v, want Herald's own look", got)
	}

	for _, entry := range b.consoleEntries() {
		// The error pages' 4xx statuses are logged as failed loads; CSP
		// reports and script errors are what must not happen.
		if strings.Contains(entry.text, "Content Security Policy") || strings.Contains(entry.text, "Refused to") ||
			strings.HasPrefix(entry.text, "exception:") {
			t.Errorf("console %s", entry)
		} else {
			t.Logf("console %s", entry)
		}
	}
}

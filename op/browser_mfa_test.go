package op_test

// Issue 12's second factor in a real headless Chromium, from the account
// page: set up TOTP (the test reads the secret from the page and computes
// codes with pquerna/otp, as an authenticator app would), step-up through
// acr_values in the password-only session, then sign-ins with password and
// code (amr contains "otp"), a replayed code refused, a recovery code that
// works once.

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"golang.org/x/oauth2"
)

// acrMFA is Herald's multi-factor class (docs/mfa.md).
const acrMFA = "urn:herald:acr:mfa"

// authenticator computes TOTP codes for a secret, never the same time step
// twice, the way a careful authenticator app would be used.
type authenticator struct {
	t      *testing.T
	secret string // base32, as shown on the set-up page
	last   int64  // the last time step used
}

// next returns a code of a time step after the last one used that the
// server still accepts (one step of skew either way): the previous step
// unless it is about to leave the window, otherwise the current or the
// next one, waiting for the clock only when all three are used.
func (a *authenticator) next() string {
	a.t.Helper()
	for {
		now := time.Now()
		cur := now.Unix() / 30
		step := max(a.last+1, cur-1)
		if step == cur-1 && 30-now.Unix()%30 < 10 {
			step = cur // cur-1 leaves the window soon (a loaded machine is slow)
		}
		if step <= cur+1 {
			a.last = step
			code, err := totp.GenerateCodeCustom(a.secret, time.Unix(step*30, 0),
				totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
			if err != nil {
				a.t.Fatalf("compute a TOTP code: %v", err)
			}
			return code
		}
		time.Sleep(time.Until(time.Unix((cur+1)*30, 0)) + 100*time.Millisecond)
	}
}

// idClaims are the ID token claims about how the user authenticated.
type idClaims struct {
	ACR string   `json:"acr"`
	AMR []string `json:"amr"`
}

func TestBrowserAccountSecondFactor(t *testing.T) {
	e := newTestServer(t)
	rp := newRelyingParty(t)
	rpClient := e.registerRelyingParty(t, rp)
	provider, _ := e.provider(t)
	verifier := provider.Verifier(&oidc.Config{ClientID: rpClient.id})
	cfg := e.config(rpClient, oidc.ScopeOpenID)
	b := newChromium(t)

	// authorize runs an authorization in Chromium up to the code page (the
	// password is entered when the login form appears).
	authorize := func(what string, opts ...oauth2.AuthCodeOption) *pkce {
		t.Helper()
		v := newPKCE()
		u, _ := authURL(cfg, append(opts, v.challenge())...)
		b.do(what, chromedp.Navigate(u),
			chromedp.WaitVisible(chromedp.CSS(`input[name=password], input[name=otp], #rp-callback`)))
		if eval[bool](b, `document.querySelector('input[name=password]') !== null`) {
			b.do(what+": password",
				chromedp.SendKeys(chromedp.CSS(`input[name=username]`), "alice"),
				chromedp.SendKeys(chromedp.CSS(`input[name=password]`), alicePassword),
				chromedp.Click(chromedp.CSS(`form button[type=submit]`)),
				chromedp.WaitVisible(chromedp.CSS(`input[name=otp], #rp-callback`)))
		}
		return &v
	}
	onCodePage := func() bool {
		return eval[bool](b, `document.querySelector('input[name=otp]') !== null`)
	}
	enterCode := func(what, code string) {
		t.Helper()
		// The page before the post is marked, so that the wait below
		// cannot be answered by its own error message.
		eval[bool](b, `(document.body.dataset.stale = '1') === '1'`)
		b.do(what,
			chromedp.SendKeys(chromedp.CSS(`input[name=otp]`), code),
			chromedp.Click(chromedp.CSS(`form button[type=submit]`)),
			chromedp.WaitNotPresent(chromedp.CSS(`body[data-stale]`)),
			chromedp.WaitVisible(chromedp.CSS(`#rp-callback, #otp-error, #account-username`)))
	}
	// tokenClaims redeems the callback's code and returns the ID token's
	// acr and amr.
	tokenClaims := func(v *pkce) idClaims {
		t.Helper()
		q := rp.lastCallback(t)
		if q.Get("error") != "" {
			t.Fatalf("authorization failed: %v", q)
		}
		tok, err := cfg.Exchange(e.ctx(t), q.Get("code"), v.verify())
		if err != nil {
			t.Fatalf("exchange: %v", err)
		}
		idt, err := verifier.Verify(e.ctx(t), tok.Extra("id_token").(string))
		if err != nil {
			t.Fatalf("verify the ID token: %v", err)
		}
		var c idClaims
		if err := idt.Claims(&c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	signOut := func() {
		t.Helper()
		openAccount(b, e.issuer)
		b.do("sign out", chromedp.Click(chromedp.ID("sign-out")),
			chromedp.WaitNotPresent(chromedp.ID("account-username")),
			chromedp.WaitVisible(chromedp.CSS(`h1`)))
		if h1 := eval[string](b, `document.querySelector('h1').textContent`); !strings.Contains(h1, "signed out") {
			t.Fatalf("signing out showed %s: %q", b.location(), h1)
		}
	}

	// 1. Sign in through the account page (password only) and follow its
	// link to the second factor.
	b.do("open the account page", chromedp.Navigate(e.issuer+"/account"),
		chromedp.WaitVisible(chromedp.CSS(`input[name=password]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=username]`), "alice"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), alicePassword),
		chromedp.Click(chromedp.CSS(`form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("mfa-link")))
	if got := eval[string](b, `document.getElementById('mfa-status').textContent`); got != "Off" {
		t.Errorf("second factor shown as %q before set-up, want Off", got)
	}
	b.do("follow the link", chromedp.Click(chromedp.ID("mfa-link")),
		chromedp.WaitVisible(chromedp.CSS(`form[action$="/account/mfa/setup"] button`)))

	// 2. Set up: the page shows the secret and a QR code Herald rendered.
	b.do("start the set-up", chromedp.Click(chromedp.CSS(`form[action$="/account/mfa/setup"] button`)),
		chromedp.WaitVisible(chromedp.ID("totp-secret")))
	requireStyledWithoutScripts(t, b, "set-up page")
	secret := strings.ReplaceAll(eval[string](b, `document.getElementById('totp-secret').textContent`), " ", "")
	if len(secret) < 26 {
		t.Fatalf("secret on the page: %q", secret)
	}
	qr := eval[string](b, `(() => { const i = document.getElementById('totp-qr'); return i.complete && i.naturalWidth > 0 ? new URL(i.src, location.href).origin : 'not loaded' })()`)
	if qr != "null" && !strings.HasPrefix(e.issuer, qr) { // data: URLs have the origin "null"
		t.Errorf("the QR code comes from %q, want Herald itself", qr)
	}
	if uri := eval[string](b, `document.getElementById('totp-uri').textContent`); !strings.HasPrefix(uri, "otpauth://totp/") || !strings.Contains(uri, "secret="+secret) {
		t.Errorf("set-up URI %q does not carry the secret", uri)
	}
	screenshot(b, "mfa-setup-desktop.png", 1280, 900)
	screenshot(b, "mfa-setup-mobile.png", 390, 844)
	b.do("reset the viewport", chromedp.EmulateViewport(1280, 900))
	app := &authenticator{t: t, secret: secret}
	first := app.next()
	b.do("confirm with a first code",
		chromedp.SendKeys(chromedp.ID("otp"), first),
		chromedp.Click(chromedp.CSS(`button[name=action][value=confirm]`)),
		chromedp.WaitVisible(chromedp.CSS(`#recovery-codes, #otp-error`)))
	if msg := eval[string](b, `(document.getElementById('otp-error') || {}).textContent || ''`); msg != "" {
		t.Fatalf("the first code %s (step %d, now %v) was refused: %s", first, app.last, time.Now().Unix()/30, msg)
	}
	recovery := eval[[]string](b, `Array.from(document.querySelectorAll('#recovery-codes .recovery-code')).map(c => c.textContent.trim())`)
	if len(recovery) != 10 {
		t.Fatalf("%d recovery codes shown, want 10", len(recovery))
	}
	screenshot(b, "mfa-recovery-codes-desktop.png", 1280, 900)
	screenshot(b, "mfa-recovery-codes-mobile.png", 390, 844)
	b.do("reset the viewport", chromedp.EmulateViewport(1280, 900))
	b.do("the second-factor page", chromedp.Navigate(e.issuer+"/account/mfa"), chromedp.WaitVisible(chromedp.ID("mfa-status")))
	screenshot(b, "mfa-account-on-desktop.png", 1280, 900)
	screenshot(b, "mfa-account-on-mobile.png", 390, 844)
	b.do("reset the viewport", chromedp.EmulateViewport(1280, 900))
	openAccount(b, e.issuer)
	if got := eval[string](b, `document.getElementById('mfa-status').textContent`); !strings.HasPrefix(got, "On") || !strings.Contains(got, "10 recovery codes") {
		t.Errorf("second factor shown as %q after set-up", got)
	}

	// 3. Step-up: the session is password-only; acr_values asks for the
	// multi-factor class, and the code page appears within the session.
	v := authorize("step-up", oauth2.SetAuthURLParam("acr_values", acrMFA))
	if !onCodePage() {
		t.Fatalf("acr_values=%s in a password-only session went to %s without asking for a code", acrMFA, b.location())
	}
	screenshot(b, "mfa-code-desktop.png", 1280, 900)
	screenshot(b, "mfa-code-mobile.png", 390, 844)
	b.do("reset the viewport", chromedp.EmulateViewport(1280, 900))
	enterCode("step-up code", app.next())
	if c := tokenClaims(v); c.ACR != acrMFA || !slices.Contains(c.AMR, "otp") || !slices.Contains(c.AMR, "pwd") {
		t.Errorf("after step-up the ID token says acr=%q amr=%v, want %s and pwd+otp", c.ACR, c.AMR, acrMFA)
	}

	// 4. Sign out, sign in with password and code: amr contains otp.
	signOut()
	v = authorize("sign in with a second factor")
	if !onCodePage() {
		t.Fatalf("a user with TOTP signed in without a code (%s)", b.location())
	}
	code := app.next()
	enterCode("code", code)
	if c := tokenClaims(v); !slices.Contains(c.AMR, "otp") || c.ACR != acrMFA {
		t.Errorf("ID token acr=%q amr=%v, want %s and otp", c.ACR, c.AMR, acrMFA)
	}

	// 5. The same code again is refused; a recovery code works instead.
	signOut()
	v = authorize("sign in again")
	enterCode("replay the code", code)
	if eval[bool](b, `document.getElementById('otp-error') === null`) {
		t.Fatalf("a replayed code was accepted (%s)", b.location())
	}
	enterCode("a recovery code", recovery[0])
	if !eval[bool](b, `document.getElementById('rp-callback') !== null`) {
		t.Fatalf("the recovery code was refused: %s", eval[string](b, `document.body.innerText`))
	}
	if c := tokenClaims(v); !slices.Contains(c.AMR, "otp") {
		t.Errorf("after a recovery code amr=%v, want otp", c.AMR)
	}

	// 6. The recovery code works once.
	signOut()
	authorize("sign in with the used recovery code")
	enterCode("reuse the recovery code", recovery[0])
	if eval[bool](b, `document.getElementById('otp-error') === null`) {
		t.Fatalf("a used recovery code was accepted (%s)", b.location())
	}
	// 7. The sign-in did not finish: there is no session, and signing in
	// to the account page asks for the second factor too.
	b.do("the account page", chromedp.Navigate(e.issuer+"/account"),
		chromedp.WaitVisible(chromedp.CSS(`input[name=password]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=username]`), "alice"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), alicePassword),
		chromedp.Click(chromedp.CSS(`form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`input[name=otp], #account-username`)))
	if !onCodePage() {
		t.Fatalf("the account page signed a user with TOTP in on the password alone (%s)", b.location())
	}
	enterCode("a recovery code for the account page", recovery[1])
	if loc := b.location(); loc.String() != e.issuer+"/account" {
		t.Fatalf("after the code the browser shows %s, want the account page", loc)
	}
	if got := eval[string](b, `document.getElementById('mfa-status').textContent`); !strings.Contains(got, "8 recovery codes") {
		t.Errorf("second factor shown as %q after two recovery codes were used", got)
	}
	for _, entry := range b.consoleEntries() {
		// The refused codes above are answered with 400, which Chromium logs.
		expected := strings.Contains(entry.text, "status of 400") && strings.Contains(entry.text, "/login/otp")
		if entry.serious() && !expected {
			t.Errorf("console %s", entry)
		}
	}
}

package op_test

import (
	"encoding/base32"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/herald-idp/herald/op/login"
	"github.com/herald-idp/herald/op/mfa"
	"github.com/herald-idp/herald/op/registry"
	"github.com/herald-idp/herald/storage"
)

// Issue 12: the second factor, end to end with a real relying party
// (go-oidc + x/oauth2) against Herald's pages (docs/mfa.md).

// totpDevice is the authenticator app of a test: the secret read from the
// set-up page, and the last time step it showed a code for.
type totpDevice struct {
	secret []byte
	step   int64
}

// next returns the code of the step after the last one used (Herald
// accepts ±1 step and each step once), as a real app would show it after
// waiting for the next 30 seconds.
func (d *totpDevice) next(t *testing.T) string {
	t.Helper()
	d.step = max(d.step+1, mfa.Step(time.Now()))
	if d.step > mfa.Step(time.Now())+1 {
		t.Fatalf("test ran out of TOTP steps (step %d, now %d)", d.step, mfa.Step(time.Now()))
	}
	code, err := mfa.Code(d.secret, d.step)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// readDevice reads the secret off a set-up page, as a user typing it.
func readDevice(t *testing.T, p *page) *totpDevice {
	t.Helper()
	texts := textOf(p.body, "totp-secret")
	if len(texts) != 1 {
		t.Fatalf("no secret on the set-up page (%d):\n%s", p.status, truncate(p.body))
	}
	secret, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ReplaceAll(texts[0], " ", ""))
	if err != nil || len(secret) != mfa.SecretSize {
		t.Fatalf("secret %q: %v", texts[0], err)
	}
	if !strings.Contains(p.body, `src="data:image/png;base64,`) || !strings.Contains(p.body, "otpauth://totp/") {
		t.Fatalf("set-up page lacks the QR code or the otpauth URI:\n%s", truncate(p.body))
	}
	return &totpDevice{secret: secret, step: mfa.Step(time.Now()) - 2}
}

// isOTPPage reports whether p is the second-factor form.
func (p *page) isOTPPage() bool {
	f := findForm(p.body)
	return f != nil && f.inputs["otp"] != "" && f.hidden.Get("mfa_state") != "" && strings.HasSuffix(f.action, login.PathLoginOTP)
}

// setUpTOTP turns on TOTP for the user signed in (or signing in as
// username) in b through the account pages and returns the device and
// the recovery codes.
func (e *testEnv) setUpTOTP(t *testing.T, b *browser, username, pw string) (*totpDevice, []string) {
	t.Helper()
	p := b.get(e.issuer + login.PathAccountMFA)
	if p.isLoginPage() {
		p = b.login(p, username, pw)
	}
	if p.status != http.StatusOK || len(textOf(p.body, "lead")) == 0 || !strings.Contains(p.body, "is <strong>off</strong>") {
		t.Fatalf("account MFA page: %d\n%s", p.status, truncate(p.body))
	}
	p = b.submit(p, nil) // Set up
	dev := readDevice(t, p)
	// A wrong first code is refused, the set-up stays.
	if bad := b.submit(p, url.Values{"otp": {"000000"}}); bad.status != http.StatusBadRequest || len(textOf(bad.body, "totp-secret")) != 1 {
		t.Fatalf("wrong confirmation code: %d", bad.status)
	}
	p = b.submit(p, url.Values{"otp": {dev.next(t)}})
	codes := textOf(p.body, "recovery-code")
	if p.status != http.StatusOK || len(codes) != mfa.RecoveryCodeCount {
		t.Fatalf("recovery codes page: %d, %d codes %v\n%s", p.status, len(codes), textOf(p.body, "alert"), truncate(p.body))
	}
	return dev, codes
}

// idClaims verifies an ID token as the relying party does and returns its
// acr and amr.
func (e *testEnv) idClaims(t *testing.T, provider *oidc.Provider, c client, tok *oauth2.Token) (acr string, amr []string) {
	t.Helper()
	raw, _ := tok.Extra("id_token").(string)
	idt, err := provider.Verifier(&oidc.Config{ClientID: c.id}).Verify(e.ctx(t), raw)
	if err != nil {
		t.Fatalf("verify ID token: %v", err)
	}
	var claims struct {
		ACR string   `json:"acr"`
		AMR []string `json:"amr"`
	}
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	return claims.ACR, claims.AMR
}

// exchange redeems the code the browser was redirected with.
func (e *testEnv) exchange(t *testing.T, cfg *oauth2.Config, p *page, v pkce) *oauth2.Token {
	t.Helper()
	q := p.requireRedirectTo(t, cfg.RedirectURL)
	if q.Get("error") != "" {
		t.Fatalf("authorization error %q: %s", q.Get("error"), q.Get("error_description"))
	}
	tok, err := cfg.Exchange(e.ctx(t), q.Get("code"), v.verify())
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	return tok
}

func (e *testEnv) requireMFAToken(t *testing.T, provider *oidc.Provider, c client, tok *oauth2.Token) {
	t.Helper()
	acr, amr := e.idClaims(t, provider, c, tok)
	if acr != mfa.ACRMFA || !slices.Contains(amr, "otp") || !slices.Contains(amr, "pwd") {
		t.Fatalf("acr = %q, amr = %v; want %q and [pwd otp]", acr, amr, mfa.ACRMFA)
	}
}

// TestE2EMFALoginWithCode: alice sets up TOTP; a sign-in then asks for the
// code after the password; the ID token says acr mfa, amr [pwd otp]; a
// replayed code is refused; a recovery code works once; the audit trail
// has every attempt.
func TestE2EMFALoginWithCode(t *testing.T) {
	t.Parallel()
	e := newTestServer(t)
	provider, _ := e.provider(t)
	var meta struct {
		ACRValues []string `json:"acr_values_supported"`
		Claims    []string `json:"claims_supported"`
	}
	if err := provider.Claims(&meta); err != nil || !slices.Equal(meta.ACRValues, []string{mfa.ACRPassword, mfa.ACRMFA}) || !slices.Contains(meta.Claims, "acr") {
		t.Fatalf("discovery: acr_values_supported = %v, claims_supported = %v (%v)", meta.ACRValues, meta.Claims, err)
	}
	dev, codes := e.setUpTOTP(t, e.newBrowser(t), "alice", alicePassword)
	status, err := e.reg.UserMFA(t.Context(), tenantAcme, e.alice.ID)
	if err != nil || !status.Enabled || status.RecoveryCodesLeft != 10 {
		t.Fatalf("UserMFA = %+v, %v", status, err)
	}
	cfg := e.config(e.web, oidc.ScopeOpenID)
	cfg.Endpoint = provider.Endpoint()

	signIn := func(b *browser) (*page, pkce) {
		t.Helper()
		v := newPKCE()
		u, _ := authURL(cfg, v.challenge())
		p := b.login(b.get(u), "alice", alicePassword)
		if !p.isOTPPage() {
			t.Fatalf("after the password: %d, want the code form\n%s", p.status, truncate(p.body))
		}
		if b.cookie(e.issuer+"/", "herald_session") != "" {
			t.Fatal("a session started before the second factor")
		}
		return p, v
	}

	// Password, then the code.
	b := e.newBrowser(t)
	p, v := signIn(b)
	code := dev.next(t)
	tok := e.exchange(t, cfg, b.submit(p, url.Values{"otp": {code}}), v)
	e.requireMFAToken(t, provider, e.web, tok)

	// The same code again (another browser, right password): refused.
	b2 := e.newBrowser(t)
	p, v2 := signIn(b2)
	replay := b2.submit(p, url.Values{"otp": {code}})
	if replay.status != http.StatusBadRequest || !replay.isOTPPage() || !strings.Contains(replay.body, "Invalid code.") {
		t.Fatalf("replayed code: %d\n%s", replay.status, truncate(replay.body))
	}
	// A recovery code (typed in upper case) works, once.
	tok = e.exchange(t, cfg, b2.submit(replay, url.Values{"otp": {strings.ToUpper(codes[0])}}), v2)
	e.requireMFAToken(t, provider, e.web, tok)
	b3 := e.newBrowser(t)
	p, _ = signIn(b3)
	if again := b3.submit(p, url.Values{"otp": {codes[0]}}); again.status != http.StatusBadRequest || !again.isOTPPage() {
		t.Fatalf("used recovery code: %d", again.status)
	}
	// The form without its pending state, or with another request's, is refused.
	f := p.form(t)
	form := cloneValues(f.hidden)
	form.Set("otp", codes[1])
	form.Set("mfa_state", "x."+form.Get("mfa_state"))
	b3.post(e.issuer+login.PathLoginOTP, form).requireErrorPage(t, http.StatusForbidden)

	events, err := e.store.AuthEvents().ListAuthEvents(t.Context(), tenantAcme, storage.AuthEventFilter{UserID: e.alice.ID})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range events {
		got = append(got, ev.Event+":"+ev.Reason)
	}
	for _, want := range []string{"mfa.enrolled:", "mfa.succeeded:", "mfa.failed:replayed_code", "mfa.succeeded:recovery_code", "mfa.failed:wrong_code", "login.succeeded:"} {
		if !slices.Contains(got, want) {
			t.Errorf("auth events %v lack %q", got, want)
		}
	}
	if status, _ := e.reg.UserMFA(t.Context(), tenantAcme, e.alice.ID); status.RecoveryCodesLeft != 9 {
		t.Errorf("recovery codes left = %d, want 9", status.RecoveryCodesLeft)
	}
}

// TestE2EMFAWrongCodesThrottled: wrong codes back off like passwords (429
// with Retry-After after the free attempts), every failure and the first
// refusal are in the audit trail, and a right code during the wait is
// refused too (the throttle is checked first).
func TestE2EMFAWrongCodesThrottled(t *testing.T) {
	t.Parallel()
	e := newTestServer(t)
	dev, _ := e.setUpTOTP(t, e.newBrowser(t), "alice", alicePassword)
	b := e.newBrowser(t)
	u, _ := authURL(e.config(e.web, oidc.ScopeOpenID), newPKCE().challenge())
	p := b.login(b.get(u), "alice", alicePassword)
	if !p.isOTPPage() {
		t.Fatalf("want the code form, got %d", p.status)
	}
	free := 6 // AccountFree (5) plus the attempt that starts the first wait
	for i := range free {
		p = b.submit(p, url.Values{"otp": {"999999"}})
		if p.status != http.StatusBadRequest || !p.isOTPPage() {
			t.Fatalf("wrong code %d: %d", i+1, p.status)
		}
	}
	p = b.submit(p, url.Values{"otp": {dev.next(t)}})
	if p.status != http.StatusTooManyRequests || p.header.Get("Retry-After") == "" || !strings.Contains(p.body, "Too many sign-in attempts") {
		t.Fatalf("after %d wrong codes: %d Retry-After %q", free, p.status, p.header.Get("Retry-After"))
	}
	events, err := e.store.AuthEvents().ListAuthEvents(t.Context(), tenantAcme, storage.AuthEventFilter{UserID: e.alice.ID})
	if err != nil {
		t.Fatal(err)
	}
	failed, throttled := 0, 0
	for _, ev := range events {
		switch ev.Event {
		case storage.EventMFAFailed:
			failed++
		case storage.EventMFAThrottled:
			throttled++
		}
	}
	if failed != free+1 || throttled != 1 { // +1: the wrong code of the set-up
		t.Fatalf("audit: %d mfa.failed, %d mfa.throttled; want %d and 1", failed, throttled, free+1)
	}
}

// TestE2EMFAStepUp: a password-only SSO session (alice signed in before
// turning TOTP on) is reused silently, with acr pwd; acr_values naming the
// multi-factor class asks for the code without the password; then the
// session is multi-factor. prompt=login and max_age=0 ask for both
// factors again; prompt=none cannot step up.
func TestE2EMFAStepUp(t *testing.T) {
	t.Parallel()
	e := newTestServer(t)
	provider, _ := e.provider(t)
	cfg := e.config(e.web, oidc.ScopeOpenID)
	cfg.Endpoint = provider.Endpoint()
	b := e.newBrowser(t)
	e.tokens(t, b, e.web, oidc.ScopeOpenID) // a password-only session
	dev, codes := e.setUpTOTP(t, b, "alice", alicePassword)

	v := newPKCE()
	u, _ := authURL(cfg, v.challenge())
	tok := e.exchange(t, cfg, b.get(u), v)
	if acr, amr := e.idClaims(t, provider, e.web, tok); acr != mfa.ACRPassword || slices.Contains(amr, "otp") {
		t.Fatalf("SSO without step-up: acr %q amr %v", acr, amr)
	}

	stepUp := oauth2.SetAuthURLParam("acr_values", mfa.ACRMFA)
	u, _ = authURL(cfg, v.challenge(), stepUp, oauth2PromptNone())
	b.get(u).requireAuthError(t, cfg.RedirectURL, e.issuer, "login_required")

	u, _ = authURL(cfg, v.challenge(), stepUp)
	p := b.get(u)
	if !p.isOTPPage() || p.isLoginPage() {
		t.Fatalf("step-up: %d, want the code form only\n%s", p.status, truncate(p.body))
	}
	tok = e.exchange(t, cfg, b.submit(p, url.Values{"otp": {dev.next(t)}}), v)
	e.requireMFAToken(t, provider, e.web, tok)
	// The session is multi-factor now: the same request needs nothing more.
	u, _ = authURL(cfg, v.challenge(), stepUp)
	e.requireMFAToken(t, provider, e.web, e.exchange(t, cfg, b.get(u), v))

	for _, fresh := range []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("prompt", "login"), oauth2.SetAuthURLParam("max_age", "0")} {
		u, _ = authURL(cfg, v.challenge(), fresh)
		p = b.get(u)
		if !p.isLoginPage() {
			t.Fatalf("fresh login: %d, want the password form", p.status)
		}
		p = b.login(p, "alice", alicePassword)
		if !p.isOTPPage() {
			t.Fatalf("fresh login after the password: %d, want the code form", p.status)
		}
		codes, p = codes[1:], b.submit(p, url.Values{"otp": {codes[0]}})
		e.requireMFAToken(t, provider, e.web, e.exchange(t, cfg, p, v))
	}
}

// TestE2EMFARequiredPolicy: with the tenant's policy "required", a user
// without a factor sets one up during the next sign-in before any code is
// issued; with "clients", only sign-ins to the listed clients require it;
// "off" never asks.
func TestE2EMFARequiredPolicy(t *testing.T) {
	t.Parallel()
	e := newTestServer(t)
	provider, _ := e.provider(t)
	setPolicy := func(m storage.MFASettings) {
		t.Helper()
		if _, err := e.reg.UpdateTenant(t.Context(), tenantAcme, registry.TenantUpdate{Settings: &registry.SettingsUpdate{MFA: &m}}); err != nil {
			t.Fatalf("set policy %+v: %v", m, err)
		}
	}
	cfg := e.config(e.web, oidc.ScopeOpenID)
	cfg.Endpoint = provider.Endpoint()

	// Only the SPA requires it: the web client signs in with a password.
	setPolicy(storage.MFASettings{Policy: storage.MFARequiredForClients, Clients: []string{spaClientID}})
	v := newPKCE()
	u, _ := authURL(cfg, v.challenge())
	b := e.newBrowser(t)
	if acr, _ := e.idClaims(t, provider, e.web, e.exchange(t, cfg, b.login(b.get(u), "alice", alicePassword), v)); acr != mfa.ACRPassword {
		t.Fatalf("web client under policy clients: acr %q", acr)
	}

	setPolicy(storage.MFASettings{Policy: storage.MFARequired})
	b = e.newBrowser(t)
	u, _ = authURL(cfg, v.challenge())
	p := b.login(b.get(u), "alice", alicePassword)
	if p.status != http.StatusOK || len(textOf(p.body, "totp-secret")) != 1 || p.location() != nil {
		t.Fatalf("required policy: %d, want the set-up page\n%s", p.status, truncate(p.body))
	}
	dev := readDevice(t, p)
	if bad := b.submit(p, url.Values{"otp": {"123456"}}); bad.status != http.StatusBadRequest || len(textOf(bad.body, "totp-secret")) != 1 {
		t.Fatalf("wrong set-up code: %d", bad.status)
	}
	p = b.submit(p, url.Values{"otp": {dev.next(t)}})
	if codes := textOf(p.body, "recovery-code"); len(codes) != mfa.RecoveryCodeCount {
		t.Fatalf("recovery codes after the forced set-up: %d\n%s", len(codes), truncate(p.body))
	}
	tok := e.exchange(t, cfg, b.submit(p, url.Values{"action": {"continue"}}), v)
	e.requireMFAToken(t, provider, e.web, tok)
	// The account page cannot turn it off under this policy.
	if p := b.get(e.issuer + login.PathAccountMFA); p.status != http.StatusOK || strings.Contains(p.body, "Turn off") {
		t.Fatalf("account page under required policy: %d", p.status)
	}

	// Off: not even a user with a factor is asked.
	setPolicy(storage.MFASettings{Policy: storage.MFAOff})
	b = e.newBrowser(t)
	u, _ = authURL(cfg, v.challenge())
	if acr, _ := e.idClaims(t, provider, e.web, e.exchange(t, cfg, b.login(b.get(u), "alice", alicePassword), v)); acr != mfa.ACRPassword {
		t.Fatalf("policy off: acr %q", acr)
	}

	// Bad policies are refused with the field named.
	for _, m := range []storage.MFASettings{{Policy: "sometimes"}, {Policy: storage.MFARequiredForClients}, {Policy: storage.MFARequired, Clients: []string{"web"}}} {
		_, err := e.reg.UpdateTenant(t.Context(), tenantAcme, registry.TenantUpdate{Settings: &registry.SettingsUpdate{MFA: &m}})
		var ve *registry.ValidationError
		if !errors.As(err, &ve) || !strings.HasPrefix(ve.Field, "settings.mfa") {
			t.Errorf("policy %+v: %v", m, err)
		}
	}
}

// TestE2EMFAAdminResetAndAccount: the admin API shows and resets a user's
// factor (then the password alone signs in); the account page removes it
// only with a current code or the password and regenerates recovery codes.
func TestE2EMFAAdminResetAndAccount(t *testing.T) {
	t.Parallel()
	e := newTestServer(t)
	id, secret, _, err := e.reg.Bootstrap(e.ctx(t), e.ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	token := e.systemToken(t, id, secret, registry.AdminScope)
	path := "/tenants/" + tenantAcme + "/users/" + e.alice.ID + "/mfa"
	r := e.adminCall(t, token, http.MethodGet, path, nil)
	r.requireStatus(t, http.StatusOK)
	if r.json["enabled"] != false {
		t.Fatalf("status before set-up: %s", r.body)
	}
	b := e.newBrowser(t)
	_, codes := e.setUpTOTP(t, b, "alice", alicePassword)
	r = e.adminCall(t, token, http.MethodGet, path, nil)
	if r.json["enabled"] != true || r.json["recovery_codes_left"] != float64(10) || r.str("confirmed_at") == "" || strings.Contains(r.body, "secret") {
		t.Fatalf("status after set-up: %s", r.body)
	}
	e.adminCall(t, token, http.MethodGet, "/tenants/"+tenantAcme+"/users/nobody/mfa", nil).requireStatus(t, http.StatusNotFound)

	// Account page: new recovery codes need a proof; a wrong one is refused.
	p := b.get(e.issuer + login.PathAccountMFA)
	if p.status != http.StatusOK || !strings.Contains(p.body, "is <strong>on</strong>") {
		t.Fatalf("account page: %d", p.status)
	}
	if bad := b.submit(p, url.Values{"proof": {"not my password"}}); bad.status != http.StatusBadRequest {
		t.Fatalf("regenerate with a wrong proof: %d", bad.status)
	}
	p = b.submit(p, url.Values{"proof": {alicePassword}})
	fresh := textOf(p.body, "recovery-code")
	if len(fresh) != mfa.RecoveryCodeCount || slices.Contains(fresh, codes[0]) {
		t.Fatalf("regenerated codes: %v", fresh)
	}
	// Forms without the page's CSRF token are refused.
	b.post(e.issuer+login.PathAccountMFARemove, url.Values{"proof": {alicePassword}}).requireErrorPage(t, http.StatusForbidden)

	// Admin reset: the password alone signs in again.
	e.adminCall(t, token, http.MethodDelete, path, nil).requireStatus(t, http.StatusNoContent)
	if s, _ := e.reg.UserMFA(t.Context(), tenantAcme, e.alice.ID); s.Enabled {
		t.Fatal("still enabled after the reset")
	}
	b2 := e.newBrowser(t)
	u, _ := authURL(e.config(e.web, oidc.ScopeOpenID), newPKCE().challenge())
	b2.login(b2.get(u), "alice", alicePassword).requireRedirectTo(t, webRedirect)

	// Set up again, then remove it on the account page with a recovery code.
	_, codes = e.setUpTOTP(t, b2, "alice", alicePassword)
	p = b2.get(e.issuer + login.PathAccountMFA)
	f := findFormWithAction(t, p, login.PathAccountMFARemove)
	form := cloneValues(f.hidden)
	form.Set("proof", codes[3])
	p = b2.post(e.issuer+login.PathAccountMFARemove, form)
	if p.status != http.StatusOK || !strings.Contains(p.body, "is now off") {
		t.Fatalf("remove: %d\n%s", p.status, truncate(p.body))
	}
	if s, _ := e.reg.UserMFA(t.Context(), tenantAcme, e.alice.ID); s.Enabled || s.Pending {
		t.Fatalf("after removal: %+v", s)
	}
}

// findFormWithAction returns the form of p that posts to path.
func findFormWithAction(t *testing.T, p *page, path string) *htmlForm {
	t.Helper()
	for rest := p.body; ; {
		i := strings.Index(rest, "<form")
		if i < 0 {
			break
		}
		rest = rest[i:]
		end := strings.Index(rest, "</form>")
		if end < 0 {
			break
		}
		if f := findForm(rest[:end+len("</form>")]); f != nil && strings.HasSuffix(f.action, path) {
			return f
		}
		rest = rest[end:]
	}
	t.Fatalf("no form posting to %s on the page:\n%s", path, truncate(p.body))
	return nil
}

// TestE2EAccountMFASignInFirst: the account pages send a browser without a
// session to sign in, and back afterwards.
func TestE2EAccountMFASignInFirst(t *testing.T) {
	t.Parallel()
	e := newTestServer(t)
	b := e.newBrowser(t)
	p := b.get(e.issuer + login.PathAccountMFA)
	if !p.isLoginPage() || !strings.Contains(p.body, "your account") {
		t.Fatalf("without a session: %d, want the login page", p.status)
	}
	p = b.login(p, "alice", alicePassword)
	if p.status != http.StatusOK || p.url.Path != "/t/"+tenantAcme+login.PathAccountMFA {
		t.Fatalf("after signing in: %d at %s", p.status, p.url)
	}
}

// TestE2EMFAConcurrentCodeUse: the same code posted at once from two
// browsers (both past the password): exactly one sign-in succeeds.
func TestE2EMFAConcurrentCodeUse(t *testing.T) {
	t.Parallel()
	e := newTestServer(t)
	dev, _ := e.setUpTOTP(t, e.newBrowser(t), "alice", alicePassword)
	cfg := e.config(e.web, oidc.ScopeOpenID)
	const n = 4
	browsers, pages := make([]*browser, n), make([]*page, n)
	for i := range n {
		browsers[i] = e.newBrowser(t)
		u, _ := authURL(cfg, newPKCE().challenge())
		pages[i] = browsers[i].login(browsers[i].get(u), "alice", alicePassword)
		if !pages[i].isOTPPage() {
			t.Fatalf("browser %d: want the code form, got %d", i, pages[i].status)
		}
	}
	code := dev.next(t)
	results := make(chan int, n)
	for i := range n {
		go func() {
			f := findForm(pages[i].body)
			form := cloneValues(f.hidden)
			form.Set("otp", code)
			req, _ := http.NewRequest(http.MethodPost, e.issuer+login.PathLoginOTP, nil)
			setFormBody(req, form.Encode())
			resp, err := browsers[i].client.Do(req)
			if err != nil {
				results <- 0
				return
			}
			resp.Body.Close()
			results <- resp.StatusCode
		}()
	}
	// A replayed code is refused (400); once the replays count as failures
	// the throttle may refuse a late one first (429). Either is a refusal;
	// what must never happen is a second success.
	won, refused := 0, 0
	var statuses []int
	for range n {
		status := <-results
		statuses = append(statuses, status)
		switch status {
		case http.StatusSeeOther:
			won++
		case http.StatusBadRequest, http.StatusTooManyRequests:
			refused++
		}
	}
	if won != 1 || refused != n-1 {
		t.Fatalf("statuses %v: %d sign-ins succeeded and %d were refused; want 1 and %d", statuses, won, refused, n-1)
	}
}

// TestE2EMFAThrottleAcrossAddresses: someone holding alice's password
// tries one wrong code from each of several loopback addresses; the
// second-factor throttle is the account's, so the right code from yet
// another address is refused too.
func TestE2EMFAThrottleAcrossAddresses(t *testing.T) {
	t.Parallel()
	e := newTestServer(t)
	dev, _ := e.setUpTOTP(t, e.newBrowser(t), "alice", alicePassword)
	codeForm := func(ip string) (*browser, *page) {
		b := e.browserFrom(t, ip)
		u, _ := authURL(e.config(e.web, oidc.ScopeOpenID), newPKCE().challenge())
		p := b.login(b.get(u), "alice", alicePassword)
		if !p.isOTPPage() {
			t.Fatalf("%s: want the code form, got %d", ip, p.status)
		}
		return b, p
	}
	free := 6 // as in TestE2EMFAWrongCodesThrottled
	// Every browser gets past the password first (slow: argon2id, more so
	// under -race); the codes are then posted back to back, so the
	// throttle's delay cannot run out between the wrong ones and the right.
	browsers, pages := make([]*browser, free+1), make([]*page, free+1)
	for i := range free + 1 {
		browsers[i], pages[i] = codeForm(fmt.Sprintf("127.0.0.%d", 60+i))
	}
	for i := range free {
		if p := browsers[i].submit(pages[i], url.Values{"otp": {"999999"}}); p.status != http.StatusBadRequest || !p.isOTPPage() {
			t.Fatalf("wrong code %d: %d", i+1, p.status)
		}
	}
	p := browsers[free].submit(pages[free], url.Values{"otp": {dev.next(t)}})
	if p.status != http.StatusTooManyRequests || !strings.Contains(p.body, "Too many sign-in attempts") {
		t.Fatalf("right code from a fresh address after %d wrong ones elsewhere: %d", free, p.status)
	}
}

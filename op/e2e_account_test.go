package op_test

// The account page ({issuer}/account) through the cookie-jar browser: the
// sign-in that returns to it, CSRF, and what each form may and may not do.
// The real-browser story of issue 12 is TestBrowserAccount.

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/herald-idp/herald/op/registry"
	"github.com/herald-idp/herald/storage"
)

var (
	accountCSRF    = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)
	accountHandles = regexp.MustCompile(`name="session" value="([^"]+)"`)
)

// accountPage signs b in through the account page if needed and returns
// the page.
func (e *testEnv) accountPage(t *testing.T, b *browser) *page {
	t.Helper()
	p := b.get(e.issuer + "/account")
	if p.isLoginPage() {
		if got := p.url.Path; got != "/t/"+tenantAcme+"/login" {
			t.Fatalf("account sign-in shown at %s", got)
		}
		if !strings.Contains(p.body, "your account") {
			t.Errorf("the account sign-in does not say where it leads:\n%s", p.body)
		}
		p = b.login(p, "alice", alicePassword)
	}
	if p.status != http.StatusOK || p.url.Path != "/t/"+tenantAcme+"/account" || !strings.Contains(p.body, "Your account") {
		t.Fatalf("account page: %d at %s:\n%s", p.status, p.url, truncate(p.body))
	}
	return p
}

// csrfOf is the account page's form token.
func csrfOf(t *testing.T, p *page) string {
	t.Helper()
	m := accountCSRF.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no csrf_token on the page:\n%s", truncate(p.body))
	}
	return m[1]
}

// TestE2EAccountSignIn: without a session the account page signs in first
// and comes back to itself; the sign-in request yields no code and cannot
// be steered anywhere else.
func TestE2EAccountSignIn(t *testing.T) {
	e := newTestServer(t)
	b := e.newBrowser(t)

	// No session: a 303 to the login form of an account request.
	b.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	p := b.get(e.issuer + "/account?return_to=https://evil.example/")
	loc := p.location()
	if p.status != http.StatusSeeOther || loc == nil || loc.Path != "/t/"+tenantAcme+"/login" || loc.Query().Get("auth_request_id") == "" {
		t.Fatalf("GET /account without a session: %d %v", p.status, loc)
	}
	login := b.get(loc.String())
	after := b.login(login, "alice", alicePassword)
	if got := after.location(); after.status != http.StatusSeeOther || got == nil || got.String() != e.issuer+"/account" {
		t.Fatalf("after the account sign-in: %d to %v, want 303 to %s/account exactly", after.status, got, e.issuer)
	}
	// The request is used up: posting the login form again shows it expired.
	again := b.login(login, "alice", alicePassword)
	if again.status != http.StatusBadRequest || !strings.Contains(again.body, "expired") {
		t.Errorf("a second post of the account sign-in: %d\n%s", again.status, truncate(again.body))
	}

	b = e.newBrowser(t)
	p = e.accountPage(t, b)
	for _, want := range []string{"alice", "alice@example.com", "Alice Liddell", "This device", `href="` + e.issuer + `/account/mfa"`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the account page lacks %q", want)
		}
	}
	if p.header.Get("Cache-Control") != "no-store" || !strings.Contains(p.header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Errorf("account page headers: %v", p.header)
	}
	// Under the tenant policy "off" there is no second-factor section.
	off := storage.MFASettings{Policy: storage.MFAOff}
	if _, err := e.reg.UpdateTenant(t.Context(), tenantAcme, registry.TenantUpdate{Settings: &registry.SettingsUpdate{MFA: &off}}); err != nil {
		t.Fatal(err)
	}
	if p := b.get(e.issuer + "/account"); p.status != http.StatusOK || strings.Contains(p.body, "/account/mfa") || strings.Contains(p.body, "Two-step") {
		t.Errorf("policy off: the page still offers a second factor (%d)", p.status)
	}
	// The notice is picked from a fixed list, never echoed.
	p = b.get(e.issuer + "/account?done=%3Cscript%3Ealert(1)%3C/script%3E")
	if strings.Contains(p.body, "alert(1)") || strings.Contains(p.body, `id="account-notice"`) {
		t.Errorf("an unknown ?done= shows something:\n%s", truncate(p.body))
	}
}

// TestE2EAccountCSRF: every account form needs the token of this browser's
// session; a token of another session, or none, is refused with nothing
// changed.
func TestE2EAccountCSRF(t *testing.T) {
	e := newTestServer(t)
	victim, attacker := e.newBrowser(t), e.newBrowser(t)
	ap := e.accountPage(t, attacker)
	vp := e.accountPage(t, victim)
	attackerToken := csrfOf(t, ap)
	handles := accountHandles.FindAllStringSubmatch(vp.body, -1)
	if len(handles) != 1 { // the attacker's session, seen from the victim (same user here)
		t.Fatalf("victim sees %d other sessions, want 1", len(handles))
	}
	for _, tc := range []struct {
		path string
		form url.Values
	}{
		{"/account/password", url.Values{"current_password": {alicePassword}, "new_password": {"a brand new passphrase 77"}, "confirm_password": {"a brand new passphrase 77"}}},
		{"/account/sessions/end", url.Values{"session": {handles[0][1]}}},
		{"/account/apps/withdraw", url.Values{"client_id": {webClientID}}},
		{"/account/signout", url.Values{}},
	} {
		for name, token := range map[string]string{"no token": "", "another session's token": attackerToken, "garbage": "x"} {
			form := cloneValues(tc.form)
			if token != "" {
				form.Set("csrf_token", token)
			}
			p := victim.post(e.issuer+tc.path, form)
			if p.status != http.StatusForbidden {
				t.Errorf("%s with %s: %d, want 403", tc.path, name, p.status)
			}
		}
	}
	// A cross-site post with the right token is refused too (Fetch
	// metadata: the browser says where the form came from).
	req, err := http.NewRequest(http.MethodPost, e.issuer+"/account/signout", nil)
	if err != nil {
		t.Fatal(err)
	}
	setFormBody(req, url.Values{"csrf_token": {csrfOf(t, vp)}}.Encode())
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if p := victim.do(req); p.status != http.StatusForbidden {
		t.Errorf("cross-site sign-out with a valid token: %d, want 403", p.status)
	}
	// Nothing changed: the old password still signs in and both sessions live.
	e.accountPage(t, victim)
	e.accountPage(t, attacker)
	sessions, err := e.store.Sessions().ListUserSessions(t.Context(), tenantAcme, e.alice.ID, time.Now())
	if err != nil || len(sessions) != 2 {
		t.Fatalf("sessions after refused posts: %d, %v", len(sessions), err)
	}
	// Without a session a post is refused too (and starts nothing).
	p := e.newBrowser(t).post(e.issuer+"/account/signout", url.Values{"csrf_token": {attackerToken}})
	if p.status != http.StatusForbidden {
		t.Errorf("post without a session: %d, want 403", p.status)
	}
}

// TestE2EAccountPasswordChange: the current password is required, the new
// one meets the policy; afterwards the other session and its refresh token
// are gone while this session's tokens live on.
func TestE2EAccountPasswordChange(t *testing.T) {
	e := newTestServer(t)
	here, there := e.newBrowser(t), e.newBrowser(t)
	// The SPA's refresh tokens without offline_access are bound to the
	// session they were issued in; the web client's offline one is not.
	hereTok := e.tokens(t, here, e.spa, "openid")
	thereTok := e.tokens(t, there, e.spa, "openid")
	offlineTok := e.tokens(t, here, e.web, "openid", "offline_access")
	p := e.accountPage(t, here)
	token := csrfOf(t, p)

	const next = "plum orchard lantern 93"
	post := func(current, newPW, confirm string) *page {
		return here.post(e.issuer+"/account/password", url.Values{"csrf_token": {token},
			"current_password": {current}, "new_password": {newPW}, "confirm_password": {confirm}})
	}
	for _, tc := range []struct {
		name, current, newPW, confirm, want string
	}{
		{"wrong current", "not my password", next, next, "current password is not correct"},
		{"no current", "", next, next, "current password is not correct"},
		{"mismatch", alicePassword, next, next + "x", "do not match"},
		{"weak", alicePassword, "password", "password", "Password is too"},
		{"own name", alicePassword, "aliceliddell", "aliceliddell", "Password is"},
		{"unchanged", alicePassword, alicePassword, alicePassword, "must differ"},
	} {
		p := post(tc.current, tc.newPW, tc.confirm)
		if p.status != http.StatusBadRequest || !strings.Contains(p.body, tc.want) || !strings.Contains(p.body, `id="password-error"`) {
			t.Errorf("%s: %d, want 400 with %q:\n%s", tc.name, p.status, tc.want, truncate(p.body))
		}
		if strings.Contains(p.body, tc.newPW) && len(tc.newPW) > 8 && tc.name != "unchanged" {
			t.Errorf("%s: the page echoes the new password", tc.name)
		}
	}
	thereRT := rotate(t, e, e.spa, thereTok.RefreshToken)

	p = post(alicePassword, next, next)
	if p.status != http.StatusOK || p.url.Query().Get("done") != "password" || !strings.Contains(p.body, "password was changed") {
		t.Fatalf("password change: %d at %s:\n%s", p.status, p.url, truncate(p.body))
	}
	// The other browser is signed out; its refresh token and the offline
	// one are revoked; this session's refresh token still works.
	if other := there.get(e.issuer + "/account"); !other.isLoginPage() {
		t.Errorf("the other browser still reaches the account page: %d", other.status)
	}
	e.refresh(t, e.spa, thereRT).requireError(t, http.StatusBadRequest, "invalid_grant")
	e.refresh(t, e.web, offlineTok.RefreshToken).requireError(t, http.StatusBadRequest, "invalid_grant")
	rotate(t, e, e.spa, hereTok.RefreshToken)
	e.accountPage(t, here)

	// The new password signs in, the old one does not.
	fresh := e.newBrowser(t)
	login := fresh.get(e.issuer + "/account")
	if p := fresh.login(login, "alice", alicePassword); !p.isLoginPage() || p.status != http.StatusBadRequest {
		t.Errorf("the old password still signs in: %d at %s", p.status, p.url)
	}
	login = fresh.get(e.issuer + "/account")
	if p := fresh.login(login, "alice", next); p.status != http.StatusOK || !strings.Contains(p.body, "Your account") {
		t.Errorf("the new password does not sign in: %d", p.status)
	}
	events, err := e.store.AuthEvents().ListAuthEvents(t.Context(), tenantAcme,
		storage.AuthEventFilter{Event: storage.EventPasswordChanged, Limit: storage.MaxAuditLimit})
	if err != nil {
		t.Fatal(err)
	}
	outcomes := map[string]int{}
	for _, ev := range events {
		outcomes[ev.Outcome+"/"+ev.Reason]++
		if ev.UserID != e.alice.ID {
			t.Errorf("password event for user %q", ev.UserID)
		}
	}
	if outcomes["success/self"] != 1 || outcomes["failure/wrong_password"] != 1 {
		t.Errorf("password events in the audit trail: %v, want one success/self and one failure/wrong_password", outcomes)
	}
}

// TestE2EAccountSessionsAndApps: ending another session revokes its
// session-bound grants; a handle of another user's session, or a made-up
// one, ends nothing; withdrawing an app revokes its tokens and forgets the
// consent.
func TestE2EAccountSessionsAndApps(t *testing.T) {
	e := newTestServer(t)
	ctx := t.Context()
	here, there := e.newBrowser(t), e.newBrowser(t)
	thereTok := e.tokens(t, there, e.spa, "openid")

	// Consent to the third-party app in this browser.
	cfg := e.config(e.third, "openid", "email", "offline_access")
	v := newPKCE()
	u, _ := authURL(cfg, v.challenge())
	p := here.get(u)
	if p.isLoginPage() {
		p = here.login(p, "alice", alicePassword)
	}
	if !p.isConsentPage() {
		t.Fatalf("expected the consent page, got %d", p.status)
	}
	q := here.submit(p, url.Values{"decision": {"allow"}}).requireRedirectTo(t, thirdRedirect)
	thirdTok, err := cfg.Exchange(e.ctx(t), q.Get("code"), v.verify())
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}

	p = e.accountPage(t, here)
	for _, want := range []string{thirdClientName, "See your email address", "Remove access"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the apps list lacks %q", want)
		}
	}
	token := csrfOf(t, p)
	handles := accountHandles.FindAllStringSubmatch(p.body, -1)
	if len(handles) != 1 {
		t.Fatalf("%d other sessions listed, want 1 (the other browser)", len(handles))
	}
	if strings.Contains(p.body, sessionIDOf(t, e, there)) {
		t.Error("the page shows a session's ID")
	}

	// A made-up handle ends nothing.
	for _, h := range []string{"", "made-up", strings.Repeat("A", 24)} {
		p := here.post(e.issuer+"/account/sessions/end", url.Values{"csrf_token": {token}, "session": {h}})
		if p.status != http.StatusBadRequest {
			t.Errorf("end session %q: %d, want 400", h, p.status)
		}
	}
	thereRT := rotate(t, e, e.spa, thereTok.RefreshToken)

	p = here.post(e.issuer+"/account/sessions/end", url.Values{"csrf_token": {token}, "session": {handles[0][1]}})
	if p.status != http.StatusOK || !strings.Contains(p.body, "session was signed out") {
		t.Fatalf("end the other session: %d\n%s", p.status, truncate(p.body))
	}
	if accountHandles.MatchString(p.body) {
		t.Error("the ended session is still listed")
	}
	e.refresh(t, e.spa, thereRT).requireError(t, http.StatusBadRequest, "invalid_grant")
	if other := there.get(e.issuer + "/account"); !other.isLoginPage() {
		t.Errorf("the ended session still reaches the account page: %d", other.status)
	}

	// Withdraw: unknown client refused; the third-party app's tokens die.
	if p := here.post(e.issuer+"/account/apps/withdraw", url.Values{"csrf_token": {token}, "client_id": {"no-such-app"}}); p.status != http.StatusBadRequest {
		t.Errorf("withdraw an app without consent: %d, want 400", p.status)
	}
	thirdRT := rotate(t, e, e.third, thirdTok.RefreshToken)
	p = here.post(e.issuer+"/account/apps/withdraw", url.Values{"csrf_token": {token}, "client_id": {thirdClientID}})
	if p.status != http.StatusOK || !strings.Contains(p.body, "no longer has access") || strings.Contains(p.body, thirdClientName) {
		t.Fatalf("withdraw: %d\n%s", p.status, truncate(p.body))
	}
	e.refresh(t, e.third, thirdRT).requireError(t, http.StatusBadRequest, "invalid_grant")
	if _, err := e.store.Consents().Consent(ctx, tenantAcme, e.alice.ID, thirdClientID); err == nil {
		t.Error("the consent is still stored")
	}
	events, err := e.store.AuthEvents().ListAuthEvents(ctx, tenantAcme, storage.AuthEventFilter{Limit: storage.MaxAuditLimit})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, ev := range events {
		kinds = append(kinds, ev.Event)
	}
	for _, want := range []string{storage.EventSessionEnded, storage.EventConsentWithdrawn} {
		if !slices.Contains(kinds, want) {
			t.Errorf("no %s event in the audit trail: %v", want, kinds)
		}
	}

	// Sign out from the page: the session ends, the page asks to sign in.
	p = here.post(e.issuer+"/account/signout", url.Values{"csrf_token": {token}})
	if p.status != http.StatusOK || !strings.Contains(p.body, "signed out") {
		t.Fatalf("sign out: %d", p.status)
	}
	if again := here.get(e.issuer + "/account"); !again.isLoginPage() {
		t.Errorf("after signing out the account page shows %d", again.status)
	}
}

// sessionIDOf is the stored ID of b's session (the SHA-256 of its cookie).
func sessionIDOf(t *testing.T, e *testEnv, b *browser) string {
	t.Helper()
	c := b.cookie(e.issuer+"/", sessionCookieName)
	if c == "" {
		t.Fatal("no session cookie")
	}
	sum := sha256.Sum256([]byte(c))
	return hex.EncodeToString(sum[:])
}

// rotate refreshes rt, which must work, and returns the refresh token to
// use next (the same one for confidential clients that keep theirs).
func rotate(t *testing.T, e *testEnv, c client, rt string) string {
	t.Helper()
	if rt == "" {
		t.Fatal("no refresh token")
	}
	resp := e.refresh(t, c, rt)
	resp.requireStatus(t, http.StatusOK)
	if next := resp.str("refresh_token"); next != "" {
		return next
	}
	return rt
}

// TestE2EAccountOtherTenantSession: alice's acme session cookie presented
// at another tenant's account page is no session there: the page asks for
// a sign-in and shows nothing of alice.
func TestE2EAccountOtherTenantSession(t *testing.T) {
	e := newTestServer(t)
	if _, err := e.reg.CreateTenant(t.Context(), registry.TenantSpec{Name: "other", DisplayName: "Other"}); err != nil {
		t.Fatal(err)
	}
	b := e.newBrowser(t)
	e.accountPage(t, b)
	sid := b.cookie(e.issuer+"/account", "herald_session")
	if sid == "" {
		t.Fatal("no session cookie after the account sign-in")
	}
	otherAccount := strings.Replace(e.issuer, "/t/"+tenantAcme, "/t/other", 1) + "/account"
	u, err := url.Parse(otherAccount)
	if err != nil {
		t.Fatal(err)
	}
	b.client.Jar.SetCookies(u, []*http.Cookie{{Name: "herald_session", Value: sid, Path: "/t/other/"}})
	p := b.get(otherAccount)
	if !p.isLoginPage() || p.url.Path != "/t/other/login" || strings.Contains(p.body, "alice") {
		t.Fatalf("acme's session at tenant other's account page: %d at %s\n%s", p.status, p.url.Path, truncate(p.body))
	}
	// Control: the same cookie set the same way at acme is alice's session
	// (so the refusal above is the tenant's, not a cookie the jar dropped).
	fresh := e.newBrowser(t)
	acme, _ := url.Parse(e.issuer + "/account")
	fresh.client.Jar.SetCookies(acme, []*http.Cookie{{Name: "herald_session", Value: sid, Path: "/t/" + tenantAcme + "/"}})
	if p := fresh.get(e.issuer + "/account"); p.status != http.StatusOK || !strings.Contains(p.body, "alice") {
		t.Fatalf("control: the copied cookie at acme: %d at %s", p.status, p.url.Path)
	}
}

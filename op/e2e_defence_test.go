package op_test

// Login defences (issue 10), driven from distinct loopback source
// addresses: each browser binds its connections to its own 127.0.0.x, so
// Herald sees one client address per browser, as it would on the internet.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/herald-idp/herald/op/registry"
	"github.com/herald-idp/herald/storage"
	"github.com/herald-idp/herald/storage/postgres"
	redisstore "github.com/herald-idp/herald/storage/redis"
)

// browserFrom is a browser whose connections come from ip (a 127.0.0.0/8
// address: Linux routes the whole block to the loopback interface).
func (e *testEnv) browserFrom(t *testing.T, ip string) *browser {
	t.Helper()
	b := e.newBrowser(t)
	tr := e.ts.Client().Transport.(*http.Transport).Clone()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	tr.DialContext = d.DialContext
	b.client.Transport = tr
	t.Cleanup(tr.CloseIdleConnections)
	return b
}

// slowBackoff makes tenant acme's back-off start at a minute, so that the
// tests see it whatever the machine's speed (under -race a login takes
// seconds, longer than the default first wait of 1 s).
func (e *testEnv) slowBackoff(t *testing.T) {
	t.Helper()
	lt := storage.LoginThrottleSettings{BaseDelay: time.Minute, MaxDelay: 10 * time.Minute}
	if _, err := e.reg.UpdateTenant(t.Context(), tenantAcme, registry.TenantUpdate{
		Settings: &registry.SettingsUpdate{LoginThrottle: &lt}}); err != nil {
		t.Fatal(err)
	}
}

// loginBound is how long a known device's login may take under a storm.
func loginBound() time.Duration {
	if raceEnabled {
		return time.Minute
	}
	return 2 * time.Second
}

// loginPageFor opens an authorization request of the web client in b
// (prompt=login: always the form) and returns the login page.
func (e *testEnv) loginPageFor(t *testing.T, b *browser) *page {
	t.Helper()
	u, _ := authURL(e.config(e.web, oidc.ScopeOpenID), oauth2.SetAuthURLParam("prompt", "login"))
	p := b.get(u)
	if !p.isLoginPage() {
		t.Fatalf("expected the login page, got %d:\n%s", p.status, truncate(p.body))
	}
	return p
}

// attempt posts username and password on the form of p without failing
// the test (for goroutines); it returns the status, or 0 on a transport error.
func attempt(b *browser, p *page, username, pw string) int {
	f := findForm(p.body)
	if f == nil {
		return 0
	}
	action, err := p.url.Parse(f.action)
	if err != nil {
		return 0
	}
	form := cloneValues(f.hidden)
	form.Set("username", username)
	form.Set("password", pw)
	req, err := http.NewRequest(http.MethodPost, action.String(), nil)
	if err != nil {
		return 0
	}
	setFormBody(req, form.Encode())
	resp, err := b.client.Do(req)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestE2EDefendedStorm: alice's account is attacked from 20 addresses
// flooding wrong passwords. Alice, on the device she signed in with
// before, still signs in, each time within 2 s; a new device with her
// right password is held back by the account's back-off (the device
// cookie is what lets her in), and the attackers are throttled.
func TestE2EDefendedStorm(t *testing.T) {
	e := newTestServer(t)
	e.slowBackoff(t)
	cfg := e.config(e.web, oidc.ScopeOpenID)

	home := e.browserFrom(t, "127.0.0.2")
	e.signInCode(t, home, cfg) // completes a login: the device cookie
	if home.cookie(e.issuer+"/", "herald_device") == "" {
		t.Fatal("no device cookie after a completed login")
	}

	ctx, stop := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	var statuses sync.Map // status → *atomic.Int64
	count := func(status int) {
		v, _ := statuses.LoadOrStore(status, new(atomic.Int64))
		v.(*atomic.Int64).Add(1)
	}
	for i := range 20 {
		attacker := e.browserFrom(t, fmt.Sprintf("127.0.0.%d", 10+i))
		p := e.loginPageFor(t, attacker)
		for g := range 2 {
			wg.Go(func() {
				for n := 0; ctx.Err() == nil; n++ {
					count(attempt(attacker, p, "alice", fmt.Sprintf("guess %d-%d-%d", i, g, n)))
				}
			})
		}
	}
	defer func() { stop(); wg.Wait() }()
	time.Sleep(time.Second) // let the storm build up

	var worst time.Duration
	for i := range 3 {
		p := e.loginPageFor(t, home)
		start := time.Now()
		q := home.login(p, "alice", alicePassword).requireRedirectTo(t, webRedirect)
		took := time.Since(start)
		worst = max(worst, took)
		if q.Get("code") == "" {
			t.Fatalf("login %d under the storm: no code: %v", i, q)
		}
		if took > loginBound() {
			t.Errorf("login %d under the storm took %v, want within %v", i, took, loginBound())
		}
	}

	// A device that never signed in as alice, right password, clean address:
	// the account is backing off, so it is refused — unless it happens to
	// arrive in the moment a wait has just ended, before the next guess.
	stranger := e.browserFrom(t, "127.0.0.3")
	p := stranger.login(e.loginPageFor(t, stranger), "alice", alicePassword)
	switch {
	case p.status == http.StatusTooManyRequests && p.header.Get("Retry-After") != "":
	case p.location() != nil:
		t.Logf("new device got in between two waits of the account back-off")
	default:
		t.Errorf("new device during the storm: %d (Retry-After %q), want 429 with Retry-After", p.status, p.header.Get("Retry-After"))
	}
	stop()
	wg.Wait()
	got := map[int]int64{}
	statuses.Range(func(k, v any) bool { got[k.(int)] = v.(*atomic.Int64).Load(); return true })
	t.Logf("known device: worst login %v; attacker answers by status: %v", worst, got)
	if got[http.StatusTooManyRequests] == 0 {
		t.Errorf("attackers were never throttled: %v", got)
	}
	// The account itself was backing off (not only the attackers' addresses).
	events, err := e.store.AuthEvents().ListAuthEvents(t.Context(), tenantAcme,
		storage.AuthEventFilter{Event: storage.EventLoginThrottled, Limit: storage.MaxAuditLimit})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(events, func(ev *storage.AuthEvent) bool { return ev.Reason == "throttled:account" }) {
		t.Errorf("no attempt was refused by the account back-off")
	}
	if got[http.StatusInternalServerError] > 0 || got[0] > 0 {
		t.Errorf("attackers saw errors: %v", got)
	}
}

var (
	hiddenValue = regexp.MustCompile(`(name="(?:csrf_token|auth_request_id|username)"[^>]*value=")[^"]*"`)
	waitSeconds = regexp.MustCompile(`wait \d+ (second|minute)s?`)
)

// normalised is a login page without what differs by design between two
// browsers: form tokens, the request ID, the echoed username, and the
// wait (compared separately, within a second).
func normalised(body string) string {
	body = hiddenValue.ReplaceAllString(body, `${1}X"`)
	return waitSeconds.ReplaceAllString(body, "wait N")
}

// TestE2EThrottleSameForUnknownAndKnownUsers: guessing an existing and a
// non-existing username from two addresses gives the same sequence of
// answers — status, Retry-After and page — so the throttle reveals nothing
// about which accounts exist.
func TestE2EThrottleSameForUnknownAndKnownUsers(t *testing.T) {
	t.Parallel()
	e := newTestServer(t)
	e.slowBackoff(t)
	known, unknown := e.browserFrom(t, "127.0.0.40"), e.browserFrom(t, "127.0.0.41")
	pk, pu := e.loginPageFor(t, known), e.loginPageFor(t, unknown)
	var seq []int
	prevStart := time.Now()
	for i := range 9 {
		start := time.Now()
		rk := known.submit(pk, url.Values{"username": {"alice"}, "password": {"wrong password number one"}})
		ru := unknown.submit(pu, url.Values{"username": {"nobody-by-that-name"}, "password": {"wrong password number one"}})
		// The two waits count from attempts made at most this far apart:
		// this round's and the previous round's (seconds under -race on a
		// loaded machine).
		slack := 1 + int(time.Since(prevStart).Seconds()+0.999)
		prevStart = start
		if rk.status != ru.status {
			t.Fatalf("attempt %d: known user %d, unknown user %d", i, rk.status, ru.status)
		}
		ak, _ := strconv.Atoi(rk.header.Get("Retry-After"))
		au, _ := strconv.Atoi(ru.header.Get("Retry-After"))
		if (ak == 0) != (au == 0) || ak-au > slack || au-ak > slack {
			t.Fatalf("attempt %d: Retry-After %q vs %q", i, rk.header.Get("Retry-After"), ru.header.Get("Retry-After"))
		}
		if normalised(rk.body) != normalised(ru.body) {
			t.Fatalf("attempt %d: pages differ:\n%s\n----\n%s", i, truncate(rk.body), truncate(ru.body))
		}
		seq = append(seq, rk.status)
		pk, pu = rk, ru
	}
	if !slices.Contains(seq, http.StatusTooManyRequests) {
		t.Fatalf("never throttled: %v", seq)
	}
	// The page says when to try again.
	p := known.submit(pk, url.Values{"username": {"alice"}, "password": {"again"}})
	if p.status == http.StatusTooManyRequests && !strings.Contains(p.body, "Too many sign-in attempts. Please wait") {
		t.Errorf("throttled page does not say when to try again:\n%s", truncate(p.body))
	}
	t.Logf("statuses: %v", seq)
}

// TestE2EThrottleAcrossReplicas: two replicas sharing PostgreSQL and Redis
// count one account's attempts together: guesses spread over both are
// throttled as soon as guesses on one would be. Always on PostgreSQL +
// Redis.
func TestE2EThrottleAcrossReplicas(t *testing.T) {
	dbURL := newPostgresDatabase(t)
	redisURL, prefix := newRedisPrefix(t)
	s1, n1 := openPostgresRedis(t, dbURL, redisURL, prefix)
	a := newTestServer(t, withSharedStore(s1, n1, false))
	// Replica B: its own connections to the same database and Redis prefix.
	s2, n2 := openPostgresRedis(t, dbURL, redisURL, prefix)
	b := newTestServer(t, withSharedStore(s2, n2, true))
	b.web, b.alice = a.web, a.alice
	a.slowBackoff(t) // B hears of it through the notifier
	time.Sleep(200 * time.Millisecond)

	ba, bb := a.browserFrom(t, "127.0.0.50"), b.browserFrom(t, "127.0.0.50")
	pa, pb := a.loginPageFor(t, ba), b.loginPageFor(t, bb)
	var seq []string
	throttledAt := 0
	for i := 1; i <= 12 && throttledAt == 0; i++ {
		var p *page
		if i%2 == 1 {
			p = ba.login(pa, "alice", "a wrong password")
			pa = p
			seq = append(seq, fmt.Sprintf("A%d", p.status))
		} else {
			p = bb.login(pb, "alice", "a wrong password")
			pb = p
			seq = append(seq, fmt.Sprintf("B%d", p.status))
		}
		if p.status == http.StatusTooManyRequests {
			throttledAt = i
		}
	}
	t.Logf("attempts: %v", seq)
	// Alone, one replica would let 6 through (5 free and the one that
	// starts the back-off); shared counters throttle the 7th overall.
	if throttledAt != 7 {
		t.Fatalf("throttled at attempt %d, want 7 (counters shared by both replicas)", throttledAt)
	}
}

// openPostgresRedis opens one replica's store on a shared database and
// Redis prefix.
func openPostgresRedis(t *testing.T, dbURL, redisURL, prefix string) (storage.Store, storage.Notifier) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pg, err := postgres.Open(ctx, dbURL, e2ePostgresOptions)
	if err != nil {
		t.Fatal(err)
	}
	short, err := redisstore.Open(ctx, redisURL, redisstore.Options{Prefix: prefix})
	if err != nil {
		pg.Close()
		t.Fatal(err)
	}
	s := storage.Combine(pg, short, "postgres", "redis")
	t.Cleanup(func() { _ = s.Close() })
	return s, short
}

// TestE2EAuthAuditTrail: every kind of authentication event the browser
// flow, the registry and the token endpoint record is read back through
// the admin API, with the filters and the cursor.
func TestE2EAuthAuditTrail(t *testing.T) {
	t.Parallel()
	e := newTestServer(t)
	e.slowBackoff(t)
	ctx := e.ctx(t)
	id, secret, _, err := e.reg.Bootstrap(ctx, e.ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	token := e.systemToken(t, id, secret, registry.AdminScope)

	b := e.browserFrom(t, "127.0.0.60")
	b.login(e.loginPageFor(t, b), "alice", "not her password").requireErrorPageOrLogin(t)
	b.login(e.loginPageFor(t, b), "mallory", "not a user at all").requireErrorPageOrLogin(t)
	dora, err := e.reg.CreateUser(ctx, tenantAcme, registry.UserSpec{Username: "dora", Password: "a perfectly fine passphrase"})
	if err != nil {
		t.Fatal(err)
	}
	disabled := true
	if _, err := e.reg.UpdateUser(ctx, tenantAcme, dora.ID, registry.UserUpdate{Disabled: &disabled}); err != nil {
		t.Fatal(err)
	}
	b.login(e.loginPageFor(t, b), "dora", "a perfectly fine passphrase").requireErrorPageOrLogin(t)

	// Success, then code replay and refresh reuse at the token endpoint.
	cfg := e.config(e.web, oidc.ScopeOpenID, oidc.ScopeOfflineAccess)
	v := newPKCE()
	code := e.signInCode(t, b, cfg, v.challenge())
	if _, err := cfg.Exchange(ctx, code, v.verify()); err != nil {
		t.Fatal(err)
	}
	e.exchangeRaw(t, e.web, code, webRedirect, v.verifier) // replay
	// Refresh tokens rotate for public clients: the old one again is reuse.
	spaTok := e.tokens(t, b, e.spa, oidc.ScopeOpenID, oidc.ScopeOfflineAccess)
	if spaTok.RefreshToken == "" {
		t.Fatal("no refresh token for the SPA")
	}
	e.refresh(t, e.spa, spaTok.RefreshToken).requireStatus(t, http.StatusOK)
	e.refresh(t, e.spa, spaTok.RefreshToken) // reuse

	// Consent given and denied (the third-party client asks).
	third := e.config(e.third, oidc.ScopeOpenID, "profile", "email")
	c := e.browserFrom(t, "127.0.0.61")
	u, _ := authURL(third)
	p := c.login(c.get(u), "alice", alicePassword)
	if !p.isConsentPage() {
		t.Fatalf("expected the consent page, got %d", p.status)
	}
	c.submit(p, url.Values{"decision": {"allow"}})
	u, _ = authURL(third, oauth2.SetAuthURLParam("prompt", "consent"))
	if p = c.get(u); !p.isConsentPage() {
		t.Fatalf("prompt=consent: expected the consent page, got %d", p.status)
	}
	c.submit(p, url.Values{"decision": {"deny"}})

	// Logout (confirmed on the form).
	confirm := b.get(e.issuer + "/end_session")
	b.submit(confirm, url.Values{"decision": {"logout"}})

	if err := e.reg.SetPassword(ctx, tenantAcme, e.alice.ID, "another fine long passphrase"); err != nil {
		t.Fatal(err)
	}

	// Throttled: hammer one account from one address.
	h := e.browserFrom(t, "127.0.0.62")
	p = e.loginPageFor(t, h)
	for range 8 {
		p = h.submit(p, url.Values{"username": {"alice"}, "password": {"still not her password"}})
	}

	list := func(query string) []map[string]any {
		t.Helper()
		r := e.adminCall(t, token, http.MethodGet, "/tenants/acme/audit?"+query, nil)
		r.requireStatus(t, http.StatusOK)
		var out struct {
			Events     []map[string]any `json:"events"`
			NextCursor string           `json:"next_cursor"`
		}
		if err := json.Unmarshal([]byte(r.body), &out); err != nil {
			t.Fatal(err)
		}
		return out.Events
	}
	// find returns the oldest event of a kind.
	find := func(event, reason string) map[string]any {
		t.Helper()
		events := list("event=" + url.QueryEscape(event) + "&limit=1000")
		slices.Reverse(events)
		for _, ev := range events {
			if reason == "" || strings.HasPrefix(ev["reason"].(string), reason) {
				return ev
			}
		}
		t.Fatalf("no %s event (reason %q) in the trail", event, reason)
		return nil
	}
	wrong := find(storage.EventLoginFailed, "wrong_password")
	if wrong["user_id"] != e.alice.ID || wrong["address"] == "" || wrong["address"] == "127.0.0.60" ||
		wrong["device"] == "" || wrong["user_agent"] == "" || wrong["request_id"] == "" || wrong["client_id"] != webClientID {
		t.Errorf("wrong-password event lacks fields or holds a raw address: %v", wrong)
	}
	unknown := find(storage.EventLoginFailed, "unknown_user")
	if unknown["user_id"] != nil || unknown["username_hash"] == nil || strings.Contains(fmt.Sprint(unknown), "mallory") {
		t.Errorf("unknown-user event must carry a keyed hash of the name, not the name: %v", unknown)
	}
	if unknown["address"] != wrong["address"] {
		t.Errorf("one address, two hashes: %v vs %v", unknown["address"], wrong["address"])
	}
	if ev := find(storage.EventLoginFailed, "disabled"); ev["user_id"] != dora.ID {
		t.Errorf("disabled event: %v", ev)
	}
	if ev := find(storage.EventLoginSucceeded, ""); ev["user_id"] != e.alice.ID || ev["outcome"] != "success" {
		t.Errorf("success event: %v", ev)
	}
	find(storage.EventLoginThrottled, "throttled")
	find(storage.EventConsentGiven, "")
	find(storage.EventConsentDenied, "")
	find(storage.EventLogout, "")
	find(storage.EventPasswordChanged, "")
	find(storage.EventCodeReplay, "")
	find(storage.EventRefreshReuse, "")

	// Filters: by user, by time, and a cursor that pages without overlap.
	for _, ev := range list("user=" + e.alice.ID) {
		if ev["user_id"] != e.alice.ID {
			t.Fatalf("user filter let through %v", ev)
		}
	}
	if evs := list("until=" + url.QueryEscape(time.Now().Add(-time.Hour).UTC().Format(time.RFC3339))); len(evs) != 0 {
		t.Errorf("until an hour ago: %d events", len(evs))
	}
	all := list("limit=1000")
	first := e.adminCall(t, token, http.MethodGet, "/tenants/acme/audit?limit=3", nil)
	var page1 struct {
		Events     []map[string]any `json:"events"`
		NextCursor string           `json:"next_cursor"`
	}
	_ = json.Unmarshal([]byte(first.body), &page1)
	if page1.NextCursor == "" || len(page1.Events) != 3 {
		t.Fatalf("first page: %s", first.body)
	}
	page2 := list("limit=3&cursor=" + page1.NextCursor)
	if len(page2) == 0 || page2[0]["id"] != all[3]["id"] {
		t.Fatalf("second page does not continue the first")
	}

	// JSON lines export holds every event.
	req, _ := http.NewRequest(http.MethodGet, e.ts.URL+"/admin/v1/tenants/acme/audit?format=jsonl", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := e.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	lines := strings.Split(strings.TrimSpace(string(body)), "\n")
	if resp.Header.Get("Content-Type") != "application/x-ndjson" || len(lines) != len(all) {
		t.Fatalf("export: %s, %d lines, want %d", resp.Header.Get("Content-Type"), len(lines), len(all))
	}
	for _, l := range lines {
		if !json.Valid([]byte(l)) {
			t.Fatalf("export line is not JSON: %s", l)
		}
	}
}

// requireErrorPageOrLogin asserts a refused login: the form again, never
// a redirect to the client.
func (p *page) requireErrorPageOrLogin(t *testing.T) {
	t.Helper()
	if p.location() != nil || (p.status != http.StatusBadRequest && p.status != http.StatusTooManyRequests) {
		t.Fatalf("expected a refused login, got %d %s", p.status, p.header.Get("Location"))
	}
}

// TestE2EPendingAuthRequestsCapped: one address may start only
// pending_per_address authorization requests per request lifetime; the
// next gets 429 with Retry-After, and other addresses are unaffected.
func TestE2EPendingAuthRequestsCapped(t *testing.T) {
	t.Parallel()
	e := newTestServer(t)
	lt := storage.LoginThrottleSettings{PendingPerAddress: 3}
	if _, err := e.reg.UpdateTenant(t.Context(), tenantAcme, registry.TenantUpdate{
		Settings: &registry.SettingsUpdate{LoginThrottle: &lt}}); err != nil {
		t.Fatal(err)
	}
	cfg := e.config(e.web, oidc.ScopeOpenID)
	flood := e.browserFrom(t, "127.0.0.70")
	for i := range 3 {
		u, _ := authURL(cfg)
		if p := flood.get(u); !p.isLoginPage() {
			t.Fatalf("request %d: %d, want the login page", i, p.status)
		}
	}
	u, _ := authURL(cfg)
	p := flood.get(u)
	if p.status != http.StatusTooManyRequests || p.header.Get("Retry-After") == "" {
		t.Fatalf("request 4: %d (Retry-After %q), want 429 with Retry-After", p.status, p.header.Get("Retry-After"))
	}
	other := e.browserFrom(t, "127.0.0.71")
	if p := other.get(u); !p.isLoginPage() {
		t.Fatalf("another address: %d, want the login page", p.status)
	}
}

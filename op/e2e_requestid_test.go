package op_test

import (
	"bufio"
	"encoding/json"
	"html"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/herald-idp/herald/op"
	"github.com/herald-idp/herald/storage"
)

// generatedID is what Herald makes up: 128 random bits in hex.
var generatedID = regexp.MustCompile(`^[0-9a-f]{32}$`)

// getWithRequestID sends a GET outside any browser, optionally claiming a
// request ID, and returns the response with its body.
func getWithRequestID(t *testing.T, e *testEnv, rawURL, claimed string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	if claimed != "" {
		req.Header.Set("X-Request-Id", claimed)
	}
	client := &http.Client{Transport: e.ts.Client().Transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", rawURL, err)
	}
	defer resp.Body.Close()
	var body strings.Builder
	if _, err := bufio.NewReader(resp.Body).WriteTo(&body); err != nil {
		t.Fatal(err)
	}
	return resp, body.String()
}

// TestE2ERequestIDOnEveryResponse: every kind of response — health,
// metadata, protocol, error page, JSON 404, unknown host — carries a
// fresh ID, and no two share one.
func TestE2ERequestIDOnEveryResponse(t *testing.T) {
	t.Parallel()
	e := newTestServer(t)
	seen := map[string]string{}
	for _, path := range []string{
		"/healthz",
		"/readyz",
		"/t/acme/.well-known/openid-configuration",
		"/t/acme/jwks",
		"/t/acme/authorize?client_id=nobody",
		"/t/nosuchtenant/authorize",
		"/no/such/route",
		"/t/acme/.well-known/openid-configuration", // the same URL again: a new ID
	} {
		t.Run(path, func(t *testing.T) {
			resp, _ := getWithRequestID(t, e, e.ts.URL+path, "")
			id := resp.Header.Get("X-Request-Id")
			if !generatedID.MatchString(id) {
				t.Fatalf("X-Request-Id = %q, want 32 hex digits", id)
			}
			if prev, dup := seen[id]; dup {
				t.Fatalf("X-Request-Id %s was already given to %s", id, prev)
			}
			seen[id] = path
		})
	}
}

// TestE2ERequestIDFromProxiesOnly: a client that names its own request ID
// could forge another request's ID in the logs; only a trusted proxy may.
func TestE2ERequestIDFromProxiesOnly(t *testing.T) {
	t.Parallel()
	const claimed = "proxy-assigned-0123456789"
	for _, tc := range []struct {
		name    string
		proxies []string
		claimed string
		kept    bool
	}{
		{"no trusted proxies", nil, claimed, false},
		{"peer outside the trusted networks", []string{"10.0.0.0/8"}, claimed, false},
		{"trusted proxy", []string{"127.0.0.0/8", "::1/128"}, claimed, true},
		{"trusted proxy, UUID", []string{"127.0.0.0/8", "::1/128"}, "9b2c7f52-5d7e-4a8e-9a3b-8d0a3c1e2f40", true},
		{"trusted proxy, markup", []string{"127.0.0.0/8", "::1/128"}, "<script>alert(1)</script>", false},
		{"trusted proxy, spaces", []string{"127.0.0.0/8", "::1/128"}, "a b", false},
		{"trusted proxy, too long", []string{"127.0.0.0/8", "::1/128"}, strings.Repeat("a", 129), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newTestServer(t, withTrustedProxies(tc.proxies...))
			resp, body := getWithRequestID(t, e, e.issuer+"/authorize?client_id=nobody", tc.claimed)
			got := resp.Header.Get("X-Request-Id")
			if tc.kept {
				if got != tc.claimed {
					t.Fatalf("X-Request-Id = %q, want the proxy's %q", got, tc.claimed)
				}
			} else if got == tc.claimed || !generatedID.MatchString(got) {
				t.Fatalf("X-Request-Id = %q, want a generated ID instead of %q", got, tc.claimed)
			}
			if !tc.kept && strings.Contains(body, tc.claimed) {
				t.Fatalf("the refused ID %q appears on the page", tc.claimed)
			}
		})
	}
}

// TestE2EErrorPageShowsRequestID: the user sees the ID to quote, the same
// one the response header and the logs carry.
func TestE2EErrorPageShowsRequestID(t *testing.T) {
	t.Parallel()
	e := newTestServer(t)
	for _, path := range []string{
		"/authorize?client_id=nobody",                             // unknown client
		"/authorize?client_id=" + webClientID + "&redirect_uri=x", // unregistered redirect URI
		"/login?auth_request_id=expired",                          // unknown auth request
	} {
		t.Run(path, func(t *testing.T) {
			resp, body := getWithRequestID(t, e, e.issuer+path, "")
			if resp.StatusCode != http.StatusBadRequest || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
				t.Fatalf("status %d, Content-Type %q: want an HTML error page", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			id := resp.Header.Get("X-Request-Id")
			if id == "" {
				t.Fatal("no X-Request-Id header")
			}
			if !strings.Contains(body, `<code class="request-id">`+html.EscapeString(id)+`</code>`) {
				t.Fatalf("the page does not show request ID %s:\n%s", id, body)
			}
		})
	}
}

// TestE2EAccessLog drives an authorization with a code through login and
// the token endpoint and checks the access log: one line per request with
// method, route pattern, tenant, status, duration and request ID; the
// request's other log lines carry the same ID; nothing from a query
// string, no code, state, verifier or cookie. Not parallel: it swaps the
// global slog handler.
func TestE2EAccessLog(t *testing.T) {
	logs := &lockedBuffer{}
	prev := slog.Default()
	slog.SetDefault(slog.New(op.LogHandler(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	t.Cleanup(func() { slog.SetDefault(prev) })

	e := newTestServer(t)
	b := e.newBrowser(t)
	cfg := e.config(e.web, "openid", "profile")
	v := newPKCE()
	u, state := authURL(cfg, v.challenge())
	authorize := b.get(u)
	if !authorize.isLoginPage() {
		t.Fatalf("want the login page, got status %d", authorize.status)
	}
	loggedIn := b.login(authorize, "alice", alicePassword)
	code := loggedIn.requireRedirectTo(t, cfg.RedirectURL).Get("code")
	if _, err := cfg.Exchange(e.ctx(t), code, v.verify()); err != nil {
		t.Fatal(err)
	}
	session := b.cookie(e.issuer+"/", "herald_session")
	if session == "" {
		t.Fatal("no session cookie after login")
	}
	// The same tenant at a hostname of its own: the route pattern has no
	// /t/{tenant} prefix, the tenant is still named.
	e.updateTenant(t, tenantAcme, func(tn *storage.Tenant) { tn.Hostnames = []string{"login.acme.test"} })
	hosted, err := (&http.Client{Transport: e.hostedTransport()}).Get("http://login.acme.test/authorize?client_id=nobody")
	if err != nil {
		t.Fatal(err)
	}
	hosted.Body.Close()
	if hosted.StatusCode != http.StatusBadRequest {
		t.Fatalf("hosted authorize: status %d, want the 400 error page", hosted.StatusCode)
	}

	type line struct {
		Msg        string   `json:"msg"`
		Method     string   `json:"method"`
		Route      string   `json:"route"`
		Tenant     *string  `json:"tenant"`
		Status     int      `json:"status"`
		DurationMS *float64 `json:"duration_ms"`
		RequestID  string   `json:"request_id"`
	}
	out := logs.String()
	var access []line
	loginSucceeded := ""
	for _, raw := range strings.Split(strings.TrimSpace(out), "\n") {
		var l line
		if err := json.Unmarshal([]byte(raw), &l); err != nil {
			t.Fatalf("log line is not JSON: %v\n%s", err, raw)
		}
		switch l.Msg {
		case "request":
			access = append(access, l)
		case "login succeeded":
			loginSucceeded = l.RequestID
		}
	}
	find := func(method, route string) line {
		t.Helper()
		var found []line
		for _, l := range access {
			if l.Method == method && l.Route == route {
				found = append(found, l)
			}
		}
		if len(found) != 1 {
			t.Fatalf("%d access lines for %s %s, want 1; all lines:\n%s", len(found), method, route, out)
		}
		return found[0]
	}
	for _, want := range []struct {
		method, route string
		status        int
	}{
		{http.MethodGet, "/t/{tenant}/authorize", http.StatusSeeOther},
		{http.MethodGet, "/t/{tenant}/login", http.StatusOK},
		{http.MethodPost, "/t/{tenant}/login", http.StatusSeeOther},
		{http.MethodPost, "/t/{tenant}/token", http.StatusOK},
		{http.MethodGet, "/authorize", http.StatusBadRequest}, // at the tenant's hostname
	} {
		t.Run(want.method+" "+want.route, func(t *testing.T) {
			l := find(want.method, want.route)
			if l.Status != want.status {
				t.Errorf("status %d, want %d", l.Status, want.status)
			}
			if l.Tenant == nil || *l.Tenant != tenantAcme {
				t.Errorf("tenant %v, want %q", l.Tenant, tenantAcme)
			}
			if l.DurationMS == nil || *l.DurationMS < 0 {
				t.Errorf("duration_ms %v, want a non-negative number", l.DurationMS)
			}
			if !generatedID.MatchString(l.RequestID) {
				t.Errorf("request_id %q, want a generated ID", l.RequestID)
			}
		})
	}
	if postLogin := find(http.MethodPost, "/t/{tenant}/login"); loginSucceeded != postLogin.RequestID {
		t.Errorf(`"login succeeded" carries request_id %q, want the login request's %q`, loginSucceeded, postLogin.RequestID)
	}
	for _, l := range access {
		if strings.ContainsAny(l.Route, "?=&") {
			t.Errorf("route %q carries a query", l.Route)
		}
	}
	for what, secret := range map[string]string{
		"authorization code": code,
		"state":              state,
		"code verifier":      v.verifier,
		"session cookie":     session,
		"query string":       "response_type=code",
		"auth request query": "auth_request_id=",
	} {
		if strings.Contains(out, secret) {
			t.Errorf("the logs contain the %s", what)
		}
	}
}

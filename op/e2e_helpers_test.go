package op_test

// The end-to-end harness: Herald in-process behind httptest on a real SQLite
// file (or PostgreSQL + Redis, see e2e_store_test.go), driven by real
// relying-party libraries (coreos/go-oidc, golang.org/x/oauth2) and by a
// cookie-keeping "browser" that fills in Herald's HTML forms. Nothing is
// mocked.

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/herald-idp/herald/keys"
	"github.com/herald-idp/herald/op"
	"github.com/herald-idp/herald/op/password"
	"github.com/herald-idp/herald/op/registry"
	"github.com/herald-idp/herald/storage"
)

// Fixed registrations of tenant acme.
const (
	tenantAcme    = "acme"
	alicePassword = "correct horse battery staple 42"

	webClientID      = "rp-web" // confidential, client_secret_basic, first party
	webRedirect      = "https://rp.example/cb"
	webPostLogout    = "https://rp.example/bye"
	spaClientID      = "rp-spa" // public, PKCE, first party
	spaRedirect      = "https://spa.example/cb"
	spaOrigin        = "https://spa.example"
	thirdClientID    = "third-party" // confidential, not first party: consent page
	thirdClientName  = "Third Party App"
	thirdRedirect    = "https://third.example/cb"
	opaqueClientID   = "rp-opaque" // confidential, opaque access tokens
	opaqueRedirect   = "https://opaque.example/cb"
	msgInvalidCreds  = "Invalid username or password"
	hashMemoryKiB    = password.MinMemoryKiB
	defaultHashSlots = 4
)

// goErrorMarkers must never appear in a response body (checklist D5, K2).
var goErrorMarkers = []string{"sql:", "goroutine", ".go:", "runtime error", "panic"}

// client is a registered client as a relying party knows it.
type client struct {
	id, secret, redirect string
	method               string // storage.AuthMethodBasic, AuthMethodPost or AuthMethodNone
}

// testEnv is one running Herald with tenant acme, its clients and alice.
type testEnv struct {
	ts       *httptest.Server
	store    storage.Store
	notifier storage.Notifier // nil on SQLite
	reg      *registry.Registry
	issuer   string
	web, spa client
	third    client
	opaque   client
	// gateway is a resource server allowed to introspect every token of
	// the tenant (herald:introspect); the others see only tokens whose
	// audience names them.
	gateway client
	alice   *storage.User
}

type serverConfig struct {
	lifetimes      op.Lifetimes
	hashSlots      int
	hashMaxWait    time.Duration
	trustedProxies []netip.Prefix
	tls            bool
	wrapStore      func(storage.Store) storage.Store
	rotateConf     bool
	// store, when set, replaces newE2EStore (a second replica on shared
	// storage); shared means its fixtures exist already.
	store    storage.Store
	notifier storage.Notifier
	shared   bool
}

// withSharedStore runs the server on store; shared: the tenant, clients and
// alice were created by another replica (the caller copies them).
func withSharedStore(store storage.Store, notifier storage.Notifier, shared bool) serverOption {
	return func(c *serverConfig) { c.store, c.notifier, c.shared = store, notifier, shared }
}

type serverOption func(*serverConfig)

// withLifetimes adjusts the server's lifetimes (e.g. a 1 s code lifetime).
func withLifetimes(adjust func(*op.Lifetimes)) serverOption {
	return func(c *serverConfig) { adjust(&c.lifetimes) }
}

// withTrustedProxies sets the networks whose forwarding headers count.
func withTrustedProxies(networks ...string) serverOption {
	return func(c *serverConfig) {
		for _, n := range networks {
			c.trustedProxies = append(c.trustedProxies, netip.MustParsePrefix(n))
		}
	}
}

// withTLS serves Herald over https (httptest's certificate, which covers
// 127.0.0.1 and *.example.com): an https public URL.
func withTLS() serverOption {
	return func(c *serverConfig) { c.tls = true }
}

// withConfidentialRotation makes confidential clients' refresh tokens rotate.
func withConfidentialRotation() serverOption { return func(c *serverConfig) { c.rotateConf = true } }

// withStore wraps the test's store (e.g. to stop it).
func withStore(wrap func(storage.Store) storage.Store) serverOption {
	return func(c *serverConfig) { c.wrapStore = wrap }
}

// withHasherLimits sets the password hasher's concurrency and wait.
func withHasherLimits(slots int, maxWait time.Duration) serverOption {
	return func(c *serverConfig) { c.hashSlots, c.hashMaxWait = slots, maxWait }
}

// handlerSlot lets the httptest server start before Herald exists: Herald
// needs the server's URL as its public URL. Atomic, because the race
// detector cannot see the happens-before that a TCP round trip provides.
type handlerSlot struct{ h atomic.Pointer[http.Handler] }

func (s *handlerSlot) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := s.h.Load()
	if h == nil {
		http.Error(w, "starting", http.StatusServiceUnavailable)
		return
	}
	(*h).ServeHTTP(w, r)
}

// newTestServer starts Herald on a fresh store (newE2EStore) with tenant acme, the
// clients web (confidential, basic), spa (public), third (consent) and
// opaque, and the user alice.
func newTestServer(t *testing.T, opts ...serverOption) *testEnv {
	t.Helper()
	cfg := serverConfig{lifetimes: op.DefaultLifetimes(), hashSlots: defaultHashSlots, hashMaxWait: 10 * time.Second}
	for _, o := range opts {
		o(&cfg)
	}
	// The server's background work (change subscriptions) ends with the test.
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	store, notifier := cfg.store, cfg.notifier
	if store == nil {
		store, notifier = newE2EStore(t)
	}
	if cfg.wrapStore != nil {
		store = cfg.wrapStore(store)
	}
	km, err := keys.NewManager(store.Keys(), nil)
	if err != nil {
		t.Fatalf("key manager: %v", err)
	}
	hasher := password.NewHasher(password.Params{MemoryKiB: hashMemoryKiB, Iterations: 1, Parallelism: 1},
		cfg.hashSlots, cfg.hashMaxWait)

	slot := &handlerSlot{}
	ts := httptest.NewUnstartedServer(slot)
	if cfg.tls {
		ts.StartTLS()
	} else {
		ts.Start()
	}
	t.Cleanup(ts.Close) // runs before store.Close (LIFO)
	// One registry, as cmd/herald builds it; the test's changes go through
	// it and reach the server's caches as the admin API's would.
	reg := &registry.Registry{Store: store, Keys: km, Passwords: hasher, PublicURL: ts.URL}
	srv, err := op.New(ctx, op.Config{
		PublicURL: ts.URL, Registry: reg, Notifier: notifier, Lifetimes: cfg.lifetimes,
		TrustedProxies: cfg.trustedProxies, RotateConfidentialRefreshTokens: cfg.rotateConf,
	})
	if err != nil {
		t.Fatalf("op.New: %v", err)
	}
	reg = srv.Registry() // changes through it reach the server at once, as the admin API's
	var h http.Handler = srv
	slot.h.Store(&h)

	e := &testEnv{ts: ts, store: store, notifier: notifier, issuer: ts.URL + "/t/" + tenantAcme, reg: reg}
	if cfg.shared {
		return e
	}
	if _, err := e.reg.CreateTenant(ctx, registry.TenantSpec{Name: tenantAcme, DisplayName: "Acme"}); err != nil {
		t.Fatalf("create tenant: %v", err)
	}
	e.web = e.createClient(t, tenantAcme, registry.ClientSpec{
		ID: webClientID, Name: "RP Web", FirstParty: true,
		RedirectURIs: []string{webRedirect}, PostLogoutRedirectURIs: []string{webPostLogout},
		GrantTypes: []string{registry.GrantAuthorizationCode, registry.GrantRefreshToken, registry.GrantClientCredentials},
	})
	e.spa = e.createClient(t, tenantAcme, registry.ClientSpec{
		ID: spaClientID, Name: "RP SPA", Public: true, FirstParty: true,
		RedirectURIs: []string{spaRedirect}, CORSOrigins: []string{spaOrigin},
		GrantTypes: []string{registry.GrantAuthorizationCode, registry.GrantRefreshToken},
	})
	e.third = e.createClient(t, tenantAcme, registry.ClientSpec{
		ID: thirdClientID, Name: thirdClientName, RedirectURIs: []string{thirdRedirect},
	})
	e.opaque = e.createClient(t, tenantAcme, registry.ClientSpec{
		ID: opaqueClientID, FirstParty: true, AccessTokenFormat: storage.AccessTokenOpaque,
		RedirectURIs: []string{opaqueRedirect},
	})
	e.gateway = e.createClient(t, tenantAcme, registry.ClientSpec{
		ID: "gateway", GrantTypes: []string{registry.GrantClientCredentials}, Scopes: []string{"herald:introspect"},
	})
	e.alice, err = e.reg.CreateUser(ctx, tenantAcme, registry.UserSpec{
		Username: "alice", Email: "alice@example.com", EmailVerified: true,
		Name: "Alice Liddell", GivenName: "Alice", FamilyName: "Liddell", Password: alicePassword,
	})
	if err != nil {
		t.Fatalf("create alice: %v", err)
	}
	return e
}

// createClient registers a client and returns what its relying party knows.
func (e *testEnv) createClient(t *testing.T, tenant string, spec registry.ClientSpec) client {
	t.Helper()
	c, secret, err := e.reg.CreateClient(context.Background(), tenant, spec)
	if err != nil {
		t.Fatalf("create client %s/%s: %v", tenant, spec.ID, err)
	}
	cl := client{id: c.ID, secret: secret, method: c.AuthMethod}
	if len(c.RedirectURIs) > 0 {
		cl.redirect = c.RedirectURIs[0]
	}
	return cl
}

// ctx carries the test server's HTTP client for oauth2 and go-oidc.
func (e *testEnv) ctx(t *testing.T) context.Context {
	return context.WithValue(t.Context(), oauth2.HTTPClient, e.ts.Client())
}

// issuerOf is the issuer URL of any tenant of this server.
func (e *testEnv) issuerOf(tenant string) string { return e.ts.URL + "/t/" + tenant }

// oauthConfig is the oauth2 configuration of c at issuer.
func oauthConfig(issuer string, c client, scopes ...string) *oauth2.Config {
	style := oauth2.AuthStyleInHeader
	if c.method != storage.AuthMethodBasic {
		style = oauth2.AuthStyleInParams
	}
	return &oauth2.Config{
		ClientID: c.id, ClientSecret: c.secret, RedirectURL: c.redirect, Scopes: scopes,
		Endpoint: oauth2.Endpoint{AuthURL: issuer + "/authorize", TokenURL: issuer + "/token", AuthStyle: style},
	}
}

// config is oauthConfig at tenant acme.
func (e *testEnv) config(c client, scopes ...string) *oauth2.Config {
	return oauthConfig(e.issuer, c, scopes...)
}

// pkce is one PKCE verifier with its authorize and token options.
type pkce struct{ verifier string }

func newPKCE() pkce                             { return pkce{oauth2.GenerateVerifier()} }
func (p pkce) challenge() oauth2.AuthCodeOption { return oauth2.S256ChallengeOption(p.verifier) }
func (p pkce) verify() oauth2.AuthCodeOption    { return oauth2.VerifierOption(p.verifier) }

// authURL builds an authorization request, adding a random state.
func authURL(cfg *oauth2.Config, opts ...oauth2.AuthCodeOption) (string, string) {
	state := oauth2.GenerateVerifier()[:22]
	return cfg.AuthCodeURL(state, opts...), state
}

// signInCode runs an authorization request in b, logging alice in if the
// login page appears, and returns the code after checking state and iss.
func (e *testEnv) signInCode(t *testing.T, b *browser, cfg *oauth2.Config, opts ...oauth2.AuthCodeOption) string {
	t.Helper()
	u, state := authURL(cfg, opts...)
	p := b.get(u)
	if p.isLoginPage() {
		p = b.login(p, "alice", alicePassword)
	}
	q := p.requireRedirectTo(t, cfg.RedirectURL)
	if q.Get("error") != "" {
		t.Fatalf("authorization failed: error=%q description=%q", q.Get("error"), q.Get("error_description"))
	}
	if q.Get("state") != state {
		t.Fatalf("state = %q, want %q", q.Get("state"), state)
	}
	if q.Get("iss") != e.issuer {
		t.Fatalf("iss = %q, want %q (RFC 9207)", q.Get("iss"), e.issuer)
	}
	if q.Get("code") == "" {
		t.Fatalf("no code in %s", p.header.Get("Location"))
	}
	return q.Get("code")
}

// tokens runs a full code flow with PKCE for c and exchanges the code.
func (e *testEnv) tokens(t *testing.T, b *browser, c client, scopes ...string) *oauth2.Token {
	t.Helper()
	cfg := e.config(c, scopes...)
	v := newPKCE()
	code := e.signInCode(t, b, cfg, v.challenge())
	tok, err := cfg.Exchange(e.ctx(t), code, v.verify())
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	return tok
}

// jsonResponse is a response of a JSON endpoint.
type jsonResponse struct {
	status int
	header http.Header
	body   string
	json   map[string]any
}

// str returns a string member of the JSON body ("" if absent).
func (r *jsonResponse) str(key string) string {
	s, _ := r.json[key].(string)
	return s
}

// requireError asserts an OAuth error response with the given status.
func (r *jsonResponse) requireError(t *testing.T, status int, code string) {
	t.Helper()
	if r.status != status || r.str("error") != code {
		t.Fatalf("got %d error=%q (%s), want %d error=%q", r.status, r.str("error"), r.body, status, code)
	}
}

// requireStatus asserts the HTTP status.
func (r *jsonResponse) requireStatus(t *testing.T, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d: %s", r.status, status, r.body)
	}
}

// postForm POSTs form to an endpoint of issuer, authenticating as c with
// its registered method (none: client_id in the body only).
func (e *testEnv) postForm(t *testing.T, endpoint string, c *client, form url.Values) *jsonResponse {
	t.Helper()
	form = cloneValues(form)
	req, err := http.NewRequest(http.MethodPost, endpoint, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c != nil {
		switch c.method {
		case storage.AuthMethodBasic:
			req.SetBasicAuth(url.QueryEscape(c.id), url.QueryEscape(c.secret))
		case storage.AuthMethodPost:
			form.Set("client_id", c.id)
			form.Set("client_secret", c.secret)
		default:
			form.Set("client_id", c.id)
		}
	}
	setFormBody(req, form.Encode())
	return e.doJSON(t, req)
}

// token POSTs to acme's token endpoint.
func (e *testEnv) token(t *testing.T, c client, form url.Values) *jsonResponse {
	t.Helper()
	return e.postForm(t, e.issuer+"/token", &c, form)
}

// introspect asks acme's introspection endpoint as the web client.
func (e *testEnv) introspect(t *testing.T, token string) *jsonResponse {
	t.Helper()
	r := e.postForm(t, e.issuer+"/introspect", &e.gateway, url.Values{"token": {token}})
	if r.status != http.StatusOK {
		t.Fatalf("introspect: %d %s", r.status, r.body)
	}
	return r
}

// requireActive asserts what introspection says about token.
func (e *testEnv) requireActive(t *testing.T, token string, want bool) *jsonResponse {
	t.Helper()
	r := e.introspect(t, token)
	if got, _ := r.json["active"].(bool); got != want {
		t.Fatalf("introspection active = %v, want %v (%s)", got, want, r.body)
	}
	return r
}

// userinfoStatus calls acme's userinfo endpoint with a bearer token.
func (e *testEnv) userinfoStatus(t *testing.T, accessToken string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.issuer+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+accessToken)
	return e.doJSON(t, req).status
}

// refresh redeems a refresh token at acme as c.
func (e *testEnv) refresh(t *testing.T, c client, rt string) *jsonResponse {
	t.Helper()
	return e.token(t, c, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
}

// exchangeRaw redeems a code at acme as c with explicit parameters.
func (e *testEnv) exchangeRaw(t *testing.T, c client, code, redirectURI, verifier string) *jsonResponse {
	t.Helper()
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}}
	if verifier != "" {
		form.Set("code_verifier", verifier)
	}
	return e.token(t, c, form)
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// registryUser is a user spec with alice's password (any valid one would do).
func registryUser(username string) registry.UserSpec {
	return registry.UserSpec{Username: username, Email: username + "@example.com", Name: username, Password: alicePassword}
}

// oauth2PromptNone is the prompt=none authorization parameter.
func oauth2PromptNone() oauth2.AuthCodeOption { return oauth2.SetAuthURLParam("prompt", "none") }

func jsonUnmarshalString(s string, v any) error { return json.Unmarshal([]byte(s), v) }

package op

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herald-idp/herald/keys"
	"github.com/herald-idp/herald/op/password"
	"github.com/herald-idp/herald/op/registry"
	"github.com/herald-idp/herald/storage"
	"github.com/herald-idp/herald/storage/sqlite"
)

// countingStore counts the tenant reads that reach storage.
type countingStore struct {
	storage.Store
	tenantReads atomic.Int64
}

func (s *countingStore) Tenants() storage.Tenants {
	return countingTenants{Tenants: s.Store.Tenants(), reads: &s.tenantReads}
}

type countingTenants struct {
	storage.Tenants
	reads *atomic.Int64
}

func (t countingTenants) Tenant(ctx context.Context, name string) (*storage.Tenant, error) {
	t.reads.Add(1)
	return t.Tenants.Tenant(ctx, name)
}

func (t countingTenants) TenantByHostname(ctx context.Context, host string) (*storage.Tenant, error) {
	t.reads.Add(1)
	return t.Tenants.TenantByHostname(ctx, host)
}

const countingPublicURL = "http://herald.test"

// memoryStore is an in-memory SQLite store, closed when the test ends.
func memoryStore(ctx context.Context, t *testing.T) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(ctx, sqlite.MemoryDSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// TestTokenRequestReadsTenantAtMostOnce: the tenant is resolved once per
// request (tenants.go) and every handler uses that; nothing fetches it
// again. With every cache cold each token, introspection and userinfo
// request reads the tenant from storage at most once; warm, not at all.
func TestTokenRequestReadsTenantAtMostOnce(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	base := memoryStore(ctx, t)
	store := &countingStore{Store: base}
	km, err := keys.NewManager(store.Keys(), nil)
	if err != nil {
		t.Fatal(err)
	}
	hasher := password.NewHasher(password.Params{MemoryKiB: password.MinMemoryKiB, Iterations: 1, Parallelism: 1}, 1, time.Second)
	reg := &registry.Registry{Store: store, Keys: km, Passwords: hasher, PublicURL: countingPublicURL}
	if _, err := reg.CreateTenant(ctx, registry.TenantSpec{Name: "acme"}); err != nil {
		t.Fatal(err)
	}
	const redirect = "https://rp.example/cb"
	cl, secret, err := reg.CreateClient(ctx, "acme", registry.ClientSpec{
		ID: "rp-web", FirstParty: true, RedirectURIs: []string{redirect},
		GrantTypes: []string{registry.GrantAuthorizationCode, registry.GrantRefreshToken, registry.GrantClientCredentials},
	})
	if err != nil {
		t.Fatal(err)
	}
	user, err := reg.CreateUser(ctx, "acme", registry.UserSpec{Username: "alice", Password: "correct horse battery staple 42"})
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(ctx, Config{PublicURL: countingPublicURL, Registry: reg, Lifetimes: DefaultLifetimes()})
	if err != nil {
		t.Fatal(err)
	}

	// An authorization code as the login flow stores it.
	code := randomToken(32)
	now := time.Now()
	if err := store.AuthCodes().CreateAuthCode(ctx, &storage.AuthCode{
		TenantID: "acme", CodeHash: hashToken(code), GrantID: randomToken(16), ClientID: cl.ID, Issuer: countingPublicURL + "/t/acme",
		RedirectURI: redirect, UserID: user.ID, Scopes: []string{"openid", "profile", "offline_access"},
		AuthTime: now, AMR: []string{"pwd"}, CreatedAt: now, ExpiresAt: now.Add(time.Minute),
	}); err != nil {
		t.Fatal(err)
	}

	post := func(path string, form url.Values) map[string]any {
		t.Helper()
		r := httptest.NewRequest(http.MethodPost, countingPublicURL+"/t/acme"+path, strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.SetBasicAuth(cl.ID, secret)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			t.Fatalf("POST %s: %d %s", path, w.Code, w.Body)
		}
		var body map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
			t.Fatalf("POST %s: %v", path, err)
		}
		return body
	}
	// reads runs one request with every cache cold and returns how many
	// times it read the tenant from storage.
	reads := func(request func()) int64 {
		s.caches.Forget("")
		store.tenantReads.Store(0)
		request()
		return store.tenantReads.Load()
	}

	var tokens map[string]any
	steps := []struct {
		name    string
		request func()
	}{
		{"authorization_code", func() {
			tokens = post("/token", url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect}})
		}},
		{"refresh_token", func() {
			post("/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tokens["refresh_token"].(string)}})
		}},
		{"client_credentials", func() { post("/token", url.Values{"grant_type": {"client_credentials"}}) }},
		{"introspection", func() {
			if got := post("/introspect", url.Values{"token": {tokens["access_token"].(string)}}); got["active"] != true {
				t.Fatalf("introspection of a fresh access token: %v", got)
			}
		}},
		{"userinfo", func() {
			r := httptest.NewRequest(http.MethodGet, countingPublicURL+"/t/acme/userinfo", nil)
			r.Header.Set("Authorization", "Bearer "+tokens["access_token"].(string))
			w := httptest.NewRecorder()
			s.ServeHTTP(w, r)
			if w.Code != http.StatusOK {
				t.Fatalf("userinfo: %d %s", w.Code, w.Body)
			}
		}},
	}
	for _, step := range steps {
		if n := reads(step.request); n > 1 {
			t.Errorf("%s with cold caches read the tenant %d times from storage, want at most 1", step.name, n)
		}
	}
	// Warm: the tenant cache answers, storage is not asked at all.
	store.tenantReads.Store(0)
	post("/token", url.Values{"grant_type": {"client_credentials"}})
	if n := store.tenantReads.Load(); n != 0 {
		t.Errorf("client_credentials with warm caches read the tenant %d times from storage, want 0", n)
	}
}

// TestForgetDropsEveryTenantCache: Forget(tenant) empties every per-tenant
// cache of that tenant and leaves other tenants' alone; Forget("") empties
// them all.
func TestForgetDropsEveryTenantCache(t *testing.T) {
	ks := &countingKeys{}
	km, err := keys.NewManager(ks, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := newTenantCaches(nil, km, nil)
	// keyLoads is how many times reading tenant's keys reached storage.
	keyLoads := func(tenant string) int64 {
		before := ks.lists.Load()
		if _, err := km.PublicKeys(t.Context(), tenant); err != nil {
			t.Fatal(err)
		}
		return ks.lists.Load() - before
	}
	fill := func(tenant string) {
		keyLoads(tenant)
		c.byName.Add(tenant, tenantLookup{&storage.Tenant{Name: tenant}})
		c.unknown.Add(tenant, struct{}{})
		c.byHost.Add(tenant+".example", tenantLookup{&storage.Tenant{Name: tenant}})
		c.clients.Add(tenant, &tenantClients{})
		c.origins.Add(tenant, nil)
		c.discovery.Add("https://"+tenant, metadataDocument{})
		c.jwks.Add(tenant, metadataDocument{})
		c.signers.Add(tenant, &tenantSigners{})
	}
	type lens struct{ byName, unknown, clients, origins, jwks, signers int }
	count := func(tenant string) lens {
		var l lens
		for _, p := range []struct {
			n  *int
			ok bool
		}{
			{&l.byName, c.byName.Contains(tenant)}, {&l.unknown, c.unknown.Contains(tenant)},
			{&l.clients, c.clients.Contains(tenant)},
			{&l.origins, c.origins.Contains(tenant)}, {&l.jwks, c.jwks.Contains(tenant)},
			{&l.signers, c.signers.Contains(tenant)},
		} {
			if p.ok {
				*p.n = 1
			}
		}
		return l
	}
	fill("a")
	fill("b")
	c.Forget("a")
	if got := count("a"); got != (lens{}) {
		t.Errorf("after Forget(a), a is still cached: %+v", got)
	}
	if got := count("b"); got != (lens{1, 1, 1, 1, 1, 1}) {
		t.Errorf("Forget(a) dropped b's caches: %+v", got)
	}
	// Forget(a) must drop a's keys from the key manager's cache and keep b's.
	if got := keyLoads("a"); got != 1 {
		t.Errorf("key loads of a after Forget(a) = %d, want 1 (reloaded)", got)
	}
	if got := keyLoads("b"); got != 0 {
		t.Errorf("key loads of b after Forget(a) = %d, want 0 (still cached)", got)
	}
	// Hostnames and discovery documents may name a: all dropped.
	if got := c.byHost.Len(); got != 0 {
		t.Errorf("hostnames cached after Forget(a) = %d, want 0", got)
	}
	if got := c.discovery.Len(); got != 0 {
		t.Errorf("discovery documents cached after Forget(a) = %d, want 0", got)
	}
	fill("a")
	c.Forget("")
	for _, tenant := range []string{"a", "b"} {
		if got := count(tenant); got != (lens{}) {
			t.Errorf("after Forget(\"\"), %s is still cached: %+v", tenant, got)
		}
		if keyLoads(tenant) != 1 {
			t.Errorf("after Forget(\"\"), %s's keys are still cached by the key manager", tenant)
		}
	}
}

// countingKeys is a storage.Keys without keys that counts its reads.
type countingKeys struct {
	storage.Keys // nil: only ListKeys is called
	lists        atomic.Int64
}

func (k *countingKeys) ListKeys(context.Context, string) ([]*storage.SigningKey, error) {
	k.lists.Add(1)
	return nil, nil
}

// TestUnknownTenantNamesReachStorageOnce: a flood of requests for one
// unknown tenant name costs one storage read per negativeTTL, a name that
// cannot be a tenant's costs none, and creating the tenant through the
// registry makes it resolvable at once on the replica that created it and
// within a second on another (here without a notifier: the negative
// entry's TTL; with one, e2e_replicas_test.go shows the notification).
func TestUnknownTenantNamesReachStorageOnce(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	base := memoryStore(ctx, t)
	storeA, storeB := &countingStore{Store: base}, &countingStore{Store: base}
	km, err := keys.NewManager(base.Keys(), nil)
	if err != nil {
		t.Fatal(err)
	}
	hasher := password.NewHasher(password.Params{MemoryKiB: password.MinMemoryKiB, Iterations: 1, Parallelism: 1}, 1, time.Second)
	newReplica := func(store storage.Store) (*Server, *registry.Registry) {
		reg := &registry.Registry{Store: store, Keys: km, Passwords: hasher, PublicURL: countingPublicURL}
		s, err := New(ctx, Config{PublicURL: countingPublicURL, Registry: reg, Lifetimes: DefaultLifetimes()})
		if err != nil {
			t.Fatal(err)
		}
		reg.OnChange = s.TenantChanged
		return s, reg
	}
	a, regA := newReplica(storeA)
	b, _ := newReplica(storeB)
	status := func(s *Server, tenant string) int {
		r := httptest.NewRequest(http.MethodGet, countingPublicURL+"/t/"+tenant+"/.well-known/openid-configuration", nil)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		return w.Code
	}
	flood := func(s *Server, store *countingStore, tenant string, n int) int64 {
		t.Helper()
		store.tenantReads.Store(0)
		for range n {
			if got := status(s, tenant); got != http.StatusNotFound {
				t.Fatalf("unknown tenant %q: %d, want 404", tenant, got)
			}
		}
		return store.tenantReads.Load()
	}

	if n := flood(a, storeA, "ghost", 200); n != 1 {
		t.Errorf("200 requests for an unknown tenant read storage %d times, want 1", n)
	}
	for _, name := range []string{"Ghost", "-ghost", "ghost-", "gh_ost", strings.Repeat("g", 64), "%00"} {
		if n := flood(a, storeA, url.PathEscape(name), 20); n != 0 {
			t.Errorf("requests for the impossible tenant name %q read storage %d times, want 0", name, n)
		}
	}
	if n := flood(b, storeB, "ghost", 50); n != 1 {
		t.Errorf("replica B: 50 requests for an unknown tenant read storage %d times, want 1", n)
	}

	if _, err := regA.CreateTenant(ctx, registry.TenantSpec{Name: "ghost"}); err != nil {
		t.Fatal(err)
	}
	if got := status(a, "ghost"); got != http.StatusOK {
		t.Fatalf("replica A right after creating the tenant: %d, want 200", got)
	}
	start := time.Now()
	for status(b, "ghost") != http.StatusOK {
		if time.Since(start) > 1500*time.Millisecond {
			t.Fatal("replica B still answers 404 for the new tenant after 1.5 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("replica B resolved the new tenant after %s", time.Since(start))
}

// racingTenants answers "not found" but, while the lookup is in flight,
// lets the tenant be created elsewhere (a Forget arrives).
type racingTenants struct {
	storage.Tenants
	during func()
}

func (r racingTenants) Tenant(context.Context, string) (*storage.Tenant, error) {
	r.during()
	return nil, storage.ErrNotFound
}

func (r racingTenants) TenantByHostname(context.Context, string) (*storage.Tenant, error) {
	r.during()
	return nil, storage.ErrNotFound
}

type racingStore struct {
	storage.Store
	tenants racingTenants
}

func (s racingStore) Tenants() storage.Tenants { return s.tenants }

// TestNegativeLookupRacingAChangeIsNotCached: a lookup that read "unknown"
// before the tenant was created, and finished after the change was
// announced, must not leave a stale negative entry behind.
func TestNegativeLookupRacingAChangeIsNotCached(t *testing.T) {
	km, err := keys.NewManager(&countingKeys{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var c *tenantCaches
	store := racingStore{tenants: racingTenants{during: func() { c.Forget("ghost") }}}
	c = newTenantCaches(store, km, nil)
	if _, err := c.tenant(t.Context(), "ghost"); err == nil {
		t.Fatal("want not found")
	}
	if c.unknown.Contains("ghost") {
		t.Error("a negative name lookup that raced a change was cached")
	}
	if _, err := c.tenantByHost(t.Context(), "ghost.example"); err == nil {
		t.Fatal("want not found")
	}
	if c.byHost.Contains("ghost.example") {
		t.Error("a negative host lookup that raced a change was cached")
	}
	// Without a race, the miss is remembered.
	store.tenants.during = func() {}
	c.store = store
	_, _ = c.tenant(t.Context(), "ghost")
	if !c.unknown.Contains("ghost") {
		t.Error("an unknown name was not remembered")
	}
}

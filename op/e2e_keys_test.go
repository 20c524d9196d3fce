package op_test

// Signing keys end to end: every algorithm for every token use, JWKS
// caching headers, a relying party through rotations and a revocation, and
// two replicas that find a rotation due at the same moment.

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/herald-idp/herald/keys"
	"github.com/herald-idp/herald/op"
	"github.com/herald-idp/herald/op/password"
	"github.com/herald-idp/herald/op/registry"
	"github.com/herald-idp/herald/storage"
	"github.com/herald-idp/herald/storage/postgres"
	redisstore "github.com/herald-idp/herald/storage/redis"
)

// keyClock is the key manager's clock; the rest of Herald runs on real time.
type keyClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *keyClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *keyClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// testPolicy is short enough to walk through with keyClock.
var testPolicy = keys.Policy{RotationPeriod: time.Hour, PrePublish: keys.JWKSMaxAge + time.Minute, RetireMargin: time.Minute}

// keysEnv is Herald on a fresh store with tenant acme (signing with alg),
// the web client and alice, whose key manager runs on clock.
type keysEnv struct {
	*testEnv
	srv   *op.Server
	clock *keyClock
}

func newKeysEnv(t *testing.T, alg string, lifetimes op.Lifetimes) *keysEnv {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	store, notifier := newE2EStore(t)
	clock := &keyClock{now: time.Now()}
	km, err := keys.NewManager(store.Keys(), nil, keys.WithClock(clock.Now), keys.WithPolicy(testPolicy))
	if err != nil {
		t.Fatal(err)
	}
	hasher := password.NewHasher(password.Params{MemoryKiB: hashMemoryKiB, Iterations: 1, Parallelism: 1}, defaultHashSlots, 10*time.Second)
	slot := &handlerSlot{}
	ts := httptest.NewServer(slot)
	t.Cleanup(ts.Close)
	reg := &registry.Registry{Store: store, Keys: km, Passwords: hasher, PublicURL: ts.URL}
	srv, err := op.New(ctx, op.Config{PublicURL: ts.URL, Registry: reg, Notifier: notifier,
		Lifetimes: lifetimes, KeyMaintenance: -1})
	if err != nil {
		t.Fatal(err)
	}
	reg = srv.Registry() // changes through it reach the server at once, as the admin API's
	var h http.Handler = srv
	slot.h.Store(&h)
	e := &testEnv{ts: ts, store: store, notifier: notifier, issuer: ts.URL + "/t/" + tenantAcme, reg: reg}
	if _, err := e.reg.CreateTenant(ctx, registry.TenantSpec{Name: tenantAcme, SigningAlgorithm: alg}); err != nil {
		t.Fatal(err)
	}
	e.web = e.createClient(t, tenantAcme, registry.ClientSpec{ID: webClientID, FirstParty: true,
		RedirectURIs: []string{webRedirect}, PostLogoutRedirectURIs: []string{webPostLogout},
		GrantTypes: []string{registry.GrantAuthorizationCode, registry.GrantRefreshToken, registry.GrantClientCredentials}})
	// The resource server that introspects (herald:introspect), as in
	// newTestServer.
	e.gateway = e.createClient(t, tenantAcme, registry.ClientSpec{
		ID: "gateway", GrantTypes: []string{registry.GrantClientCredentials}, Scopes: []string{"herald:introspect"},
	})
	if e.alice, err = e.reg.CreateUser(ctx, tenantAcme, registryUser("alice")); err != nil {
		t.Fatal(err)
	}
	return &keysEnv{testEnv: e, srv: srv, clock: clock}
}

// kidOf returns the kid and alg in a JWS header.
func kidOf(t *testing.T, token string) (kid, alg string) {
	t.Helper()
	jws, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA})
	if err != nil {
		t.Fatalf("not a JWS: %v", err)
	}
	return jws.Signatures[0].Header.KeyID, jws.Signatures[0].Header.Algorithm
}

// jwks fetches the tenant's JWKS and returns its kids.
func (e *testEnv) jwksKids(t *testing.T) []string {
	t.Helper()
	return jwksKidsAt(t, e.ts.Client(), e.issuer+"/jwks")
}

// jwksKidsAt lists the key IDs of the JWKS at url, in the order served.
func jwksKidsAt(t *testing.T, c *http.Client, url string) []string {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.KeyID)
	}
	return kids
}

// TestE2EEveryAlgorithm: RS256, ES256 and EdDSA tenants each issue and
// accept ID tokens, JWT access tokens (userinfo, introspection) and their
// own ID tokens as id_token_hint.
func TestE2EEveryAlgorithm(t *testing.T) {
	t.Parallel()
	base := newTestServer(t)
	for _, alg := range []string{keys.RS256, keys.ES256, keys.EdDSA} {
		t.Run(alg, func(t *testing.T) {
			name := "alg-" + strings.ToLower(alg)
			if _, err := base.reg.CreateTenant(t.Context(), registry.TenantSpec{Name: name, SigningAlgorithm: alg}); err != nil {
				t.Fatal(err)
			}
			e := *base
			e.issuer = base.issuerOf(name)
			e.web = e.createClient(t, name, registry.ClientSpec{ID: webClientID, FirstParty: true,
				RedirectURIs: []string{webRedirect}, PostLogoutRedirectURIs: []string{webPostLogout},
				GrantTypes: []string{registry.GrantAuthorizationCode}})
			e.gateway = e.createClient(t, name, registry.ClientSpec{ID: "gateway",
				GrantTypes: []string{registry.GrantClientCredentials}, Scopes: []string{"herald:introspect"}})
			var err error
			if e.alice, err = e.reg.CreateUser(t.Context(), name, registryUser("alice")); err != nil {
				t.Fatal(err)
			}
			b := e.newBrowser(t)
			tok := e.tokens(t, b, e.web, "openid", "email")
			rawID, _ := tok.Extra("id_token").(string)

			// ID token: signed with the tenant's alg, verified by go-oidc
			// from discovery and JWKS.
			if _, got := kidOf(t, rawID); got != alg {
				t.Fatalf("ID token alg %s, want %s", got, alg)
			}
			provider, err := gooidc.NewProvider(e.ctx(t), e.issuer)
			if err != nil {
				t.Fatal(err)
			}
			idt, err := provider.Verifier(&gooidc.Config{ClientID: e.web.id, SupportedSigningAlgs: []string{alg}}).Verify(e.ctx(t), rawID)
			if err != nil || idt.Subject != e.alice.ID {
				t.Fatalf("go-oidc verification of the %s ID token: %v", alg, err)
			}
			// JWT access token: same alg, accepted at userinfo and
			// introspection.
			if _, got := kidOf(t, tok.AccessToken); got != alg {
				t.Fatalf("access token alg %s, want %s", got, alg)
			}
			if s := e.userinfoStatus(t, tok.AccessToken); s != http.StatusOK {
				t.Fatalf("userinfo with a %s access token: %d", alg, s)
			}
			if r := e.requireActive(t, tok.AccessToken, true); r.str("sub") != e.alice.ID {
				t.Fatalf("introspection of a %s access token: %s", alg, r.body)
			}
			// id_token_hint: prompt=none with the hint of the signed-in user
			// answers with a code, not invalid_request.
			cfg := e.config(e.web, "openid")
			code := e.signInCode(t, b, cfg, oauth2PromptNone(), oauth2.SetAuthURLParam("id_token_hint", rawID),
				newPKCE().challenge())
			if code == "" {
				t.Fatal("no code")
			}
			// And at logout.
			p := b.get(e.issuer + "/end_session?" + url.Values{"id_token_hint": {rawID},
				"post_logout_redirect_uri": {webPostLogout}}.Encode())
			if strings.Contains(p.body, "id_token_hint") || p.status >= 400 {
				t.Fatalf("end_session with a %s id_token_hint: %d %s", alg, p.status, truncate(p.body))
			}
		})
	}
}

// TestE2EJWKSCaching: JWKS and discovery carry a max-age shorter than the
// pre-publication window, and an ETag that answers If-None-Match with 304
// until the keys change.
func TestE2EJWKSCaching(t *testing.T) {
	t.Parallel()
	e := newKeysEnv(t, keys.ES256, op.DefaultLifetimes())
	get := func(path, inm string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, e.issuer+path, nil)
		if inm != "" {
			req.Header.Set("If-None-Match", inm)
		}
		resp, err := e.ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for _, path := range []string{"/jwks", "/.well-known/openid-configuration"} {
		r := get(path, "")
		etag := r.Header.Get("ETag")
		maxAge, err := strconv.Atoi(strings.TrimPrefix(r.Header.Get("Cache-Control"), "public, max-age="))
		requireAll(t, path,
			field("status", r.StatusCode, http.StatusOK),
			field("ETag present", etag != "", true),
			field("Cache-Control is public, max-age=N", err == nil, true))
		if time.Duration(maxAge)*time.Second >= keys.DefaultPrePublish || time.Duration(maxAge)*time.Second >= testPolicy.PrePublish {
			t.Fatalf("%s: max-age %ds is not shorter than the pre-publication window", path, maxAge)
		}
		if r := get(path, etag); r.StatusCode != http.StatusNotModified || r.Header.Get("ETag") != etag {
			t.Fatalf("%s with If-None-Match: %d, want 304", path, r.StatusCode)
		}
		if r := get(path, `"other", W/`+etag); r.StatusCode != http.StatusNotModified {
			t.Fatalf("%s with a list containing the weak tag: %d, want 304", path, r.StatusCode)
		}
		if r := get(path, `"stale"`); r.StatusCode != http.StatusOK {
			t.Fatalf("%s with a stale tag: %d, want 200", path, r.StatusCode)
		}
	}
	before := get("/jwks", "").Header.Get("ETag")
	e.clock.Advance(testPolicy.PrePublish)
	if _, err := e.reg.RotateKeys(t.Context(), tenantAcme, ""); err != nil {
		t.Fatal(err)
	}
	if r := get("/jwks", before); r.StatusCode != http.StatusOK || r.Header.Get("ETag") == before {
		t.Fatalf("JWKS after a rotation with the old ETag: %d %q, want 200 with a new ETag", r.StatusCode, r.Header.Get("ETag"))
	}
}

// TestE2ERotationRelyingParty: a go-oidc relying party (RemoteKeySet: keys
// cached, refetched on an unknown kid) keeps logging in and verifying
// through two rotations with no failed verification; tokens minted right
// after a rotation carry the promoted kid; old tokens keep verifying until
// the retired key leaves the JWKS; a revoked key fails at once.
func TestE2ERotationRelyingParty(t *testing.T) {
	t.Parallel()
	lt := op.DefaultLifetimes()
	lt.IDToken, lt.AccessToken = 10*time.Minute, 10*time.Minute
	e := newKeysEnv(t, keys.RS256, lt)
	provider, err := gooidc.NewProvider(e.ctx(t), e.issuer)
	if err != nil {
		t.Fatal(err)
	}
	verifier := provider.Verifier(&gooidc.Config{ClientID: e.web.id})
	b := e.newBrowser(t)
	failures := 0
	type minted struct{ id, access, kid string }
	var all []minted
	login := func() minted {
		t.Helper()
		tok := e.tokens(t, b, e.web, "openid")
		raw, _ := tok.Extra("id_token").(string)
		kid, _ := kidOf(t, raw)
		m := minted{raw, tok.AccessToken, kid}
		all = append(all, m)
		return m
	}
	verifyAll := func() {
		t.Helper()
		for _, m := range all {
			if _, err := verifier.Verify(e.ctx(t), m.id); err != nil {
				failures++
				t.Errorf("verification of a token signed by %s failed: %v", m.kid, err)
			}
		}
	}

	first := login()
	verifyAll()
	var rotatedOut []string
	for round := range 2 {
		// Between rotations: more logins, all verifying.
		for range 3 {
			login()
			verifyAll()
		}
		e.clock.Advance(testPolicy.PrePublish)
		st, err := e.reg.RotateKeys(t.Context(), tenantAcme, "")
		if err != nil {
			t.Fatalf("rotation %d: %v", round+1, err)
		}
		rotatedOut = append(rotatedOut, all[len(all)-1].kid)
		// Minted right after the rotation: signed by the promoted key.
		if m := login(); m.kid != st.Active {
			t.Fatalf("token after rotation %d signed by %s, want the promoted %s", round+1, m.kid, st.Active)
		}
		verifyAll()
		if kids := e.jwksKids(t); !slices.Contains(kids, st.Next) || !slices.Contains(kids, rotatedOut[round]) {
			t.Fatalf("JWKS after rotation %d = %v: want the fresh next key and the retired one", round+1, kids)
		}
	}
	if failures != 0 {
		t.Fatalf("%d failed verifications through two rotations", failures)
	}
	// The first key signs nothing now, but its tokens still verify (a
	// fresh RP, no cache) until they have expired.
	fresh := gooidc.NewRemoteKeySet(e.ctx(t), e.issuer+"/jwks")
	if _, err := fresh.VerifySignature(e.ctx(t), first.id); err != nil {
		t.Fatalf("a retired key's token no longer verifies: %v", err)
	}
	if s := e.userinfoStatus(t, first.access); s != http.StatusOK {
		t.Fatalf("userinfo with a retired key's unexpired access token: %d", s)
	}
	// Past the longest token lifetime plus the margin the retired keys
	// leave the JWKS.
	e.clock.Advance(lt.IDToken + testPolicy.RetireMargin)
	if err := e.srv.MaintainKeys(t.Context()); err != nil {
		t.Fatal(err)
	}
	kids := e.jwksKids(t)
	if slices.Contains(kids, rotatedOut[0]) || slices.Contains(kids, rotatedOut[1]) || len(kids) != 2 {
		t.Fatalf("JWKS after expiry = %v: the retired keys %v must be gone, active and next left", kids, rotatedOut)
	}
	if _, err := gooidc.NewRemoteKeySet(e.ctx(t), e.issuer+"/jwks").VerifySignature(e.ctx(t), first.id); err == nil {
		t.Fatal("a removed key's token still verifies against the JWKS")
	}

	// Emergency: revoke the active key. Its tokens fail at once at Herald;
	// new tokens are signed by the promoted next key and verify.
	victim := login()
	res, err := e.reg.RevokeKey(t.Context(), tenantAcme, victim.kid)
	if err != nil || !res.Promoted {
		t.Fatalf("revoke = %+v, %v", res, err)
	}
	if s := e.userinfoStatus(t, victim.access); s != http.StatusUnauthorized {
		t.Fatalf("userinfo with a revoked key's token: %d, want 401", s)
	}
	e.requireActive(t, victim.access, false)
	if slices.Contains(e.jwksKids(t), victim.kid) {
		t.Fatal("the revoked key is still in the JWKS")
	}
	if _, err := gooidc.NewRemoteKeySet(e.ctx(t), e.issuer+"/jwks").VerifySignature(e.ctx(t), victim.id); err == nil {
		t.Fatal("a revoked key's token verifies against the JWKS")
	}
	after := login()
	if after.kid != res.Active {
		t.Fatalf("after revocation tokens are signed by %s, want %s", after.kid, res.Active)
	}
	if _, err := verifier.Verify(e.ctx(t), after.id); err != nil {
		t.Fatalf("token after revocation: %v", err)
	}
}

// startKeyReplica is startReplica with a key manager on clock and no
// background maintenance; it returns the server for MaintainKeys.
func startKeyReplica(t *testing.T, store storage.Store, notifier storage.Notifier, clock *keyClock) (*replica, *op.Server) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	km, err := keys.NewManager(store.Keys(), nil, keys.WithClock(clock.Now), keys.WithPolicy(testPolicy))
	if err != nil {
		t.Fatal(err)
	}
	return serveReplica(ctx, t, store, notifier, km, -1)
}

// openReplicaStore opens a replica's own connections to the shared
// PostgreSQL database and Redis prefix.
func openReplicaStore(t *testing.T, dbURL, redisURL, prefix string) (storage.Store, storage.Notifier) {
	t.Helper()
	pg, err := postgres.Open(t.Context(), dbURL, e2ePostgresOptions)
	if err != nil {
		t.Fatal(err)
	}
	short, err := redisstore.Open(t.Context(), redisURL, redisstore.Options{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	s := storage.Combine(pg, short, "postgres", "redis")
	t.Cleanup(func() { _ = s.Close() })
	return s, short
}

// TestE2EReplicasRotateOnce: two replicas on one PostgreSQL + Redis find the
// scheduled rotation due at the same moment: exactly one new key; the other
// replica publishes it and signs with the promoted key within a second.
func TestE2EReplicasRotateOnce(t *testing.T) {
	dbURL := newPostgresDatabase(t)
	redisURL, prefix := newRedisPrefix(t)
	storeA, notifierA := openReplicaStore(t, dbURL, redisURL, prefix)
	storeB, notifierB := openReplicaStore(t, dbURL, redisURL, prefix)
	stores := []storage.Store{storeA, storeB}
	clock := &keyClock{now: time.Now()}
	a, srvA := startKeyReplica(t, storeA, notifierA, clock)
	b, srvB := startKeyReplica(t, storeB, notifierB, clock)
	ctx := t.Context()
	km, _ := keys.NewManager(stores[0].Keys(), nil, keys.WithClock(clock.Now), keys.WithPolicy(testPolicy))
	reg := &registry.Registry{Store: stores[0], Keys: km, PublicURL: replicaPublicURL}
	if _, err := reg.CreateTenant(ctx, registry.TenantSpec{Name: tenantAcme}); err != nil {
		t.Fatal(err)
	}
	cl, secret, err := reg.CreateClient(ctx, tenantAcme, registry.ClientSpec{ID: "svc", RedirectURIs: []string{webRedirect},
		GrantTypes: []string{registry.GrantClientCredentials}})
	if err != nil {
		t.Fatal(err)
	}
	signedBy := func(r *replica) string {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, replicaPublicURL+"/t/acme/token", nil)
		setFormBody(req, url.Values{"grant_type": {"client_credentials"}}.Encode())
		req.SetBasicAuth(cl.ID, secret)
		tok := doJSONVia(t, r.client, req)
		tok.requireStatus(t, http.StatusOK)
		kid, _ := kidOf(t, tok.str("access_token"))
		return kid
	}
	firstA, firstB := signedBy(a), signedBy(b)
	if firstA != firstB {
		t.Fatalf("replicas sign with %s and %s", firstA, firstB)
	}
	before, _ := stores[0].Keys().ListKeys(ctx, tenantAcme)
	// Warm both replicas' JWKS caches: only a change notification can
	// refresh them within the second checked below.
	a.jwksKids(t)
	b.jwksKids(t)

	clock.Advance(testPolicy.RotationPeriod)
	var wg sync.WaitGroup
	for _, s := range []*op.Server{srvA, srvB} {
		wg.Go(func() {
			if err := s.MaintainKeys(ctx); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	after, _ := stores[0].Keys().ListKeys(ctx, tenantAcme)
	if len(after) != len(before)+1 {
		t.Fatalf("%d keys before, %d after two replicas rotated: want exactly one new key", len(before), len(after))
	}
	var active, next string
	for _, k := range after {
		switch k.Status {
		case storage.KeyActive:
			active = k.ID
		case storage.KeyNext:
			next = k.ID
		}
	}
	deadline := time.Now().Add(time.Second)
	for _, r := range []*replica{a, b} {
		for {
			kid := signedBy(r)
			jwks := r.jwksKids(t)
			if kid == active && slices.Contains(jwks, next) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("a replica still signs with %s / publishes %v a second after the rotation (want %s, %s)", kid, jwks, active, next)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

func (r *replica) jwksKids(t *testing.T) []string {
	t.Helper()
	return jwksKidsAt(t, r.client, replicaPublicURL+"/t/acme/jwks")
}

// TestE2ERewrapWhileServing: two replicas serve token and JWKS requests
// while every key is re-sealed under a new KEK (they accept the new one as
// previous, the runbook's first roll); no request fails, their caches are
// reloaded throughout, and afterwards the new KEK alone opens everything.
// (Without the new KEK as previous, about half the requests fail: checked
// by hand when this test was written.)
func TestE2ERewrapWhileServing(t *testing.T) {
	dbURL := newPostgresDatabase(t)
	redisURL, prefix := newRedisPrefix(t)
	oldKEK, newKEK := make([]byte, keys.KEKSize), make([]byte, keys.KEKSize)
	for i := range oldKEK {
		oldKEK[i], newKEK[i] = byte(i), byte(255-i)
	}
	ctx := t.Context()
	setup, _ := openReplicaStore(t, dbURL, redisURL, prefix)
	km, err := keys.NewManager(setup.Keys(), oldKEK, keys.WithSecrets(setup.Secrets()))
	if err != nil {
		t.Fatal(err)
	}
	reg := &registry.Registry{Store: setup, Keys: km, PublicURL: replicaPublicURL}
	for _, name := range []string{tenantAcme, "beta"} {
		if _, err := reg.CreateTenant(ctx, registry.TenantSpec{Name: name, SigningAlgorithm: keys.ES256}); err != nil {
			t.Fatal(err)
		}
	}
	if err := km.CheckKEK(ctx, []string{tenantAcme, "beta"}); err != nil {
		t.Fatal(err)
	}
	cl, secret, err := reg.CreateClient(ctx, tenantAcme, registry.ClientSpec{ID: "svc", RedirectURIs: []string{webRedirect},
		GrantTypes: []string{registry.GrantClientCredentials}})
	if err != nil {
		t.Fatal(err)
	}
	var replicas []*replica
	for range 2 {
		store, notifier := openReplicaStore(t, dbURL, redisURL, prefix)
		// A key cache of a millisecond: every request reloads and opens the
		// keys, whichever KEK sealed them at that moment.
		rkm, err := keys.NewManager(store.Keys(), oldKEK, keys.WithPreviousKEK(newKEK), keys.WithCacheTTL(time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		srvCtx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		r, _ := serveReplica(srvCtx, t, store, notifier, rkm, -1)
		replicas = append(replicas, r)
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	requests, failures := 0, 0
	for i := range 4 {
		r := replicas[i%2]
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				req, _ := http.NewRequest(http.MethodPost, replicaPublicURL+"/t/acme/token", nil)
				setFormBody(req, url.Values{"grant_type": {"client_credentials"}}.Encode())
				req.SetBasicAuth(cl.ID, secret)
				resp, err := r.client.Do(req)
				ok := err == nil && resp.StatusCode == http.StatusOK
				if err == nil {
					resp.Body.Close()
				}
				mu.Lock()
				requests++
				if !ok {
					failures++
				}
				mu.Unlock()
				r.status(t, http.MethodGet, "/t/beta/jwks", "", nil)
			}
		})
	}
	time.Sleep(200 * time.Millisecond)
	rewrapper, err := keys.NewManager(setup.Keys(), newKEK, keys.WithSecrets(setup.Secrets()), keys.WithPreviousKEK(oldKEK))
	if err != nil {
		t.Fatal(err)
	}
	res, err := rewrapper.Rewrap(ctx, []string{tenantAcme, "beta"}, op.SealedSecrets...)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	close(stop)
	wg.Wait()
	if failures != 0 || requests < 10 {
		t.Fatalf("%d of %d token requests failed during the rewrap", failures, requests)
	}
	if res.Resealed != 8 || res.Secrets != len(op.SealedSecrets) || !res.Check {
		t.Fatalf("rewrap = %+v, want 8 keys (2 tenants × RS256 and ES256 × active and next), the server's secrets and the check value", res)
	}
	onlyNew, _ := keys.NewManager(setup.Keys(), newKEK, keys.WithSecrets(setup.Secrets()))
	if err := onlyNew.CheckKEK(ctx, []string{tenantAcme, "beta"}); err != nil {
		t.Fatalf("the new KEK alone after the rewrap: %v", err)
	}
	onlyOld, _ := keys.NewManager(setup.Keys(), oldKEK, keys.WithSecrets(setup.Secrets()))
	if err := onlyOld.CheckKEK(ctx, nil); err == nil {
		t.Fatal("the old KEK alone passes the check after the rewrap")
	}
	t.Logf("%d token requests, none failed, during the rewrap", requests)
}

// TestE2ERetiredKeyOutlivesClientTokens: a client whose access tokens live
// longer than the tenant's keeps a retired key in the JWKS until those
// tokens have expired too.
func TestE2ERetiredKeyOutlivesClientTokens(t *testing.T) {
	t.Parallel()
	e := newKeysEnv(t, keys.ES256, op.DefaultLifetimes())
	e.createClient(t, tenantAcme, registry.ClientSpec{ID: "long-lived", RedirectURIs: []string{webRedirect},
		GrantTypes: []string{registry.GrantClientCredentials}, AccessTokenLifetime: 3 * time.Hour})
	before := e.jwksKids(t)
	e.clock.Advance(testPolicy.PrePublish)
	st, err := e.reg.RotateKeys(t.Context(), tenantAcme, "")
	if err != nil {
		t.Fatal(err)
	}
	var retired string
	for _, kid := range before {
		if kid != st.Active && slices.Contains(e.jwksKids(t), kid) {
			k, _ := e.store.Keys().ListKeys(t.Context(), tenantAcme)
			for _, r := range k {
				if r.ID == kid && r.Status == storage.KeyRetired {
					retired = kid
				}
			}
		}
	}
	if retired == "" {
		t.Fatalf("no retired ES256 key after the rotation (JWKS before %v)", before)
	}
	// Past the tenant's token lifetimes, but not the client's.
	e.clock.Advance(op.DefaultLifetimes().AccessToken + testPolicy.RetireMargin)
	if err := e.srv.MaintainKeys(t.Context()); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(e.jwksKids(t), retired) {
		t.Fatal("the retired key left the JWKS while a client's tokens signed with it may still be valid")
	}
	e.clock.Advance(3 * time.Hour)
	if err := e.srv.MaintainKeys(t.Context()); err != nil {
		t.Fatal(err)
	}
	if slices.Contains(e.jwksKids(t), retired) {
		t.Fatal("the retired key is still published after every token it signed has expired")
	}
}

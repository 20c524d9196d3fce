package op_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/herald-idp/herald/keys"
	"github.com/herald-idp/herald/op"
	"github.com/herald-idp/herald/op/password"
	"github.com/herald-idp/herald/op/registry"
	"github.com/herald-idp/herald/storage"
	"github.com/herald-idp/herald/storage/postgres"
	redisstore "github.com/herald-idp/herald/storage/redis"
)

// replica is one Herald process of a deployment: its own store
// connections, caches and listener, the deployment's public URL.
type replica struct {
	ts     *httptest.Server
	client *http.Client // sends every request to this replica, Host as given
}

const replicaPublicURL = "http://herald.test"

func startReplica(t *testing.T, dbURL, redisURL, prefix string) *replica {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	pg, err := postgres.Open(ctx, dbURL, e2ePostgresOptions)
	if err != nil {
		t.Fatal(err)
	}
	short, err := redisstore.Open(ctx, redisURL, redisstore.Options{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	store := storage.Combine(pg, short, "postgres", "redis")
	t.Cleanup(func() { _ = store.Close() })
	km, err := keys.NewManager(store.Keys(), nil)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := serveReplica(ctx, t, store, short, km, 0)
	return r
}

// serveReplica builds one replica's server on store and km, as cmd/herald
// would (keyMaintenance as op.Config.KeyMaintenance), and serves it over
// HTTP; the replica's client reaches only this server, whatever the URL.
func serveReplica(ctx context.Context, t *testing.T, store storage.Store, notifier storage.Notifier, km *keys.Manager,
	keyMaintenance time.Duration) (*replica, *op.Server) {
	t.Helper()
	hasher := password.NewHasher(password.Params{MemoryKiB: hashMemoryKiB, Iterations: 1, Parallelism: 1}, 2, 5*time.Second)
	reg := &registry.Registry{Store: store, Keys: km, Passwords: hasher, PublicURL: replicaPublicURL}
	srv, err := op.New(ctx, op.Config{PublicURL: replicaPublicURL, Registry: reg, Notifier: notifier,
		Lifetimes: op.DefaultLifetimes(), KeyMaintenance: keyMaintenance})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	addr := ts.Listener.Addr().String()
	var d net.Dialer
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return d.DialContext(ctx, "tcp", addr)
	}}
	return &replica{ts: ts, client: &http.Client{Transport: tr, Timeout: 10 * time.Second}}, srv
}

func (r *replica) status(t *testing.T, method, path, token string, form url.Values) int {
	t.Helper()
	var body *http.Request
	var err error
	if form != nil {
		body, err = http.NewRequest(method, replicaPublicURL+path, nil)
		setFormBody(body, form.Encode())
	} else {
		body, err = http.NewRequest(method, replicaPublicURL+path, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		body.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := r.client.Do(body)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// waitStatus polls until path answers want and returns how long it took,
// failing after limit.
func (r *replica) waitStatus(t *testing.T, path string, want int, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		if r.status(t, http.MethodGet, path, "", nil) == want {
			return time.Since(start)
		}
		if time.Since(start) > limit {
			t.Fatalf("%s did not answer %d within %s", path, want, limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestE2EReplicasSeeTenantChangesWithinASecond: with two Herald replicas on
// one PostgreSQL + Redis, a tenant created through replica A is served by
// replica B within one second, and disabling it on A stops B from serving
// it within one second too — although B had it cached (change
// notifications over Redis, not cache expiry). Always runs on PostgreSQL +
// Redis: replicas need shared storage.
func TestE2EReplicasSeeTenantChangesWithinASecond(t *testing.T) {
	dbURL := newPostgresDatabase(t)
	redisURL, prefix := newRedisPrefix(t)
	a := startReplica(t, dbURL, redisURL, prefix)
	b := startReplica(t, dbURL, redisURL, prefix)

	// Bootstrap the admin client directly in storage (as `herald admin
	// bootstrap` does), then act only through replica A's admin API.
	token, _, _ := adminTokenVia(t, dbURL, a)

	const disc = "/t/fresh/.well-known/openid-configuration"
	// Both replicas remember that the name is unknown (tenantcache.go).
	for _, r := range []*replica{a, b} {
		if st := r.status(t, http.MethodGet, disc, "", nil); st != http.StatusNotFound {
			t.Fatalf("a replica serves the tenant before it exists: %d", st)
		}
	}
	if st := a.status(t, http.MethodPost, "/admin/v1/tenants", token, nil); st != http.StatusUnsupportedMediaType && st != http.StatusBadRequest {
		t.Fatalf("admin API without a body: %d", st)
	}
	create, _ := http.NewRequest(http.MethodPost, replicaPublicURL+"/admin/v1/tenants", nil)
	setJSONBody(create, `{"name":"fresh"}`)
	create.Header.Set("Authorization", "Bearer "+token)
	doJSONVia(t, a.client, create).requireStatus(t, http.StatusCreated)
	if st := a.status(t, http.MethodGet, disc, "", nil); st != http.StatusOK {
		t.Fatalf("A, which created the tenant, still answers %d for it", st)
	}
	took := b.waitStatus(t, disc, http.StatusOK, time.Second)
	t.Logf("replica B served the new tenant after %s", took)

	disable, _ := http.NewRequest(http.MethodPost, replicaPublicURL+"/admin/v1/tenants/fresh/disable", nil)
	disable.Header.Set("Authorization", "Bearer "+token)
	doJSONVia(t, a.client, disable).requireStatus(t, http.StatusOK)
	took = b.waitStatus(t, disc, http.StatusNotFound, time.Second)
	t.Logf("replica B stopped serving the disabled tenant after %s", took)
}

// doJSONVia sends req with client and reads a JSON answer.
func doJSONVia(t *testing.T, client *http.Client, req *http.Request) *jsonResponse {
	t.Helper()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	r := &jsonResponse{status: resp.StatusCode, header: resp.Header, body: string(body)}
	_ = json.Unmarshal(body, &r.json)
	return r
}

func setJSONBody(req *http.Request, body string) {
	setFormBody(req, body)
	req.Header.Set("Content-Type", "application/json")
}

// TestE2EReplicasSeeRevocationsAtOnce: a token revoked through replica A is
// refused by replica B on B's very next request — grant status is read
// from storage at every use, not cached per replica (docs/tokens.md).
func TestE2EReplicasSeeRevocationsAtOnce(t *testing.T) {
	dbURL := newPostgresDatabase(t)
	redisURL, prefix := newRedisPrefix(t)
	a := startReplica(t, dbURL, redisURL, prefix)
	b := startReplica(t, dbURL, redisURL, prefix)
	token, id, secret := adminTokenVia(t, dbURL, a)
	for name, r := range map[string]*replica{"A": a, "B": b} {
		if st := r.status(t, http.MethodGet, "/admin/v1/tenants", token, nil); st != http.StatusOK {
			t.Fatalf("replica %s before revocation: %d", name, st)
		}
	}
	rev, _ := http.NewRequest(http.MethodPost, replicaPublicURL+"/t/system/revoke", nil)
	setFormBody(rev, url.Values{"token": {token}}.Encode())
	rev.SetBasicAuth(id, secret)
	doJSONVia(t, a.client, rev).requireStatus(t, http.StatusOK)
	for name, r := range map[string]*replica{"A": a, "B": b} {
		if st := r.status(t, http.MethodGet, "/admin/v1/tenants", token, nil); st != http.StatusUnauthorized {
			t.Errorf("replica %s right after the revocation on A: %d, want 401", name, st)
		}
	}
}

// adminTokenVia bootstraps the admin client directly in storage (as
// `herald admin bootstrap` does) and returns an admin access token obtained
// through replica r, with the client's ID and secret.
func adminTokenVia(t *testing.T, dbURL string, r *replica) (token, id, secret string) {
	t.Helper()
	ctx := context.Background()
	pg, err := postgres.Open(ctx, dbURL, e2ePostgresOptions)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	km, _ := keys.NewManager(pg.Keys(), nil)
	reg := &registry.Registry{Store: pg, Keys: km, PublicURL: replicaPublicURL}
	id, secret, _, err = reg.Bootstrap(ctx, replicaPublicURL)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, replicaPublicURL+"/t/system/token", nil)
	setFormBody(req, url.Values{"grant_type": {"client_credentials"}, "scope": {registry.AdminScope}}.Encode())
	req.SetBasicAuth(id, secret)
	tok := doJSONVia(t, r.client, req)
	tok.requireStatus(t, http.StatusOK)
	return tok.str("access_token"), id, secret
}

// TestE2EReplicasSeeTokenRevocationsWithinASecond: introspection answers
// from each replica's grant-state cache (grantcache.go). A token revoked
// through replica A is inactive on A at once and on B — which had just
// introspected it as active — within one second, with no message between
// the replicas having to arrive.
func TestE2EReplicasSeeTokenRevocationsWithinASecond(t *testing.T) {
	dbURL := newPostgresDatabase(t)
	redisURL, prefix := newRedisPrefix(t)
	a := startReplica(t, dbURL, redisURL, prefix)
	b := startReplica(t, dbURL, redisURL, prefix)
	token, id, secret := adminTokenVia(t, dbURL, a)
	introspect := func(r *replica) bool {
		req, _ := http.NewRequest(http.MethodPost, replicaPublicURL+"/t/system/introspect", nil)
		setFormBody(req, url.Values{"token": {token}}.Encode())
		req.SetBasicAuth(id, secret)
		resp := doJSONVia(t, r.client, req)
		resp.requireStatus(t, http.StatusOK)
		active, _ := resp.json["active"].(bool)
		return active
	}
	for name, r := range map[string]*replica{"A": a, "B": b} {
		if !introspect(r) {
			t.Fatalf("replica %s: the new token is inactive", name)
		}
	}
	rev, _ := http.NewRequest(http.MethodPost, replicaPublicURL+"/t/system/revoke", nil)
	setFormBody(rev, url.Values{"token": {token}}.Encode())
	rev.SetBasicAuth(id, secret)
	doJSONVia(t, a.client, rev).requireStatus(t, http.StatusOK)
	revoked := time.Now()
	if introspect(a) {
		t.Fatal("replica A, which revoked the token, still calls it active")
	}
	for introspect(b) {
		if time.Since(revoked) > time.Second {
			t.Fatal("replica B still calls the token active a second after its revocation on A")
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("replica B saw the revocation after %s", time.Since(revoked))
}

package op_test

// Tenant-scaling benchmarks (issue 4 §4): discovery and the token endpoint
// must not slow down when 10,000 tenants are registered. Herald runs
// in-process on a SQLite file, driven through its http.Handler with
// httptest requests and recorders: no network, so the only thing that
// changes between the sub-benchmarks is the number of tenants in storage.
// `make bench` runs them and records throughput(10000) / throughput(1).

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/herald-idp/herald/keys"
	"github.com/herald-idp/herald/op"
	"github.com/herald-idp/herald/op/password"
	"github.com/herald-idp/herald/op/registry"
	"github.com/herald-idp/herald/storage"
	"github.com/herald-idp/herald/storage/sqlite"
)

const (
	benchPublicURL = "http://herald.bench"
	benchTenant    = "acme"
	benchClientID  = "bench-m2m"
)

// tenantCounts are the sub-benchmarks: the measured tenant alone, then
// among 10,000.
var tenantCounts = []int{1, 10_000}

// scalingEnv is one Herald whose storage holds tenants tenants, of which
// only benchTenant is used.
type scalingEnv struct {
	handler http.Handler
	issuer  string
	basic   string // Authorization header of the client_credentials client
}

// newScalingEnv builds Herald on a fresh SQLite file with benchTenant (made
// through the registry, so it has keys and a client) plus tenants-1 others
// inserted directly with store.Tenants().CreateTenant. The others get no
// signing keys: keys are generated lazily on a tenant's first use, so only
// the measured tenant has any. Generating 10,000 RSA keys would take minutes
// and is not what is measured — the question is whether resolving a tenant,
// its client and its key costs more when many tenants exist.
func newScalingEnv(b *testing.B, tenants int) *scalingEnv {
	b.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "herald.db"))
	if err != nil {
		b.Fatalf("open sqlite: %v", err)
	}
	b.Cleanup(func() { _ = store.Close() })
	km, err := keys.NewManager(store.Keys(), nil)
	if err != nil {
		b.Fatalf("key manager: %v", err)
	}
	hasher := password.NewHasher(password.Params{MemoryKiB: password.MinMemoryKiB, Iterations: 1, Parallelism: 1}, 1, time.Second)
	reg := &registry.Registry{Store: store, Keys: km, Passwords: hasher, PublicURL: benchPublicURL}

	// EdDSA: its 25 µs signature leaves the per-request work that could
	// grow with the tenant count (tenant, client and key lookups, the token
	// insert) as most of the request; an RS256 signature (~1 ms) would hide
	// a regression of the rest behind noise.
	if _, err := reg.CreateTenant(ctx, registry.TenantSpec{Name: benchTenant, SigningAlgorithm: keys.EdDSA}); err != nil {
		b.Fatalf("create tenant: %v", err)
	}
	_, secret, err := reg.CreateClient(ctx, benchTenant, registry.ClientSpec{
		ID: benchClientID, GrantTypes: []string{registry.GrantClientCredentials},
	})
	if err != nil {
		b.Fatalf("create client: %v", err)
	}
	insertTenants(b, store, tenants-1)

	srv, err := op.New(ctx, op.Config{PublicURL: benchPublicURL, Registry: reg, Lifetimes: op.DefaultLifetimes()})
	if err != nil {
		b.Fatalf("op.New: %v", err)
	}
	req, _ := http.NewRequest(http.MethodPost, "/", nil)
	req.SetBasicAuth(url.QueryEscape(benchClientID), url.QueryEscape(secret))
	return &scalingEnv{handler: srv, issuer: benchPublicURL + "/t/" + benchTenant, basic: req.Header.Get("Authorization")}
}

// insertTenants adds n key-less tenants t00000, t00001, ... that sort
// around the measured one.
func insertTenants(b *testing.B, store storage.Store, n int) {
	b.Helper()
	ctx := context.Background()
	now := time.Now()
	for i := range n {
		t := &storage.Tenant{
			Name: fmt.Sprintf("t%05d", i), DisplayName: "Tenant", SigningAlgorithm: keys.RS256,
			CreatedAt: now, UpdatedAt: now,
		}
		if err := store.Tenants().CreateTenant(ctx, t); err != nil {
			b.Fatalf("create tenant %d: %v", i, err)
		}
	}
}

// serve runs one request through the handler and fails on any status but
// 200 (a benchmark of error responses would measure nothing useful).
func (e *scalingEnv) serve(b *testing.B, newRequest func() *http.Request) {
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, newRequest())
	if rec.Code != http.StatusOK {
		b.Fatalf("status %d: %s", rec.Code, rec.Body.String())
	}
}

func (e *scalingEnv) discoveryRequest() *http.Request {
	return httptest.NewRequest(http.MethodGet, e.issuer+"/.well-known/openid-configuration", nil)
}

func (e *scalingEnv) tokenRequest() *http.Request {
	r := httptest.NewRequest(http.MethodPost, e.issuer+"/token", strings.NewReader("grant_type=client_credentials"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Authorization", e.basic)
	return r
}

// benchmarkTenants runs request against an environment of each tenant
// count. With b.Loop the sub-benchmark body runs once, so the set-up before
// the loop is neither repeated nor timed.
func benchmarkTenants(b *testing.B, request func(*scalingEnv) func() *http.Request) {
	// zitadel/oidc logs every route it registers through the default
	// logger; keep the benchmark output to the results.
	defer slog.SetDefault(slog.Default())
	slog.SetDefault(slog.New(slog.DiscardHandler))
	for _, n := range tenantCounts {
		b.Run(fmt.Sprintf("tenants=%d", n), func(b *testing.B) {
			env := newScalingEnv(b, n)
			newRequest := request(env)
			env.serve(b, newRequest) // warm the caches: tenant, client, keys, signer
			b.ReportAllocs()
			cpu0 := processCPU()
			for b.Loop() {
				env.serve(b, newRequest)
			}
			// CPU per request as well as wall time: on a shared machine
			// other processes stretch the wall time, not the CPU time.
			b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}

// processCPU is the test process's user+system time (all threads).
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func BenchmarkDiscoveryTenants(b *testing.B) {
	benchmarkTenants(b, func(e *scalingEnv) func() *http.Request { return e.discoveryRequest })
}

func BenchmarkClientCredentialsTenants(b *testing.B) {
	benchmarkTenants(b, func(e *scalingEnv) func() *http.Request { return e.tokenRequest })
}

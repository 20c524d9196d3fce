package op_test

// The cost of telemetry on the hottest request (issue 14): a
// client_credentials token request in-process, with telemetry off, with
// Prometheus metrics on (the storage decorator included, as serve runs
// it), and with metrics and tracing on (every span exported to a sink that
// drops it). One command runs all three:
//
//	go test -run '^$' -bench BenchmarkTokenTelemetry -benchtime 3000x ./op/
//
// Compare cpu-ns/op: the CPU time per request of the whole process.

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/herald-idp/herald/internal/telemetry"
	"github.com/herald-idp/herald/keys"
	"github.com/herald-idp/herald/op"
	"github.com/herald-idp/herald/op/password"
	"github.com/herald-idp/herald/op/registry"
	"github.com/herald-idp/herald/storage/observed"
	"github.com/herald-idp/herald/storage/sqlite"
)

// dropSpans is an exporter that discards what it is given.
type dropSpans struct{}

func (dropSpans) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (dropSpans) Shutdown(context.Context) error                             { return nil }

func newTelemetryEnv(b *testing.B, tel *telemetry.Telemetry) *scalingEnv {
	b.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "herald.db"))
	if err != nil {
		b.Fatalf("open sqlite: %v", err)
	}
	b.Cleanup(func() { _ = db.Close() })
	store := observed.Wrap(db, tel, "sqlite", "")
	km, err := keys.NewManager(store.Keys(), nil)
	if err != nil {
		b.Fatalf("key manager: %v", err)
	}
	hasher := password.NewHasher(password.Params{MemoryKiB: password.MinMemoryKiB, Iterations: 1, Parallelism: 1}, 1, time.Second)
	reg := &registry.Registry{Store: store, Keys: km, Passwords: hasher, PublicURL: benchPublicURL}
	if _, err := reg.CreateTenant(ctx, registry.TenantSpec{Name: benchTenant, SigningAlgorithm: keys.EdDSA}); err != nil {
		b.Fatalf("create tenant: %v", err)
	}
	_, secret, err := reg.CreateClient(ctx, benchTenant, registry.ClientSpec{
		ID: benchClientID, GrantTypes: []string{registry.GrantClientCredentials},
	})
	if err != nil {
		b.Fatalf("create client: %v", err)
	}
	srv, err := op.New(ctx, op.Config{PublicURL: benchPublicURL, Registry: reg, Lifetimes: op.DefaultLifetimes(),
		KeyMaintenance: -1, Telemetry: tel})
	if err != nil {
		b.Fatalf("op.New: %v", err)
	}
	req, _ := http.NewRequest(http.MethodPost, "/", nil)
	req.SetBasicAuth(url.QueryEscape(benchClientID), url.QueryEscape(secret))
	return &scalingEnv{handler: srv, issuer: benchPublicURL + "/t/" + benchTenant, basic: req.Header.Get("Authorization")}
}

func BenchmarkTokenTelemetry(b *testing.B) {
	defer slog.SetDefault(slog.Default())
	slog.SetDefault(slog.New(slog.DiscardHandler))
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(dropSpans{}))
	b.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	for _, c := range []struct {
		name string
		tel  func() *telemetry.Telemetry
	}{
		{"off", func() *telemetry.Telemetry { return nil }},
		{"metrics", func() *telemetry.Telemetry {
			return telemetry.New(telemetry.Options{Metrics: true, TenantLabel: 100})
		}},
		{"metrics+tracing", func() *telemetry.Telemetry {
			return telemetry.New(telemetry.Options{Metrics: true, TenantLabel: 100, TracerProvider: tp})
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			env := newTelemetryEnv(b, c.tel())
			env.serve(b, env.tokenRequest) // warm the caches
			b.ReportAllocs()
			cpu0 := processCPU()
			for b.Loop() {
				env.serve(b, env.tokenRequest)
			}
			b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}

package telemetry

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestDocumented: every herald_ series is in docs/observability.md's
// table, and every herald_ name the docs and the Grafana dashboard use
// exists (a histogram's _bucket, _count and _sum included); the dashboard
// is valid JSON whose panels all have queries.
func TestDocumented(t *testing.T) {
	tel := New(Options{Metrics: true, TenantLabel: 5})
	ctx := context.Background()
	tel.RequestStarted()
	tel.RequestDone(ctx, "/t/{tenant}/login", "POST", 429, "acme", "", time.Millisecond)
	for _, e := range []string{"login.succeeded", "login.throttled", "mfa.totp", "code.replay", "refresh.reuse"} {
		tel.AuthEvent("acme", e, "success", "throttled:account")
	}
	tel.TokenIssued("acme", "client_credentials", "access_jwt", "EdDSA")
	tel.CacheLookup(CacheClient, true)
	tel.SigningKeys(map[[2]string]time.Time{{"acme", "RS256"}: time.Now()})
	tel.HashSlot(ctx, time.Now(), "acquired")()
	tel.WatchHasher(func() (int, int) { return 1, 0 })
	_, c := tel.StorageOps("sqlite", []string{"Tenants.Tenant"}).Start(ctx, 0)
	c.End(errors.New("down"), nil)

	mfs, err := tel.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	exported := map[string]bool{}
	for _, mf := range mfs {
		name := mf.GetName()
		exported[name] = true
		if h := mf.GetType().String(); h == "HISTOGRAM" {
			for _, s := range []string{"_bucket", "_count", "_sum"} {
				exported[name+s] = true
			}
		}
	}
	doc, err := os.ReadFile("../../docs/observability.md")
	if err != nil {
		t.Fatal(err)
	}
	dash, err := os.ReadFile("../../docs/grafana-herald.json")
	if err != nil {
		t.Fatal(err)
	}
	for name := range exported {
		if strings.HasPrefix(name, "herald_") && !strings.HasSuffix(name, "_bucket") && !strings.HasSuffix(name, "_count") &&
			!strings.HasSuffix(name, "_sum") && !strings.Contains(string(doc), "| `"+name+"` |") {
			t.Errorf("%s is not in the table of docs/observability.md", name)
		}
	}
	used := regexp.MustCompile(`herald_[a-z_]+`)
	for file, text := range map[string]string{"observability.md": string(doc), "grafana-herald.json": string(dash)} {
		for _, name := range used.FindAllString(text, -1) {
			if !exported[name] && name != "herald_" {
				t.Errorf("%s names %s, which Herald does not export", file, name)
			}
		}
	}

	var d struct {
		Panels []struct {
			Type, Title string
			Targets     []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(dash, &d); err != nil {
		t.Fatalf("grafana-herald.json: %v", err)
	}
	var titles []string
	for _, p := range d.Panels {
		if p.Type == "row" {
			continue
		}
		titles = append(titles, p.Title)
		if len(p.Targets) == 0 || p.Targets[0].Expr == "" {
			t.Errorf("panel %q has no query", p.Title)
		}
	}
	for _, want := range []string{"Login success rate", "p95 latency per endpoint and tenant", "Throttled requests (429) per second"} {
		if !slices.Contains(titles, want) {
			t.Errorf("the dashboard has no %q panel", want)
		}
	}
}

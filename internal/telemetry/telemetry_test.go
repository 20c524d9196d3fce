package telemetry

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// TestNilDoesNothing: every method is safe on the nil *Telemetry that New
// returns when nothing is asked for.
func TestNilDoesNothing(t *testing.T) {
	tel := New(Options{})
	if tel != nil {
		t.Fatal("New(Options{}) is not nil")
	}
	ctx := context.Background()
	tel.RequestStarted()
	tel.RequestDone(ctx, "/x", "GET", 200, "acme", "web", time.Millisecond)
	tel.AuthEvent("acme", "login.succeeded", "success", "")
	tel.TokenIssued("acme", "client_credentials", "access_jwt", "RS256")
	tel.CacheLookup(CacheClient, true)
	tel.SigningKeys(nil)
	tel.WatchHasher(func() (int, int) { return 0, 0 })
	tel.HashSlot(ctx, time.Now(), "acquired")()
	_, s := tel.Span(ctx, "x")
	s.End(nil)
	ops := tel.StorageOps("sqlite", []string{"Tenants.Tenant"})
	_, c := ops.Start(ctx, 0)
	c.End(nil, nil)
	if tel.Metrics() || tel.Tracing() || tel.Registry() != nil {
		t.Fatal("nil telemetry reports itself on")
	}
	h := http.NotFoundHandler()
	if got := tel.Handler(h); got == nil {
		t.Fatal("Handler(nil telemetry) is nil")
	}
}

// TestTenantLabelBounded: with a limit of N, the first N tenants keep their
// name and every later one is "other"; 0 leaves the label empty.
func TestTenantLabelBounded(t *testing.T) {
	l := newTenantLabels(2)
	for _, c := range []struct{ in, want string }{
		{"a", "a"}, {"b", "b"}, {"a", "a"}, {"c", OtherTenant}, {"d", OtherTenant}, {"b", "b"}, {"", ""},
	} {
		if got := l.label(c.in); got != c.want {
			t.Errorf("label(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	off := newTenantLabels(0)
	if got := off.label("a"); got != "" {
		t.Errorf("label with the tenant label off = %q, want empty", got)
	}
}

// TestLabelsBounded: methods outside the standard set and an unmatched
// route do not make new label values.
func TestLabelsBounded(t *testing.T) {
	tel := New(Options{Metrics: true, TenantLabel: 10})
	tel.RequestStarted()
	tel.RequestDone(context.Background(), "", "BREW-COFFEE-"+strings.Repeat("x", 50), 404, "", "", time.Millisecond)
	body := scrapeString(t, tel)
	if !strings.Contains(body, `herald_http_requests_total{method="OTHER",route="unmatched",status="404",tenant=""} 1`) {
		t.Errorf("unexpected request series:\n%s", grep(body, "herald_http_requests_total"))
	}
}

// TestAuthEventSeries: the audit funnel's events land in their series.
func TestAuthEventSeries(t *testing.T) {
	tel := New(Options{Metrics: true, TenantLabel: 10})
	tel.AuthEvent("acme", "login.succeeded", "success", "")
	tel.AuthEvent("acme", "login.failed", "failure", "wrong_password")
	tel.AuthEvent("acme", "login.throttled", "denied", "throttled:account")
	tel.AuthEvent("acme", "mfa.totp", "failure", "wrong_code")
	tel.AuthEvent("acme", "code.replay", "denied", "grant_revoked")
	tel.AuthEvent("acme", "refresh.reuse", "denied", "grant_revoked")
	body := scrapeString(t, tel)
	for _, want := range []string{
		`herald_logins_total{outcome="success",reason="",tenant="acme"} 1`,
		`herald_logins_total{outcome="failure",reason="wrong_password",tenant="acme"} 1`,
		`herald_logins_total{outcome="denied",reason="throttled",tenant="acme"} 1`,
		`herald_login_throttle_decisions_total{scope="account",tenant="acme"} 1`,
		`herald_second_factor_total{event="mfa.totp",outcome="failure",tenant="acme"} 1`,
		`herald_code_replays_total{tenant="acme"} 1`,
		`herald_refresh_token_reuse_total{tenant="acme"} 1`,
		`herald_auth_events_total{event="refresh.reuse",outcome="denied",tenant="acme"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("missing %s", want)
		}
	}
}

// TestSpans: the request span gets the route as its name and the tenant
// and client as attributes; child spans only start under a recording span
// (background work starts no traces); a failed storage call is marked
// failed without its error text.
func TestSpans(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	tel := New(Options{TracerProvider: tp})
	if _, s := tel.Span(context.Background(), "orphan"); s.s != nil {
		t.Error("a span started without a parent")
	}
	h := tel.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		ops := tel.StorageOps("postgres", []string{"Tokens.IssueTokens"})
		_, c := ops.Start(ctx, 0)
		c.End(errors.New("secret-value in an error"), nil)
		tel.HashSlot(ctx, time.Now(), "acquired")()
		tel.RequestDone(ctx, "/t/{tenant}/token", r.Method, 200, "acme", "web", time.Millisecond)
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/t/acme/token?code=secret-code", nil))
	spans := rec.Ended()
	names := map[string]sdktrace.ReadOnlySpan{}
	for _, s := range spans {
		names[s.Name()] = s
	}
	server, ok := names["POST /t/{tenant}/token"]
	if !ok {
		t.Fatalf("no request span; spans: %v", names)
	}
	attrs := map[string]string{}
	for _, a := range server.Attributes() {
		attrs[string(a.Key)] = a.Value.String()
	}
	if attrs["herald.tenant"] != "acme" || attrs["herald.client_id"] != "web" || attrs["http.route"] != "/t/{tenant}/token" {
		t.Errorf("request span attributes %v", attrs)
	}
	if server.SpanKind() != trace.SpanKindServer {
		t.Errorf("request span kind %v", server.SpanKind())
	}
	st, ok := names["storage Tokens.IssueTokens"]
	if !ok || st.Parent().SpanID() != server.SpanContext().SpanID() {
		t.Fatalf("storage span missing or not a child of the request: %v", names)
	}
	if st.Status().Code != 2 || strings.Contains(st.Status().Description, "secret") {
		t.Errorf("storage span status %+v", st.Status())
	}
	if _, ok := names["password hash"]; !ok {
		t.Error("no password hash span")
	}
	for _, s := range spans {
		for _, a := range s.Attributes() {
			if strings.Contains(a.Value.String(), "secret") {
				t.Errorf("span %q attribute %s = %q", s.Name(), a.Key, a.Value.String())
			}
		}
	}
}

func scrapeString(t *testing.T, tel *Telemetry) string {
	t.Helper()
	rec := httptest.NewRecorder()
	tel.MetricsHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	return rec.Body.String()
}

func grep(body, prefix string) string {
	var out []string
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestConcurrentUse runs the label limiter, the key-age collector and the
// request series from many goroutines (run with -race).
func TestConcurrentUse(t *testing.T) {
	tel := New(Options{Metrics: true, TenantLabel: 3})
	done := make(chan struct{})
	for g := range 8 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range 200 {
				tenant := string(rune('a' + (g+i)%6))
				tel.RequestStarted()
				tel.RequestDone(context.Background(), "/t/{tenant}/token", "POST", 200, tenant, "", time.Microsecond)
				tel.SigningKeys(map[[2]string]time.Time{{tenant, "RS256"}: time.Now()})
			}
		}()
	}
	go func() {
		for range 20 {
			scrapeString(t, tel)
		}
		done <- struct{}{}
	}()
	for range 9 {
		<-done
	}
	body := scrapeString(t, tel)
	tenants := map[string]bool{}
	for _, l := range strings.Split(grep(body, "herald_http_requests_total"), "\n") {
		if i := strings.Index(l, `tenant="`); i >= 0 {
			tenants[l[i+8:strings.Index(l[i+8:], `"`)+i+8]] = true
		}
	}
	if len(tenants) != 4 || !tenants[OtherTenant] {
		t.Errorf("tenant label values %v, want 3 tenants and %q", tenants, OtherTenant)
	}
}

// Package telemetry is Herald's one home of Prometheus metrics and
// OpenTelemetry spans. The rest of the code calls the small set of methods
// of *Telemetry; a nil *Telemetry is valid and does nothing, so hot paths
// pay one nil check when both metrics and tracing are off.
//
// It imports nothing of Herald's: op, storage/observed and cmd/herald call
// it; op/password reaches it only through an interface of its own.
// Label values are never request input except through the bounded sets
// named here (route patterns, normalised methods, status codes, and
// tenants limited by TenantLabel).
package telemetry

import (
	"context"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// Options configure New.
type Options struct {
	// Metrics turns the Prometheus registry on.
	Metrics bool
	// TenantLabel bounds the tenant label: 0 leaves it empty on every
	// series (off), N > 0 gives the first N tenants seen a value of their
	// own and every later one "other".
	TenantLabel int
	// TracerProvider, when not nil, turns spans on (TracerProviderFromEnv).
	TracerProvider trace.TracerProvider
	// Version is reported by herald_build_info (default: the module's).
	Version string
}

// OtherTenant is the tenant label of tenants beyond Options.TenantLabel.
const OtherTenant = "other"

// Telemetry records metrics and spans. Safe for concurrent use; nil does
// nothing.
type Telemetry struct {
	reg     *prometheus.Registry // nil: metrics off
	tracer  trace.Tracer         // nil: tracing off
	tp      trace.TracerProvider
	tenants *tenantLabels

	httpRequests  *prometheus.CounterVec
	httpDuration  *prometheus.HistogramVec
	httpInFlight  prometheus.Gauge
	throttledHTTP *prometheus.CounterVec
	authEvents    *prometheus.CounterVec
	logins        *prometheus.CounterVec
	secondFactor  *prometheus.CounterVec
	loginThrottle *prometheus.CounterVec
	codeReplays   *prometheus.CounterVec
	refreshReuse  *prometheus.CounterVec
	tokens        *prometheus.CounterVec
	hashWait      *prometheus.HistogramVec
	storageTime   *prometheus.HistogramVec
	storageErrors *prometheus.CounterVec
	cacheLookups  [numCaches][2]prometheus.Counter // [cache][hit]
	keyAges       *keyAges
}

// New builds the telemetry o asks for; nil when it asks for nothing.
func New(o Options) *Telemetry {
	if !o.Metrics && o.TracerProvider == nil {
		return nil
	}
	t := &Telemetry{tenants: newTenantLabels(o.TenantLabel)}
	if o.TracerProvider != nil {
		t.tp = o.TracerProvider
		t.tracer = o.TracerProvider.Tracer("github.com/herald-idp/herald")
	}
	if o.Metrics {
		t.initMetrics(o.Version)
	}
	return t
}

func (t *Telemetry) initMetrics(version string) {
	reg := prometheus.NewRegistry()
	t.reg = reg
	t.httpRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "herald_http_requests_total",
		Help: "HTTP requests answered, by chi route pattern, method, status code and tenant.",
	}, []string{"route", "method", "status", "tenant"})
	t.httpDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "herald_http_request_duration_seconds",
		Help:    "Time to answer an HTTP request, by route pattern, method and tenant.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"route", "method", "tenant"})
	t.httpInFlight = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "herald_http_requests_in_flight",
		Help: "HTTP requests being served.",
	})
	t.throttledHTTP = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "herald_throttled_requests_total",
		Help: "Requests refused with 429 Too Many Requests (every throttled attempt), by route pattern and tenant.",
	}, []string{"route", "tenant"})
	t.authEvents = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "herald_auth_events_total",
		Help: "Authentication audit-trail events, by tenant, event and outcome.",
	}, []string{"tenant", "event", "outcome"})
	t.logins = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "herald_logins_total",
		Help: "Password sign-in attempts, by tenant, outcome (success, failure, denied) and reason.",
	}, []string{"tenant", "outcome", "reason"})
	t.secondFactor = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "herald_second_factor_total",
		Help: "Second-factor events (mfa.*), by tenant, event and outcome.",
	}, []string{"tenant", "event", "outcome"})
	t.loginThrottle = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "herald_login_throttle_decisions_total",
		Help: "Throttling decisions recorded in the audit trail (the first refusal of a key per back-off), by tenant and scope.",
	}, []string{"tenant", "scope"})
	t.codeReplays = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "herald_code_replays_total",
		Help: "Authorization codes presented again after use (their grant is revoked), by tenant.",
	}, []string{"tenant"})
	t.refreshReuse = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "herald_refresh_token_reuse_total",
		Help: "Spent refresh tokens presented again (their grant is revoked), by tenant.",
	}, []string{"tenant"})
	t.tokens = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "herald_tokens_issued_total",
		Help: "Tokens issued, by tenant, grant type, kind (access_jwt, access_opaque, id, refresh) and signing algorithm (none when unsigned).",
	}, []string{"tenant", "grant_type", "kind", "alg"})
	t.hashWait = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "herald_password_hash_wait_seconds",
		Help:    "Time a password hash waited for a hashing slot, by result (acquired, busy, canceled, refused).",
		Buckets: []float64{.0005, .001, .005, .01, .05, .1, .25, .5, 1, 2, 3, 5, 10},
	}, []string{"result"})
	t.storageTime = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "herald_storage_operation_duration_seconds",
		Help:    "Storage call latency, by backend and operation (Interface.Method).",
		Buckets: []float64{.0001, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1, 5},
	}, []string{"backend", "operation"})
	t.storageErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "herald_storage_operation_errors_total",
		Help: "Storage calls that failed with anything but not-found, by backend and operation.",
	}, []string{"backend", "operation"})
	cache := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "herald_cache_lookups_total",
		Help: "Per-tenant cache lookups, by cache and result (hit, miss).",
	}, []string{"cache", "result"})
	for c := range numCaches {
		t.cacheLookups[c][0] = cache.WithLabelValues(cacheNames[c], "miss")
		t.cacheLookups[c][1] = cache.WithLabelValues(cacheNames[c], "hit")
	}
	t.keyAges = &keyAges{tenants: t.tenants, ages: map[[2]string]time.Time{}}
	reg.MustRegister(t.httpRequests, t.httpDuration, t.httpInFlight, t.throttledHTTP,
		t.authEvents, t.logins, t.secondFactor, t.loginThrottle, t.codeReplays, t.refreshReuse, t.tokens,
		t.hashWait, t.storageTime, t.storageErrors, cache, t.keyAges,
		buildInfo(version),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
}

func buildInfo(version string) prometheus.Collector {
	goVersion, revision := "", ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		goVersion = bi.GoVersion
		if version == "" {
			version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				revision = s.Value
			}
		}
	}
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "herald_build_info",
		Help:        "Always 1; the labels name the running build.",
		ConstLabels: prometheus.Labels{"version": version, "goversion": goVersion, "revision": revision},
	})
	g.Set(1)
	return g
}

// Metrics reports whether metrics are on.
func (t *Telemetry) Metrics() bool { return t != nil && t.reg != nil }

// Tracing reports whether spans are recorded.
func (t *Telemetry) Tracing() bool { return t != nil && t.tracer != nil }

// Registry is the Prometheus registry (nil when metrics are off), for
// tests and for registering more collectors.
func (t *Telemetry) Registry() *prometheus.Registry {
	if t == nil {
		return nil
	}
	return t.reg
}

// MetricsHandler serves the metrics in the Prometheus exposition format,
// for the metrics listener only.
func (t *Telemetry) MetricsHandler() http.Handler {
	if !t.Metrics() {
		return http.NotFoundHandler()
	}
	return promhttp.HandlerFor(t.reg, promhttp.HandlerOpts{})
}

// tenant is the label value of tenant name.
func (t *Telemetry) tenant(name string) string { return t.tenants.label(name) }

// RequestStarted counts a request in flight; call RequestDone after it.
func (t *Telemetry) RequestStarted() {
	if t.Metrics() {
		t.httpInFlight.Inc()
	}
}

// RequestDone records an answered request: route is the chi route pattern
// (never the raw path), tenant the resolved tenant ("" if none). With
// tracing on it also names the request's span after the route and adds
// the tenant and the client ID (metrics never carry client IDs).
func (t *Telemetry) RequestDone(ctx context.Context, route, method string, status int, tenant, clientID string, d time.Duration) {
	if t == nil {
		return
	}
	method = normalMethod(method)
	if route == "" {
		route = "unmatched"
	}
	if t.tracer != nil {
		if span := trace.SpanFromContext(ctx); span.IsRecording() {
			span.SetName(method + " " + route)
			span.SetAttributes(attribute.String("http.route", route))
			if tenant != "" {
				span.SetAttributes(attribute.String("herald.tenant", tenant))
			}
			if clientID != "" { // client IDs are public identifiers, never secrets
				span.SetAttributes(attribute.String("herald.client_id", clientID))
			}
		}
	}
	if t.reg == nil {
		return
	}
	t.httpInFlight.Dec()
	tl := t.tenant(tenant)
	t.httpRequests.WithLabelValues(route, method, strconv.Itoa(status), tl).Inc()
	t.httpDuration.WithLabelValues(route, method, tl).Observe(d.Seconds())
	if status == http.StatusTooManyRequests {
		t.throttledHTTP.WithLabelValues(route, tl).Inc()
	}
}

// normalMethod keeps the label set bounded: any other method is "OTHER".
func normalMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return m
	}
	return "OTHER"
}

// AuthEvent counts an event of the authentication audit trail: every one
// in herald_auth_events_total, and logins, second-factor events, throttling
// decisions, code replays and refresh-token reuse in their own series.
func (t *Telemetry) AuthEvent(tenant, event, outcome, reason string) {
	if !t.Metrics() {
		return
	}
	tl := t.tenant(tenant)
	t.authEvents.WithLabelValues(tl, event, outcome).Inc()
	switch {
	case event == "login.succeeded" || event == "login.failed" || event == "login.throttled":
		r := reason
		if event == "login.throttled" {
			r = "throttled"
			_, scope, _ := strings.Cut(reason, ":")
			t.loginThrottle.WithLabelValues(tl, scope).Inc()
		}
		t.logins.WithLabelValues(tl, outcome, r).Inc()
	case strings.HasPrefix(event, "mfa."), strings.HasPrefix(event, "second_factor."):
		t.secondFactor.WithLabelValues(tl, event, outcome).Inc()
	case event == "code.replay":
		t.codeReplays.WithLabelValues(tl).Inc()
	case event == "refresh.reuse":
		t.refreshReuse.WithLabelValues(tl).Inc()
	}
}

// TokenIssued counts one issued token. alg is "" for unsigned tokens.
func (t *Telemetry) TokenIssued(tenant, grantType, kind, alg string) {
	if !t.Metrics() {
		return
	}
	if alg == "" {
		alg = "none"
	}
	t.tokens.WithLabelValues(t.tenant(tenant), grantType, kind, alg).Inc()
}

// Cache names a per-tenant cache for CacheLookup.
type Cache int

// The per-tenant caches of op/tenantcache.go.
const (
	CacheTenant Cache = iota
	CacheHost
	CacheClient
	CacheCORS
	CacheDiscovery
	CacheJWKS
	CacheSigner
	numCaches
)

var cacheNames = [numCaches]string{"tenant", "tenant_host", "client", "cors_origins", "discovery", "jwks", "signer"}

// CacheLookup counts a hit or a miss of cache c.
func (t *Telemetry) CacheLookup(c Cache, hit bool) {
	if !t.Metrics() || c < 0 || c >= numCaches {
		return
	}
	i := 0
	if hit {
		i = 1
	}
	t.cacheLookups[c][i].Inc()
}

// Span starts a child span of ctx's span; nothing (and no allocation) when
// tracing is off or ctx carries no recording span, so background work does
// not start traces of its own. end records err (nil: success).
func (t *Telemetry) Span(ctx context.Context, name string, attrs ...attribute.KeyValue) (context.Context, Span) {
	if t == nil || t.tracer == nil || !trace.SpanFromContext(ctx).IsRecording() {
		return ctx, Span{}
	}
	ctx, s := t.tracer.Start(ctx, name, trace.WithAttributes(attrs...))
	return ctx, Span{s}
}

// Span is a started span; the zero Span does nothing.
type Span struct{ s trace.Span }

// End ends the span, marking it failed when err is not nil. The error's
// text is not recorded: storage errors may quote values.
func (s Span) End(err error) {
	if s.s == nil {
		return
	}
	if err != nil {
		s.s.SetStatus(codes.Error, "error")
	}
	s.s.End()
}

// tenantLabels bounds the tenant label (Options.TenantLabel).
type tenantLabels struct {
	limit int
	mu    sync.RWMutex
	seen  map[string]struct{}
}

func newTenantLabels(limit int) *tenantLabels {
	return &tenantLabels{limit: limit, seen: map[string]struct{}{}}
}

func (l *tenantLabels) label(name string) string {
	if l == nil || l.limit <= 0 || name == "" {
		return ""
	}
	l.mu.RLock()
	_, ok := l.seen[name]
	n := len(l.seen)
	l.mu.RUnlock()
	if ok {
		return name
	}
	if n >= l.limit {
		return OtherTenant
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.seen[name]; ok {
		return name
	}
	if len(l.seen) >= l.limit {
		return OtherTenant
	}
	l.seen[name] = struct{}{}
	return name
}

package telemetry

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// --- storage calls (storage/observed) ---

// StorageOps pre-binds the series of a backend's operations, so that a
// storage call costs no label lookup.
type StorageOps struct {
	t       *Telemetry
	backend string
	names   []string
	// series of each operation, created at its first call so that
	// operations a backend never serves export nothing.
	series []func() storageSeries
}

type storageSeries struct {
	time   prometheus.Observer
	errors prometheus.Counter
}

// StorageOps returns the series of backend's operations named ops (index
// = operation number in StorageCall). nil when telemetry is off.
func (t *Telemetry) StorageOps(backend string, ops []string) *StorageOps {
	if t == nil {
		return nil
	}
	s := &StorageOps{t: t, backend: backend, names: ops}
	if t.reg != nil {
		for _, op := range ops {
			s.series = append(s.series, sync.OnceValue(func() storageSeries {
				return storageSeries{t.storageTime.WithLabelValues(backend, op), t.storageErrors.WithLabelValues(backend, op)}
			}))
		}
	}
	return s
}

// StorageCall is one running storage call (StorageOps.Start).
type StorageCall struct {
	ops   *StorageOps
	op    int
	start time.Time
	span  trace.Span
}

// Start begins storage operation op; the span is a child of ctx's.
func (s *StorageOps) Start(ctx context.Context, op int) (context.Context, StorageCall) {
	if s == nil {
		return ctx, StorageCall{}
	}
	c := StorageCall{ops: s, op: op, start: time.Now()}
	if s.t.tracer != nil && trace.SpanFromContext(ctx).IsRecording() {
		ctx, c.span = s.t.tracer.Start(ctx, "storage "+s.names[op],
			trace.WithSpanKind(trace.SpanKindClient),
			trace.WithAttributes(attribute.String("db.system.name", s.backend),
				attribute.String("db.operation.name", s.names[op])))
	}
	return ctx, c
}

// End records the call's latency and, for errors other than not-found,
// counts a failure. isNotFound tells the storage package's not-found
// errors apart (they are answers, not failures).
func (c StorageCall) End(err error, isNotFound func(error) bool) {
	if c.ops == nil {
		return
	}
	failed := err != nil && (isNotFound == nil || !isNotFound(err)) && !errors.Is(err, context.Canceled)
	if c.ops.series != nil {
		series := c.ops.series[c.op]()
		series.time.Observe(time.Since(c.start).Seconds())
		if failed {
			series.errors.Inc()
		}
	}
	if c.span != nil {
		if failed {
			c.span.SetStatus(2, "error") // codes.Error; the text may quote values
		}
		c.span.End()
	}
}

// --- password hashing (op/password.Observer) ---

// HashSlot implements op/password's Observer: it records how long a hash
// waited for a slot and, with tracing on, spans the wait and the work.
// result is "acquired", "busy", "canceled" or "refused"; done is called
// when the slot is released.
func (t *Telemetry) HashSlot(ctx context.Context, start time.Time, result string) (done func()) {
	if t == nil {
		return func() {}
	}
	if t.reg != nil {
		t.hashWait.WithLabelValues(result).Observe(time.Since(start).Seconds())
	}
	if t.tracer == nil || !trace.SpanFromContext(ctx).IsRecording() {
		return func() {}
	}
	_, span := t.tracer.Start(ctx, "password hash", trace.WithTimestamp(start),
		trace.WithAttributes(attribute.String("herald.hash.slot", result),
			attribute.Float64("herald.hash.wait_ms", float64(time.Since(start).Microseconds())/1000)))
	if result != "acquired" {
		span.SetStatus(2, result)
		span.End()
		return func() {}
	}
	return func() { span.End() }
}

// WatchHasher reports the hasher's queue: hashes running and callers
// waiting for a slot, read at each scrape.
func (t *Telemetry) WatchHasher(load func() (running, waiting int)) {
	if !t.Metrics() {
		return
	}
	t.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "herald_password_hash_running",
		Help: "Password hashes running now.",
	}, func() float64 { r, _ := load(); return float64(r) }))
	t.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "herald_password_hash_queue_depth",
		Help: "Password hashes waiting for a hashing slot now.",
	}, func() float64 { _, w := load(); return float64(w) }))
}

// --- signing keys ---

// keyAges is the collector of herald_signing_key_age_seconds: the age of
// each tenant's active signing key, as last seen by key maintenance.
type keyAges struct {
	tenants *tenantLabels
	mu      sync.Mutex
	ages    map[[2]string]time.Time // tenant, alg → activated
}

var keyAgeDesc = prometheus.NewDesc("herald_signing_key_age_seconds",
	"Age of the active signing key of each tenant and algorithm (since activation), as of the last key maintenance; "+
		"with the tenant label limited, the oldest of the tenants it groups.",
	[]string{"tenant", "alg"}, nil)

func (k *keyAges) Describe(ch chan<- *prometheus.Desc) { ch <- keyAgeDesc }

func (k *keyAges) Collect(ch chan<- prometheus.Metric) {
	now := time.Now()
	oldest := map[[2]string]time.Time{}
	k.mu.Lock()
	for key, at := range k.ages {
		l := [2]string{k.tenants.label(key[0]), key[1]}
		if o, ok := oldest[l]; !ok || at.Before(o) {
			oldest[l] = at
		}
	}
	k.mu.Unlock()
	for l, at := range oldest {
		ch <- prometheus.MustNewConstMetric(keyAgeDesc, prometheus.GaugeValue, now.Sub(at).Seconds(), l[0], l[1])
	}
}

// SigningKeys replaces what herald_signing_key_age_seconds reports: the
// activation time of each tenant's active key by algorithm (key
// maintenance calls it after every round, so deleted tenants disappear).
func (t *Telemetry) SigningKeys(active map[[2]string]time.Time) {
	if !t.Metrics() {
		return
	}
	t.keyAges.mu.Lock()
	t.keyAges.ages = active
	t.keyAges.mu.Unlock()
}

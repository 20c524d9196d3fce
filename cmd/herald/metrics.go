package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/herald-idp/herald/internal/telemetry"
	"github.com/herald-idp/herald/storage/observed"
)

// Metrics and traces (docs/observability.md). Prometheus metrics are
// served at /metrics on their own listener (HERALD_METRICS_ADDR, off by
// default): they name tenants and routes, so they belong to the operator's
// network, never to the public port. Tracing follows the standard OTEL_*
// variables.

const (
	metricsHeaderTimeout = 5 * time.Second
	metricsWriteTimeout  = 30 * time.Second
	metricsStopTimeout   = 2 * time.Second
	tracingFlushTimeout  = 5 * time.Second
)

// registerTelemetryFlags adds serve's metrics and shutdown flags.
func registerTelemetryFlags(fs *flag.FlagSet, cfg *Config) {
	fs.StringVar(&cfg.MetricsAddr, "metrics-addr", cfg.MetricsAddr,
		"`host:port` serving Prometheus metrics at /metrics on its own listener (off by default;\n"+
			"never the public port: keep it on the operator's network); env HERALD_METRICS_ADDR")
	fs.IntVar(&cfg.MetricsTenants, "metrics-tenants", cfg.MetricsTenants,
		"at most `N` tenants get their own tenant label in metrics, the rest \"other\"; 0: no tenant label;\n"+
			"env HERALD_METRICS_TENANTS")
	fs.DurationVar(&cfg.ShutdownDelay, "shutdown-delay", cfg.ShutdownDelay,
		"on SIGTERM, how long /readyz answers 503 while requests are still served, so that load balancers\n"+
			"stop sending new ones; env HERALD_SHUTDOWN_DELAY")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", cfg.ShutdownTimeout,
		"then how long in-flight requests get to finish before connections are cut (exit status 1);\n"+
			"env HERALD_SHUTDOWN_TIMEOUT. Tracing: the standard OTEL_* variables (docs/observability.md)")
}

// setUpTelemetry builds the telemetry cfg and the OTEL_* variables ask
// for and observes a's store and password hasher through it. It returns
// nil (and a no-op shutdown) when both metrics and tracing are off.
// shutdown flushes the spans still batched. The service version in spans
// and herald_build_info is the one `herald version` reports (link flags,
// else the module's build information).
func setUpTelemetry(ctx context.Context, a *app, cfg *Config) (*telemetry.Telemetry, func(), error) {
	version := buildVersion().Version
	tp, flush, err := telemetry.TracingFromEnv(ctx, version)
	if err != nil {
		return nil, nil, err
	}
	shutdown := func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), tracingFlushTimeout)
		defer cancel()
		if err := flush(ctx); err != nil {
			a.log.Warn("flush traces", "err", err)
		}
	}
	tel := telemetry.New(telemetry.Options{
		Metrics:        cfg.MetricsAddr != "",
		TenantLabel:    cfg.MetricsTenants,
		TracerProvider: tp,
		Version:        version,
	})
	if tel == nil {
		return nil, shutdown, nil
	}
	durable, short := storeBackendNames(cfg)
	a.store = observed.Wrap(a.store, tel, durable, short)
	a.registry.Store = a.store
	if h := a.registry.Passwords; h != nil {
		h.SetObserver(tel)
		tel.WatchHasher(h.Load)
	}
	return tel, shutdown, nil
}

// storeBackendNames names the backends openStore opened, for the storage
// metrics: the durable one and the one holding short-lived records.
func storeBackendNames(cfg *Config) (durable, short string) {
	durable = "storage"
	if b, _, err := splitDatabaseURL(cfg.DatabaseURL); err == nil {
		durable = b.name
	}
	short = durable
	if cfg.RedisURL != "" {
		short = "redis"
	}
	return durable, short
}

// startMetrics serves tel's metrics at addr/metrics until stop is called
// (after the main server has drained, so that shutdown can be watched).
// It returns once the listener is bound.
func startMetrics(addr string, tel *telemetry.Telemetry, log *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("HERALD_METRICS_ADDR (--metrics-addr): %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", tel.MetricsHandler())
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: metricsHeaderTimeout,
		WriteTimeout:      metricsWriteTimeout,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("metrics server stopped", "err", err)
		}
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), metricsStopTimeout)
			defer cancel()
			if err := srv.Shutdown(ctx); err != nil {
				_ = srv.Close()
			}
			<-done
		})
	}
	log.Info("metrics enabled", "metrics_addr", ln.Addr().String())
	return stop, nil
}

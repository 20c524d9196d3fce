package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/signal"
	"runtime/debug"
	"sync"
	"syscall"
	"time"

	"github.com/herald-idp/herald/op"
)

// HTTP server limits. The header timeout stops slow-loris clients; the
// others bound a request's total time. Nothing Herald serves is large.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 15 * time.Second
	writeTimeout      = 30 * time.Second
	idleTimeout       = 120 * time.Second
	maxHeaderBytes    = 16 << 10
	sweepInterval     = time.Minute
)

func runServe(ctx context.Context, c *cli, args []string) error {
	d := newAppCommand(c, "serve", "[flags]",
		"Runs the OpenID Provider until SIGINT or SIGTERM. Prints\n"+
			"{\"status\":\"listening\",\"addr\",\"public_url\"} once it accepts connections.\n"+
			"--demo first ensures a demo tenant, clients and user, and prints their credentials\n"+
			"(the same at every start: kept in demo-credentials.json in the data directory).\n"+
			"--migrate first applies missing database migrations (as `herald migrate` does).")
	fs, cfg := d.fs, d.cfg
	fs.StringVar(&cfg.Addr, "addr", cfg.Addr, "`host:port` to listen on; env HERALD_ADDR")
	fs.BoolVar(&cfg.Migrate, "migrate", cfg.Migrate, "apply missing database migrations before serving; env HERALD_MIGRATE=true")
	registerTelemetryFlags(fs, cfg)
	fs.StringVar(&cfg.TrustedProxies, "trusted-proxies", cfg.TrustedProxies,
		"comma-separated `CIDRs` of reverse proxies whose X-Forwarded-Host selects a tenant's hostname,\n"+
			"whose X-Forwarded-For gives the client address (login throttling) and whose X-Request-Id is kept;\n"+
			"default none (those headers are ignored); env HERALD_TRUSTED_PROXIES")
	fs.StringVar(&cfg.PprofAddr, "pprof-addr", cfg.PprofAddr,
		"loopback `host:port` for net/http/pprof on its own listener (off by default); env HERALD_PPROF_ADDR")
	demo := fs.Bool("demo", false, "create (once) the demo tenant, clients and user; print their credentials, kept in the data directory")
	// The port is bound before the store is opened or anything created:
	// a second serve on a taken port fails here, having changed nothing.
	var ln net.Listener
	d.beforeOpen = func() error {
		var err error
		if ln, err = net.Listen("tcp", cfg.Addr); err != nil {
			return fmt.Errorf("HERALD_ADDR (--addr): %w", err)
		}
		return nil
	}
	a, err := d.open(ctx, args)
	if err != nil {
		if ln != nil {
			_ = ln.Close()
		}
		return err
	}
	defer a.Close()
	defer ln.Close() // Shutdown closes it too; a second Close is harmless
	// Lines logged while a request is served carry its request_id.
	a.log = slog.New(op.LogHandler(a.log.Handler()))
	// zitadel/oidc logs through the default slog logger (since v3.48).
	slog.SetDefault(a.log)
	setMemoryLimit(a.log, cfg)
	warnInsecurePublicURL(a.log, cfg.PublicURL)
	a.log.Info("storage", "database", redactURL(cfg.DatabaseURL), "redis", redactURL(cfg.RedisURL))

	tel, flushTraces, err := setUpTelemetry(ctx, a, cfg)
	if err != nil {
		return err
	}
	defer flushTraces()
	if tel.Tracing() {
		a.log.Info("tracing enabled")
	}

	// Background work (cache invalidation, key maintenance, sweeps) runs
	// until the server has drained, not only until the signal.
	background, stopBackground := context.WithCancel(ctx)
	defer stopBackground()
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	if *demo {
		creds, err := ensureDemo(ctx, a, demoSecretsPath(cfg))
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		if err := writeJSON(c.stdout, struct {
			Demo *demoCredentials `json:"demo"`
		}{creds}); err != nil {
			return err
		}
	}

	proxies, err := parseTrustedProxies(cfg.TrustedProxies) // checked by Validate
	if err != nil {
		return fmt.Errorf("%s: %w", settingName("TrustedProxies"), err)
	}
	warnOpenProxies(a.log, proxies)
	auditKey, err := cfg.authAuditHashKey() // checked by Validate
	if err != nil {
		return fmt.Errorf("%s: %w", settingName("AuthAuditHashKey"), err)
	}
	provider, err := op.New(background, op.Config{
		PublicURL:      cfg.PublicURL,
		Registry:       a.registry,
		Notifier:       a.notifier,
		Lifetimes:      cfg.lifetimes(),
		TrustedProxies: proxies,

		RotateConfidentialRefreshTokens: cfg.RotateConfidentialRefreshTokens,
		AuthAudit: op.AuthAudit{HashKey: auditKey, RawAddresses: cfg.AuthAuditRawAddresses,
			Retention: cfg.AuthAuditRetention},
		Telemetry: tel,
	})
	if err != nil {
		return err
	}
	if cfg.MetricsAddr != "" {
		stopMetrics, err := startMetrics(cfg.MetricsAddr, tel, a.log)
		if err != nil {
			return err
		}
		defer stopMetrics() // after the drain below: shutdown can be watched
	}
	if cfg.PprofAddr != "" {
		stopPprof, err := startPprof(ctx, cfg.PprofAddr)
		if err != nil {
			return fmt.Errorf("HERALD_PPROF_ADDR (--pprof-addr): %w", err)
		}
		defer stopPprof()
		a.log.Info("profiling enabled", "pprof_addr", cfg.PprofAddr)
	}
	srv := &http.Server{
		Handler:           provider,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}

	var wg sync.WaitGroup
	sweepCtx, stopSweep := context.WithCancel(background)
	defer stopSweep()
	wg.Go(func() { sweep(sweepCtx, a, provider) })

	// ln is bound already: connections queue from here on, so the status
	// line is true before Serve starts, and a reader of stdout sees it
	// before any answer.
	a.log.Info("listening", "addr", ln.Addr().String(), "public_url", cfg.PublicURL)
	if err := writeJSON(c.stdout, struct {
		Status    string `json:"status"`
		Addr      string `json:"addr"`
		PublicURL string `json:"public_url"`
	}{"listening", ln.Addr().String(), cfg.PublicURL}); err != nil {
		a.log.Warn("write status line", "err", err)
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	var runErr error
	select {
	case err := <-serveErr:
		runErr = fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
		delay := cfg.ShutdownDelay
		if background.Err() != nil {
			delay = 0 // the caller cancelled (tests, embedding): no load balancer to tell
		}
		runErr = drain(a.log, provider, srv, serveErr, delay, cfg.ShutdownTimeout)
	}
	stopSweep()
	wg.Wait() // the sweeper must be done before the deferred store Close
	if runErr == nil {
		a.log.Info("stopped")
	}
	return runErr
}

// drain shuts the server down gracefully: /readyz turns 503 at once and
// requests are still served for delay (load balancers notice and stop
// sending; a second SIGINT or SIGTERM cuts the delay short); then the
// listener closes and in-flight requests get timeout to finish. Past it,
// the remaining connections are cut and drain reports an error.
func drain(log *slog.Logger, provider *op.Server, srv *http.Server, serveErr <-chan error, delay, timeout time.Duration) error {
	again := make(chan os.Signal, 1)
	signal.Notify(again, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(again)

	provider.Drain()
	// Clients on kept-alive connections reconnect, through the balancer.
	srv.SetKeepAlivesEnabled(false)
	log.Info("draining: /readyz answers 503", "delay", delay.String(), "timeout", timeout.String())
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-again:
			log.Info("second signal: stopping without waiting for the delay")
		}
		t.Stop()
	}
	log.Info("shutting down: waiting for in-flight requests")
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var err error
	if serr := srv.Shutdown(ctx); serr != nil {
		_ = srv.Close()
		err = fmt.Errorf("shutdown: in-flight requests did not finish within HERALD_SHUTDOWN_TIMEOUT (%s): %w", timeout, serr)
	}
	if serr := <-serveErr; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = fmt.Errorf("serve: %w", serr)
	}
	return err
}

// sweep deletes expired records every sweepInterval until ctx ends.
func sweep(ctx context.Context, a *app, provider *op.Server) {
	t := time.NewTicker(sweepInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if err := a.store.Sweep(ctx, now); err != nil && ctx.Err() == nil {
				a.log.Warn("sweep expired records", "err", err)
			}
			if err := provider.SweepAuthEvents(ctx, now); err != nil && ctx.Err() == nil {
				a.log.Warn("sweep authentication events past their retention", "err", err)
			}
		}
	}
}

// warnOpenProxies logs when every address is a trusted proxy (0.0.0.0/0,
// ::/0): then any client can choose a tenant with X-Forwarded-Host, which
// is only safe when nothing but the proxy can reach Herald.
func warnOpenProxies(log *slog.Logger, proxies []netip.Prefix) {
	for _, p := range proxies {
		if p.Bits() == 0 {
			log.Warn("HERALD_TRUSTED_PROXIES trusts every address; make sure only your proxies can reach Herald", "network", p.String())
			return
		}
	}
}

// warnInsecurePublicURL logs when issuers are plain http on a non-loopback
// host: fine on a laptop, never in production (OIDC Discovery §3 wants
// https issuers, and session cookies cannot be Secure).
func warnInsecurePublicURL(log *slog.Logger, publicURL string) {
	u, err := url.Parse(publicURL)
	if err != nil || u.Scheme != "http" {
		return
	}
	switch u.Hostname() {
	case "localhost", "127.0.0.1", "::1":
		return
	}
	log.Warn("HERALD_PUBLIC_URL is plain http on a non-loopback host; use https outside development", "public_url", publicURL)
}

// memoryOverhead is what Herald needs besides password hashing (runtime,
// caches, connections, buffers), for the default soft memory limit.
const memoryOverhead = 64 << 20

// setMemoryLimit sets Go's soft memory limit, unless GOMEMLIMIT is set, to
//
//	2 × hash_concurrency × argon2 memory + 64 MiB
//
// The hasher caps how many argon2id hashes run at once, so live hashing
// memory is at most hash_concurrency × argon2 memory; the garbage collector
// needs about as much again of headroom for the finished hashes' garbage.
// Measured with the defaults on 2 cores: a limit closer to the live heap
// makes the collector return and re-fault 64 MiB per hash and costs up to
// 45% of login throughput; no limit at all lets a login storm's RSS grow
// without bound by the budget (docs/benchmarks.md).
func setMemoryLimit(log *slog.Logger, cfg *Config) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	limit := 2*int64(cfg.HashConcurrency)*int64(cfg.Argon2MemoryKiB)<<10 + memoryOverhead
	debug.SetMemoryLimit(limit)
	log.Info("memory limit", "bytes", limit, "hash_concurrency", cfg.HashConcurrency, "argon2_memory_kib", cfg.Argon2MemoryKiB)
}

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"sync"
	"time"
)

// The profiling endpoint is opt-in (--pprof-addr / HERALD_PPROF_ADDR) and
// lives on its own listener with its own mux: profiles reveal code paths,
// command lines and timing, so they must never be reachable on the public
// port. Importing net/http/pprof also registers its handlers on
// http.DefaultServeMux as a side effect; Herald never serves that mux.

const (
	// pprofShutdownTimeout bounds how long stop waits for a running
	// profile (a CPU profile lasts ?seconds=N) before closing connections.
	pprofShutdownTimeout = 2 * time.Second
	pprofHeaderTimeout   = 5 * time.Second
)

// startPprof serves net/http/pprof at addr, which must be a loopback
// address (127.0.0.1:6060, [::1]:6060, localhost:6060): operators reach it
// through ssh -L or kubectl port-forward. It returns once the listener is
// bound, so a port in use is an error here, not a log line later. The
// server stops when ctx ends or stop is called, whichever comes first; stop
// may be called any number of times.
func startPprof(ctx context.Context, addr string) (stop func(), err error) {
	if err := checkLoopbackAddr(addr); err != nil {
		return nil, fmt.Errorf("pprof address %q: %w", addr, err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("pprof address %q: %w", addr, err)
	}
	srv := &http.Server{
		Handler:           pprofMux(),
		ReadHeaderTimeout: pprofHeaderTimeout,
		// No WriteTimeout: /profile and /trace stream for ?seconds=N and
		// refuse N larger than a write timeout.
		ErrorLog: slog.NewLogLogger(slog.Default().Handler(), slog.LevelWarn),
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			slog.Warn("pprof server stopped", "err", err)
		}
	}()

	var once sync.Once
	stop = func() {
		once.Do(func() {
			shutdownCtx, cancel := context.WithTimeout(context.Background(), pprofShutdownTimeout)
			defer cancel()
			if err := srv.Shutdown(shutdownCtx); err != nil {
				_ = srv.Close() // a profile still streaming: cut it
			}
			<-done
		})
	}
	go func() {
		select {
		case <-ctx.Done():
			stop()
		case <-done:
		}
	}()
	return stop, nil
}

// pprofMux registers the pprof handlers explicitly on a fresh mux. Index
// also serves the named runtime profiles (heap, allocs, goroutine, block,
// mutex, threadcreate) under /debug/pprof/{name}.
func pprofMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// checkLoopbackAddr accepts host:port where host is a loopback IP or
// "localhost". An empty host would listen on every interface.
func checkLoopbackAddr(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return errors.New("must be a loopback address such as 127.0.0.1:6060 (profiles must not be reachable from the network)")
	}
	return nil
}

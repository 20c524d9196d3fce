package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// freeLoopbackAddr returns a 127.0.0.1 address that was free a moment ago.
func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestStartPprofServesProfilesOnItsOwnMux(t *testing.T) {
	// A handler on the default mux must not be reachable: the pprof
	// listener serves only its own mux.
	http.HandleFunc("/pprof-test-default-mux", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "default mux")
	})
	addr := freeLoopbackAddr(t)
	stop, err := startPprof(t.Context(), addr)
	if err != nil {
		t.Fatalf("startPprof: %v", err)
	}
	defer stop()

	tests := []struct {
		path     string
		status   int
		contains string
	}{
		{"/debug/pprof/", http.StatusOK, "goroutine"},
		{"/debug/pprof/cmdline", http.StatusOK, ""},
		{"/debug/pprof/heap?debug=1", http.StatusOK, "heap profile"},
		{"/debug/pprof/goroutine?debug=1", http.StatusOK, "goroutine profile"},
		{"/debug/pprof/symbol", http.StatusOK, "num_symbols"},
		{"/debug/pprof/profile?seconds=1", http.StatusOK, ""},
		{"/pprof-test-default-mux", http.StatusNotFound, ""},
		{"/", http.StatusNotFound, ""},
	}
	for _, tt := range tests {
		status, body := httpGet(t, "http://"+addr+tt.path)
		if status != tt.status {
			t.Errorf("GET %s: status %d, want %d", tt.path, status, tt.status)
		}
		if !strings.Contains(body, tt.contains) {
			t.Errorf("GET %s: body lacks %q", tt.path, tt.contains)
		}
	}
}

func TestStartPprofStops(t *testing.T) {
	tests := []struct {
		name string
		end  func(stop func(), cancel context.CancelFunc)
	}{
		{"stop", func(stop func(), _ context.CancelFunc) { stop(); stop() }},
		{"context", func(_ func(), cancel context.CancelFunc) { cancel() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			addr := freeLoopbackAddr(t)
			stop, err := startPprof(ctx, addr)
			if err != nil {
				t.Fatalf("startPprof: %v", err)
			}
			defer stop()
			if status, _ := httpGet(t, "http://"+addr+"/debug/pprof/"); status != http.StatusOK {
				t.Fatalf("status %d before stop", status)
			}
			tt.end(stop, cancel)
			// The listener is closed once stopped: binding the address
			// again must succeed (polled: the context path is async).
			var ln net.Listener
			for range 100 {
				if ln, err = net.Listen("tcp", addr); err == nil {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			if err != nil {
				t.Fatalf("address still in use after stop: %v", err)
			}
			_ = ln.Close()
		})
	}
}

func TestStartPprofRejectsBadAddresses(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	tests := []struct {
		addr, want string
	}{
		{":6060", "loopback"},
		{"0.0.0.0:6060", "loopback"},
		{"[::]:6060", "loopback"},
		{"192.0.2.1:6060", "loopback"},
		{"example.com:6060", "loopback"},
		{"127.0.0.1", "missing port"},
		{busy.Addr().String(), "address already in use"},
	}
	for _, tt := range tests {
		stop, err := startPprof(t.Context(), tt.addr)
		if err == nil {
			stop()
			t.Errorf("startPprof(%q) succeeded, want an error", tt.addr)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "pprof address") {
			t.Errorf("startPprof(%q) error %q, want it to name the setting and say %q", tt.addr, err, tt.want)
		}
	}
}

func TestCheckLoopbackAddrAccepts(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:6060", "127.0.0.2:0", "[::1]:6060", "localhost:6060"} {
		if err := checkLoopbackAddr(addr); err != nil {
			t.Errorf("checkLoopbackAddr(%q) = %v, want nil", addr, err)
		}
	}
}

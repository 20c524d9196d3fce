package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"time"
)

// A workload's "own cost" is the server's CPU per request minus the
// operation that sets its physical limit: W5's password hash, the RS256
// signatures of W3-RS256 and W4. That operation costs more inside the
// loaded server than in the driver's measurement of it alone (concurrent
// hashes share caches and memory bandwidth; the driver's own work shares
// the cores with every signature), so when the server offers pprof
// (HERALD_PPROF_ADDR) the driver takes a CPU profile during the window and
// reads which share of the samples is that operation:
// own cost = CPU per request × (1 − share).

// hashFocus matches every stack that hashes: argon2's own goroutines and
// the handler's key derivation (allocation and zeroing included).
const hashFocus = `argon2\.`

// rsaSignFocus matches RS256 signing (crypto/rsa, whoever calls it).
const rsaSignFocus = `crypto/rsa\.SignPKCS1v15`

// profileFocus is the limiting operation of the workloads profiled, by ID.
var profileFocus = map[string]struct{ focus, name string }{
	idLogin:   {hashFocus, "argon2"},
	idCCRS256: {rsaSignFocus, "RSA signing"},
	idRefresh: {rsaSignFocus, "RSA signing"},
}

var pprofAccounting = regexp.MustCompile(`accounting for [^,]+, ([\d.]+)% of [^ ]+ total`)

// parsePprofShare reads the share of samples that `go tool pprof -top
// -focus=...` reports for its focus, as a fraction.
func parsePprofShare(out string) (float64, error) {
	m := pprofAccounting.FindStringSubmatch(out)
	if m == nil {
		return 0, errors.New("pprof: no \"accounting for\" line in the output")
	}
	pct, err := strconv.ParseFloat(m[1], 64)
	if err != nil || pct < 0 || pct > 100 {
		return 0, fmt.Errorf("pprof: bad share %q", m[1])
	}
	return pct / 100, nil
}

// profileShare takes a CPU profile of the server for seconds and returns
// the share of its samples in stacks that match focus.
func profileShare(ctx context.Context, pprofAddr, dir, focus string, seconds int) (float64, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Duration(seconds+15)*time.Second)
	defer cancel()
	u := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", pprofAddr, seconds)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, err
	}
	resp, err := (&http.Client{Transport: &http.Transport{Proxy: nil}}).Do(req)
	if err != nil {
		return 0, fmt.Errorf("pprof endpoint: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("pprof endpoint: HTTP %d", resp.StatusCode)
	}
	path := filepath.Join(dir, "workload.pprof")
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	_, err = io.Copy(f, resp.Body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, err
	}
	out, err := exec.CommandContext(ctx, "go", "tool", "pprof", "-top", "-nodecount=1000000",
		"-nodefraction=0", "-edgefraction=0", "-focus="+focus, path).CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("go tool pprof: %w: %s", err, truncateText(string(out), 200))
	}
	return parsePprofShare(string(out))
}

// pprofReachable reports whether the server answers on its pprof address
// (it does once HERALD_PPROF_ADDR is wired into `herald serve`).
func pprofReachable(ctx context.Context, addr string) bool {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/debug/pprof/", nil)
	if err != nil {
		return false
	}
	resp, err := (&http.Client{Transport: &http.Transport{Proxy: nil}}).Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

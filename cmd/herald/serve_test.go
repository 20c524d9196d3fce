package main

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// freeAddr returns a loopback address that was free a moment ago. (Port 0
// would leave the public URL unknown before the server starts.)
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

type serveRun struct {
	stdout, stderr *syncBuffer
	cancel         context.CancelFunc
	done           chan struct{} // closed when run returns
	code           int           // run's exit code, once done is closed
}

// startServe runs `herald serve --demo` in the background and waits,
// bounded, until /healthz answers.
func startServe(t *testing.T, addr string) *serveRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &serveRun{stdout: &syncBuffer{}, stderr: &syncBuffer{}, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		s.code = run(ctx, []string{"serve", "--addr", addr, "--public-url", "http://" + addr, "--demo"},
			strings.NewReader(""), s.stdout, s.stderr)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-s.done:
		case <-time.After(30 * time.Second):
		}
	})
	for i := 0; ; i++ {
		select {
		case <-s.done:
			t.Fatalf("serve exited with %d before answering\nstderr: %s", s.code, s.stderr.String())
		default:
		}
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		if i > 1000 {
			t.Fatalf("/healthz did not answer 200 (last error %v)\nstderr: %s", err, s.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop cancels the serve context and returns the exit code.
func (s *serveRun) stop(t *testing.T) int {
	t.Helper()
	s.cancel()
	select {
	case <-s.done:
		return s.code
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop within 30s of cancellation")
		return -1
	}
}

// demoOutput parses the two JSON lines serve --demo prints.
func (s *serveRun) demoOutput(t *testing.T) (demoCredentials, map[string]string) {
	t.Helper()
	// The process writes both lines before it serves, but exec copies its
	// stdout into the buffer on a goroutine of its own: wait for them.
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(s.stdout.String(), "\n") < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	lines := strings.Split(strings.TrimSpace(s.stdout.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want the demo line and the listening line, got %q", s.stdout.String())
	}
	var demo struct {
		Demo demoCredentials `json:"demo"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &demo); err != nil {
		t.Fatalf("demo line %q: %v", lines[0], err)
	}
	var status map[string]string
	if err := json.Unmarshal([]byte(lines[1]), &status); err != nil {
		t.Fatalf("status line %q: %v", lines[1], err)
	}
	return demo.Demo, status
}

func TestServeDemo(t *testing.T) {
	testEnv(t)
	addr := freeAddr(t)
	base := "http://" + addr

	s := startServe(t, addr)
	demo, status := s.demoOutput(t)
	requireAll(t, "status line", field("status", status["status"], "listening"), field("addr", status["addr"], addr),
		field("public_url", status["public_url"], base))
	requireAll(t, "demo credentials",
		field("Issuer", demo.Issuer, base+"/t/demo"),
		field("Discovery", demo.Discovery, demo.Issuer+"/.well-known/openid-configuration"),
		field("ConfidentialClient.ClientID", demo.ConfidentialClient.ClientID, "demo-web"),
		field("ConfidentialClient.ClientSecret has 43 characters or more", len(demo.ConfidentialClient.ClientSecret) >= 43, true),
		field("ConfidentialClient.RedirectURI", demo.ConfidentialClient.RedirectURI, "http://localhost:9999/callback"),
		field("SPAClient.ClientID", demo.SPAClient.ClientID, "demo-spa"),
		field("SPAClient.ClientSecret", demo.SPAClient.ClientSecret, ""),
		field("User.Username", demo.User.Username, "demo"),
		field("User.Password has 12 characters or more", len(demo.User.Password) >= 12, true))

	// Discovery at the printed issuer names that issuer.
	resp, err := http.Get(demo.Discovery)
	if err != nil {
		t.Fatal(err)
	}
	var disc map[string]any
	err = json.NewDecoder(resp.Body).Decode(&disc)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || err != nil || disc["issuer"] != demo.Issuer {
		t.Fatalf("discovery: %d %v %v", resp.StatusCode, err, disc)
	}

	// The printed secret works: client_credentials at the token endpoint.
	if code := clientCredentials(t, demo.Issuer, "demo-web", demo.ConfidentialClient.ClientSecret); code != http.StatusOK {
		t.Fatalf("client_credentials with the demo secret: %d", code)
	}
	if code := s.stop(t); code != 0 {
		t.Fatalf("serve exit %d after cancel\nstderr: %s", code, s.stderr.String())
	}

	// A second --demo start keeps the set-up and prints the same
	// credentials (kept in the data directory), which still work.
	s2 := startServe(t, addr)
	demo2, _ := s2.demoOutput(t)
	if demo2 != demo {
		t.Fatalf("a second --demo start printed other credentials:\n%+v\nwant %+v", demo2, demo)
	}
	if code := clientCredentials(t, demo2.Issuer, "demo-web", demo.ConfidentialClient.ClientSecret); code != http.StatusOK {
		t.Fatalf("demo secret after a restart: %d", code)
	}
	if code := s2.stop(t); code != 0 {
		t.Fatalf("second serve exit %d\nstderr: %s", code, s2.stderr.String())
	}
}

// clientCredentials asks the token endpoint for a client_credentials token
// with client_secret_basic and returns the status code.
func clientCredentials(t *testing.T, issuer, id, secret string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, issuer+"/token",
		strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		var body map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body["access_token"] == nil {
			t.Fatalf("token response %v (%v)", body, err)
		}
	}
	return resp.StatusCode
}

func TestServeRefusesBadAddr(t *testing.T) {
	testEnv(t)
	r := herald(t, "", "serve", "--addr", "localhost")
	if r.code != 1 || !strings.Contains(r.stderr, "--addr") {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestServePprofOnItsOwnListener: --pprof-addr (here HERALD_PPROF_ADDR)
// serves profiles on its own loopback listener; the public port never
// serves them.
func TestServePprofOnItsOwnListener(t *testing.T) {
	testEnv(t)
	addr, pprofAddr := freeAddr(t), freeAddr(t)
	t.Setenv("HERALD_PPROF_ADDR", pprofAddr)
	s := startServe(t, addr)
	get := func(u string) int {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := get("http://" + pprofAddr + "/debug/pprof/"); st != http.StatusOK {
		t.Fatalf("pprof listener: %d", st)
	}
	if st := get("http://" + addr + "/debug/pprof/"); st != http.StatusNotFound {
		t.Fatalf("public port serves /debug/pprof/: %d", st)
	}
	if code := s.stop(t); code != 0 {
		t.Fatalf("exit %d", code)
	}
}

package main

// Test helpers that run the real herald binary as a subprocess and drive it
// like a browser and a relying party would: a cookie jar, Herald's login
// form parsed with x/net/html, and plain HTTP calls to the token,
// introspection and readiness endpoints.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/html"
)

// buildHerald compiles this command into a temporary directory.
func buildHerald(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "herald")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// heraldEnv is the environment of a herald subprocess: the test process's
// environment without any HERALD_* variable, plus settings ("KEY=value";
// later ones win).
func heraldEnv(settings ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, envPrefix) {
			env = append(env, kv)
		}
	}
	env = append(env,
		"HERALD_ARGON2_MEMORY_KIB=19456", "HERALD_ARGON2_ITERATIONS=1", "HERALD_ARGON2_PARALLELISM=1",
		"HERALD_SHUTDOWN_DELAY=0s") // tests that drain set their own

	return append(env, settings...)
}

// runHerald runs a herald command to completion and returns its output.
func runHerald(t *testing.T, bin string, env []string, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("herald %v: %v", args, err)
	}
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// mustRunHerald runs a herald command that must succeed and decodes the
// JSON object it prints.
func mustRunHerald(t *testing.T, bin string, env []string, stdin string, args ...string) map[string]any {
	t.Helper()
	r := runHerald(t, bin, env, stdin, args...)
	if r.code != 0 {
		t.Fatalf("herald %v: exit %d\nstderr: %s", args, r.code, r.stderr)
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatalf("herald %v: stdout is not one JSON object: %q", args, r.stdout)
	}
	return v
}

// heraldProcess is a running `herald serve`.
type heraldProcess struct {
	cmd            *exec.Cmd
	base           string // http://addr
	stdout, stderr *syncBuffer
	done           chan struct{} // closed when the process has exited
	exitCode       int           // valid once done is closed
}

// startHerald starts `herald serve --addr addr args...` and waits, bounded,
// until /healthz answers. The process is killed when the test ends.
func startHerald(t *testing.T, bin string, env []string, addr string, args ...string) *heraldProcess {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--addr", addr}, args...)...)
	cmd.Env = env
	p := &heraldProcess{cmd: cmd, base: "http://" + addr, stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.stdout, p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start herald serve: %v", err)
	}
	go func() {
		err := cmd.Wait()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			p.exitCode = ee.ExitCode()
		}
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = cmd.Process.Kill()
			<-p.done
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-p.done:
			t.Fatalf("herald serve exited with %d before answering\nstderr: %s", p.exitCode, p.stderr.String())
		default:
		}
		resp, err := http.Get(p.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("herald serve: /healthz did not answer 200 (last error %v)\nstderr: %s", err, p.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill ends the process with SIGKILL — a crash, no clean-up — and waits.
func (p *heraldProcess) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("SIGKILL: %v", err)
	}
	<-p.done
}

// terminate sends SIGTERM and returns the exit code; the test fails if the
// process has not exited within limit.
func (p *heraldProcess) terminate(t *testing.T, limit time.Duration) int {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	select {
	case <-p.done:
		return p.exitCode
	case <-time.After(limit):
		t.Fatalf("herald serve did not exit within %s of SIGTERM\nstderr: %s", limit, p.stderr.String())
		return -1
	}
}

// rpClient is a relying party registered at issuer.
type rpClient struct {
	issuer, id, secret, redirect string
}

// browser keeps cookies and follows redirects within Herald only: a
// redirect to the relying party is returned, not followed.
type browser struct {
	t      *testing.T
	client *http.Client
}

func newBrowser(t *testing.T, heraldBase string) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	host := strings.TrimPrefix(heraldBase, "http://")
	return &browser{t: t, client: &http.Client{
		Jar:     jar,
		Timeout: 30 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Host != host || len(via) >= 10 {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}}
}

// page is a response with its body read.
type page struct {
	status int
	header http.Header
	body   string
	url    *url.URL // of the request that produced it
}

func (b *browser) do(req *http.Request) *page {
	b.t.Helper()
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL.Redacted(), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatalf("read %s: %v", req.URL.Redacted(), err)
	}
	return &page{status: resp.StatusCode, header: resp.Header, body: string(body), url: resp.Request.URL}
}

func (b *browser) get(rawURL string) *page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

// htmlForm is the first <form> of a page: its action and named inputs.
type htmlForm struct {
	action string
	inputs url.Values // every named input with its value
}

func findForm(body string) *htmlForm {
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		return nil
	}
	for n := range doc.Descendants() {
		if n.Type != html.ElementNode || n.Data != "form" {
			continue
		}
		f := &htmlForm{action: attr(n, "action"), inputs: url.Values{}}
		for in := range n.Descendants() {
			if in.Type == html.ElementNode && in.Data == "input" && attr(in, "name") != "" {
				f.inputs.Set(attr(in, "name"), attr(in, "value"))
			}
		}
		return f
	}
	return nil
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// isLoginPage reports whether p is Herald's login form.
func (p *page) isLoginPage() bool {
	f := findForm(p.body)
	return p.status == http.StatusOK && f != nil && f.inputs.Has("username") && f.inputs.Has("password") &&
		f.inputs.Get("csrf_token") != "" && f.inputs.Get("auth_request_id") != ""
}

// login submits the login form on p with username and password.
func (b *browser) login(p *page, username, password string) *page {
	b.t.Helper()
	if !p.isLoginPage() {
		b.t.Fatalf("expected the login page, got %d:\n%s", p.status, p.body)
	}
	f := findForm(p.body)
	action, err := p.url.Parse(f.action)
	if err != nil {
		b.t.Fatalf("form action %q: %v", f.action, err)
	}
	form := f.inputs
	form.Set("username", username)
	form.Set("password", password)
	req, err := http.NewRequest(http.MethodPost, action.String(), strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// authRequest is one authorization request with PKCE.
type authRequest struct {
	url, state, verifier string
}

func newAuthRequest(t *testing.T, c rpClient, scope string) authRequest {
	t.Helper()
	verifier, state := randomHex(t)+randomHex(t)+randomHex(t), randomHex(t)
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{
		"response_type": {"code"}, "client_id": {c.id}, "redirect_uri": {c.redirect}, "scope": {scope},
		"state": {state}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"},
	}
	return authRequest{url: c.issuer + "/authorize?" + q.Encode(), state: state, verifier: verifier}
}

// requireCode asserts that p redirects to the client's redirect URI with a
// code, the request's state and the issuer, and returns the code.
func requireCode(t *testing.T, p *page, c rpClient, ar authRequest) string {
	t.Helper()
	if p.status != http.StatusFound && p.status != http.StatusSeeOther {
		t.Fatalf("expected a redirect to %s, got %d:\n%s", c.redirect, p.status, p.body)
	}
	loc, err := url.Parse(p.header.Get("Location"))
	if err != nil {
		t.Fatalf("Location %q: %v", p.header.Get("Location"), err)
	}
	q := loc.Query()
	loc.RawQuery = ""
	switch {
	case loc.String() != c.redirect:
		t.Fatalf("redirected to %s, want %s", loc, c.redirect)
	case q.Get("error") != "":
		t.Fatalf("authorization error %q: %s", q.Get("error"), q.Get("error_description"))
	case q.Get("state") != ar.state || q.Get("iss") != c.issuer || q.Get("code") == "":
		t.Fatalf("authorization response state=%q iss=%q code present=%v; want state %q, iss %q",
			q.Get("state"), q.Get("iss"), q.Get("code") != "", ar.state, c.issuer)
	}
	return q.Get("code")
}

// signIn runs an authorization request in b, logging in on the login page.
func signIn(t *testing.T, b *browser, c rpClient, username, password, scope string) (string, authRequest) {
	t.Helper()
	ar := newAuthRequest(t, c, scope)
	p := b.get(ar.url)
	if !p.isLoginPage() {
		t.Fatalf("expected the login page, got %d:\n%s", p.status, p.body)
	}
	return requireCode(t, b.login(p, username, password), c, ar), ar
}

// jsonReply is a response of a JSON endpoint.
type jsonReply struct {
	status int
	body   string
	json   map[string]any
}

func (r jsonReply) str(key string) string {
	s, _ := r.json[key].(string)
	return s
}

// postAs POSTs form to endpoint with client_secret_basic.
func postAs(t *testing.T, c rpClient, endpoint string, form url.Values) jsonReply {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(c.id), url.QueryEscape(c.secret))
	return doJSON(t, req)
}

func doJSON(t *testing.T, req *http.Request) jsonReply {
	t.Helper()
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	r := jsonReply{status: resp.StatusCode, body: string(body)}
	_ = json.Unmarshal(body, &r.json)
	return r
}

// exchange redeems a code at the token endpoint.
func exchange(t *testing.T, c rpClient, code string, ar authRequest) jsonReply {
	t.Helper()
	return postAs(t, c, c.issuer+"/token", url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {c.redirect}, "code_verifier": {ar.verifier},
	})
}

// readyz fetches /readyz.
func readyz(t *testing.T, base string) jsonReply {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+"/readyz", nil)
	if err != nil {
		t.Fatal(err)
	}
	return doJSON(t, req)
}

// waitFor polls cond every 100ms until it holds or limit passes (then the
// test fails with what).
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, limit)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

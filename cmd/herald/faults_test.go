package main

// The fault test (make test-faults, issue 14): three `herald serve`
// replicas behind a round-robin reverse proxy, on a private PostgreSQL and
// a local Redis Cluster, under a continuous load of logins (through the
// login form), refreshes and client_credentials requests while
//
//	(a) one replica is killed with SIGKILL and started again,
//	(b) the Redis master serving the tenant's hash slot is killed and its
//	    replica takes over,
//	(c) PostgreSQL is restarted (pg_ctl restart -m fast).
//
// It prints the requests by outcome per fault window and the recovery time
// after each fault, and asserts that nothing stored is lost, that no
// request gets a 500 (only retryable 503s while a fault lasts), and that
// every replica serves again without a restart.

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httputil"
	"net/url"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	testbackends "github.com/herald-idp/herald/storage/storagetest/backends"
)

// faultTestEnv turns the fault test on: it takes minutes and starts its own
// PostgreSQL, Redis Cluster and three Herald processes.
const faultTestEnv = "HERALD_FAULT_TEST"

// Fault-test timing.
const (
	faultQuiet       = 4 * time.Second  // load before the first fault and after the last
	faultSettle      = 2 * time.Second  // load after a recovery, still in the fault's window
	faultRecoveryMax = 60 * time.Second // a fault not recovered from by then fails the test
	replicaDownFor   = time.Second      // how long the killed replica stays down
	proxyErrorHeader = "X-Fault-Proxy-Error"
	faultTenant      = "acme"
	// faultUsers users take turns logging in, each from its own address:
	// an attempt that an outage cuts short still counts against the
	// account in the login throttle (it runs before the user is looked
	// up), so one account hammered by every worker would be throttled
	// (429) after a few failed attempts — see docs/deploy.md.
	faultUsers    = 12
	faultPassword = "correct horse battery staple 42"
	faultRedirect = "http://127.0.0.1:9/cb"
	faultBaseline = 4 // logins (sessions + refresh tokens) made before the faults
)

func TestFaults(t *testing.T) {
	if os.Getenv(faultTestEnv) == "" {
		t.Skipf("the fault test runs with %s=1 (make test-faults)", faultTestEnv)
	}
	bin := buildHerald(t)

	pg, err := testbackends.StartPrivatePostgres()
	if err != nil {
		t.Fatalf("private PostgreSQL: %v", err)
	}
	t.Cleanup(pg.Stop)
	cluster, err := testbackends.StartRedisCluster()
	if err != nil {
		t.Fatalf("Redis Cluster: %v", err)
	}
	t.Cleanup(cluster.Stop)
	dbURL := strings.Replace(pg.URL(), "/postgres?", "/herald?", 1)
	createDatabase(t, pg.URL(), "herald")

	proxyLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	publicURL := "http://" + proxyLn.Addr().String()
	kek := make([]byte, 32)
	_, _ = rand.Read(kek)
	env := heraldEnv(
		"HERALD_DATABASE_URL="+dbURL, "HERALD_REDIS_URL="+cluster.URL(), "HERALD_REDIS_PREFIX=faults",
		"HERALD_PUBLIC_URL="+publicURL, "HERALD_KEY_ENCRYPTION_KEY="+base64.StdEncoding.EncodeToString(kek),
		// The proxy is trusted: every simulated user logs in from its own
		// address (X-Forwarded-For), as behind a real load balancer, so
		// that the per-address login throttle sees many users.
		"HERALD_TRUSTED_PROXIES=127.0.0.1/32", "HERALD_LOG_LEVEL=warn")
	mustRunHerald(t, bin, env, "", "migrate")
	mustRunHerald(t, bin, env, "", "tenant", "create", "--name", faultTenant)
	created := mustRunHerald(t, bin, env, "", "client", "create", "--tenant", faultTenant, "--id", "web",
		"--redirect-uri", faultRedirect, "--first-party",
		"--grant", "authorization_code", "--grant", "refresh_token", "--grant", "client_credentials")
	web := rpClient{issuer: publicURL + "/t/" + faultTenant, id: "web", redirect: faultRedirect}
	web.secret, _ = created["client_secret"].(string)
	for i := range faultUsers {
		mustRunHerald(t, bin, env, faultPassword+"\n", "user", "create", "--tenant", faultTenant,
			"--username", fmt.Sprintf("user%02d", i), "--password-stdin")
	}

	replicas := make([]*heraldProcess, 3)
	addrs := make([]string, 3)
	for i := range replicas {
		addrs[i] = freeAddr(t)
		replicas[i] = startHerald(t, bin, env, addrs[i])
	}
	proxy := newRoundRobinProxy(addrs)
	proxySrv := &http.Server{Handler: proxy, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = proxySrv.Serve(proxyLn) }()
	t.Cleanup(func() { _ = proxySrv.Close() })

	d := &faultDriver{web: web, host: proxyLn.Addr().String()}
	// Baseline: sessions and refresh tokens that must survive every fault.
	var kept []*loginResult
	for range faultBaseline {
		res, outcome := d.login()
		if res == nil {
			t.Fatalf("baseline login: %s", outcome)
		}
		kept = append(kept, res)
	}
	keysBefore := d.jwksKids(t)
	ccBefore, outcome := d.clientCredentials()
	if ccBefore == "" {
		t.Fatalf("baseline client_credentials: %s", outcome)
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	d.startLoad(&wg, stop)

	d.window("before the faults")
	time.Sleep(faultQuiet)

	// (a) A replica crashes and is started again.
	d.window("(a) replica SIGKILL + restart")
	start := time.Now()
	replicas[1].kill(t)
	time.Sleep(replicaDownFor)
	replicas[1] = startHerald(t, bin, env, addrs[1])
	d.recovered(t, start, addrs)
	time.Sleep(faultSettle)

	// (b) The master of the tenant's hash slot dies; its replica takes over.
	d.window("(b) Redis master SIGKILL, failover")
	slot := tenantSlot(t, cluster)
	master, err := cluster.MasterOfSlot(context.Background(), slot)
	if err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	master.Kill()
	d.recovered(t, start, addrs)
	time.Sleep(faultSettle)
	// The old master comes back and rejoins as a replica.
	if err := master.Start(); err != nil {
		t.Fatalf("restart the killed Redis master: %v", err)
	}
	if err := cluster.WaitHealthy(faultRecoveryMax); err != nil {
		t.Fatalf("Cluster after the old master rejoined: %v", err)
	}

	// (c) PostgreSQL restarts.
	d.window("(c) PostgreSQL restart -m fast")
	start = time.Now()
	if err := pg.Restart(); err != nil {
		t.Fatalf("pg_ctl restart: %v", err)
	}
	d.recovered(t, start, addrs)
	time.Sleep(faultSettle)

	d.window("after the faults")
	time.Sleep(faultQuiet)
	close(stop)
	wg.Wait()
	d.endWindow()
	d.report(t)

	// Nothing stored was lost: the sessions of the baseline logins still
	// sign the user in, their refresh tokens still refresh, their access
	// tokens are still active, the client still authenticates and the
	// signing keys published before are still published.
	for i, k := range kept {
		if outcome := d.reauthorize(k); outcome != "" {
			t.Errorf("baseline session %d after the faults: %s", i, outcome)
		}
		if tok, outcome := d.refresh(k.refreshToken); tok == "" {
			t.Errorf("baseline refresh token %d after the faults: %s", i, outcome)
		}
		if active, outcome := d.introspect(k.accessToken); !active {
			t.Errorf("baseline access token %d after the faults: %s", i, outcome)
		}
	}
	if active, outcome := d.introspect(ccBefore); !active {
		t.Errorf("client_credentials token from before the faults: %s", outcome)
	}
	if tok, outcome := d.clientCredentials(); tok == "" {
		t.Errorf("client_credentials after the faults: %s", outcome)
	}
	if after := d.jwksKids(t); !subset(keysBefore, after) {
		t.Errorf("signing keys before the faults %v, after %v: a key was lost", keysBefore, after)
	}
	// Every replica serves; the two that were never killed are the same
	// processes as at the start.
	for i, r := range replicas {
		select {
		case <-r.done:
			t.Errorf("replica %d exited (%d)\nstderr: %s", i, r.exitCode, r.stderr.String())
		default:
		}
		if outcome := d.replicaServes(addrs[i]); outcome != "" {
			t.Errorf("replica %d after the faults: %s", i, outcome)
		}
		for _, line := range strings.Split(r.stderr.String(), "\n") {
			if strings.Contains(line, "panic") {
				t.Errorf("replica %d logged a panic: %s", i, line)
			}
		}
	}
	d.check(t)
}

// createDatabase creates database name through the admin URL.
func createDatabase(t *testing.T, adminURL, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		t.Fatalf("connect to the private PostgreSQL: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("create database: %v", err)
	}
}

// tenantSlot is the Cluster hash slot of every key of the tenant (its hash
// tag is {tenant}).
func tenantSlot(t *testing.T, c *testbackends.RedisCluster) int {
	t.Helper()
	cl := c.Client()
	defer cl.Close()
	slot, err := cl.ClusterKeySlot(context.Background(), "{"+faultTenant+"}").Result()
	if err != nil {
		t.Fatal(err)
	}
	return int(slot)
}

func subset(a, b []string) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

// roundRobinProxy sends each request to the next replica. A replica that
// refuses the connection (down) is skipped for the next one, as a load
// balancer's health checks would; a request that reached a replica which
// then died is answered 502 with proxyErrorHeader set.
type roundRobinProxy struct {
	*httputil.ReverseProxy
}

func newRoundRobinProxy(addrs []string) *roundRobinProxy {
	var next atomic.Uint64
	transport := &http.Transport{MaxIdleConnsPerHost: 32, ResponseHeaderTimeout: 30 * time.Second}
	rt := roundTripFunc(func(req *http.Request) (*http.Response, error) {
		var body []byte
		if req.Body != nil {
			var err error
			if body, err = io.ReadAll(req.Body); err != nil {
				return nil, err
			}
			_ = req.Body.Close()
		}
		first := next.Add(1)
		var err error
		for i := range uint64(len(addrs)) {
			out := req.Clone(req.Context())
			out.URL.Host = addrs[(first+i)%uint64(len(addrs))]
			out.Body = io.NopCloser(bytes.NewReader(body))
			var resp *http.Response
			resp, err = transport.RoundTrip(out)
			if err == nil {
				return resp, nil
			}
			if !errors.Is(err, syscall.ECONNREFUSED) {
				return nil, err
			}
		}
		return nil, err
	})
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Scheme = "http"
			pr.Out.Host = pr.In.Host
			// Append to the client's X-Forwarded-For (Rewrite drops it).
			pr.Out.Header["X-Forwarded-For"] = pr.In.Header["X-Forwarded-For"]
			pr.SetXForwarded()
		},
		Transport: rt,
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			w.Header().Set(proxyErrorHeader, err.Error())
			w.WriteHeader(http.StatusBadGateway)
		},
	}
	return &roundRobinProxy{rp}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// faultDriver drives the load and counts outcomes per window.
type faultDriver struct {
	web  rpClient
	host string // the proxy's host:port (Herald's public host)
	ip   atomic.Uint32
	user atomic.Uint32

	mu      sync.Mutex
	windows []*faultWindow
	current *faultWindow
}

// faultWindow is one phase of the test: its requests by kind and outcome.
type faultWindow struct {
	name     string
	start    time.Time
	end      time.Time
	recovery time.Duration // -1: no fault in this window
	counts   map[string]map[string]int
}

// Outcomes. okOutcome is success; retryable is a 503 with
// temporarily_unavailable (JSON) or Herald's "Please try again" page, or a
// redirect to the client with error=temporarily_unavailable.
const (
	okOutcome        = "ok"
	retryableOutcome = "503 retryable"
	proxyOutcome     = "502 replica died mid-request"
)

func (d *faultDriver) window(name string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := time.Now()
	if d.current != nil {
		d.current.end = now
	}
	d.current = &faultWindow{name: name, start: now, recovery: -1, counts: map[string]map[string]int{}}
	d.windows = append(d.windows, d.current)
}

func (d *faultDriver) endWindow() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.current.end = time.Now()
}

func (d *faultDriver) record(kind, outcome string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.current == nil {
		return
	}
	if d.current.counts[kind] == nil {
		d.current.counts[kind] = map[string]int{}
	}
	d.current.counts[kind][outcome]++
}

// recovered polls every replica directly until all of them serve a login
// page (Redis), a client_credentials token (PostgreSQL) and /readyz, and
// records the time since start as the window's recovery time.
func (d *faultDriver) recovered(t *testing.T, start time.Time, addrs []string) {
	t.Helper()
	for {
		var failing []string
		for i, a := range addrs {
			if outcome := d.replicaServes(a); outcome != "" {
				failing = append(failing, fmt.Sprintf("replica %d: %s", i, outcome))
			}
		}
		if len(failing) == 0 {
			break
		}
		if time.Since(start) > faultRecoveryMax {
			t.Fatalf("not recovered within %s: %v", faultRecoveryMax, failing)
		}
		time.Sleep(100 * time.Millisecond)
	}
	d.mu.Lock()
	d.current.recovery = time.Since(start)
	d.mu.Unlock()
}

// nextIP is a fresh client address for one simulated user.
func (d *faultDriver) nextIP() string {
	n := d.ip.Add(1)
	return fmt.Sprintf("10.%d.%d.%d", byte(n>>16), byte(n>>8), byte(n))
}

// httpClient talks to Herald through the proxy as a browser at ip: cookies
// kept, redirects followed within Herald only.
func (d *faultDriver) httpClient(ip string, jar http.CookieJar) *http.Client {
	base := &http.Transport{MaxIdleConnsPerHost: 4}
	return &http.Client{
		Jar:     jar,
		Timeout: 30 * time.Second,
		Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			r = r.Clone(r.Context())
			r.Header.Set("X-Forwarded-For", ip)
			return base.RoundTrip(r)
		}),
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Host != d.host || len(via) >= 10 {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}
}

// reply is one response, read.
type reply struct {
	status int
	header http.Header
	body   string
	url    *url.URL
	err    error
}

func do(c *http.Client, req *http.Request) reply {
	resp, err := c.Do(req)
	if err != nil {
		return reply{err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, header: resp.Header, body: string(body), url: resp.Request.URL, err: err}
}

// classify names a response that is not the expected success.
func classify(r reply) string {
	switch {
	case r.err != nil:
		return "transport error: " + r.err.Error()
	case r.status == http.StatusBadGateway && r.header.Get(proxyErrorHeader) != "":
		return proxyOutcome
	case r.status == http.StatusServiceUnavailable &&
		(strings.Contains(r.body, "temporarily_unavailable") || strings.Contains(r.body, "Please try again")):
		return retryableOutcome
	case r.status == http.StatusFound || r.status == http.StatusSeeOther:
		loc, _ := url.Parse(r.header.Get("Location"))
		if loc != nil && loc.Query().Get("error") == "temporarily_unavailable" {
			return retryableOutcome
		}
		if loc != nil && loc.Query().Get("error") != "" {
			return fmt.Sprintf("%d redirect error=%s", r.status, loc.Query().Get("error"))
		}
		return fmt.Sprintf("%d redirect", r.status)
	}
	var j struct {
		Error string `json:"error"`
	}
	if json.Unmarshal([]byte(r.body), &j) == nil && j.Error != "" {
		return fmt.Sprintf("%d %s", r.status, j.Error)
	}
	return fmt.Sprintf("%d", r.status)
}

// loginResult is what one successful login leaves: the browser (its
// session cookie) and the tokens.
type loginResult struct {
	client                    *http.Client
	accessToken, refreshToken string
}

func randomString() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// authorizeURL is a fresh authorization request with PKCE.
func (d *faultDriver) authorizeURL() (rawURL, state, verifier string) {
	verifier, state = randomString(), randomString()
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{
		"response_type": {"code"}, "client_id": {d.web.id}, "redirect_uri": {d.web.redirect},
		"scope": {"openid offline_access"}, "state": {state},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
	}
	return d.web.issuer + "/authorize?" + q.Encode(), state, verifier
}

// login signs in through the login form and redeems the code. It records
// each step's outcome and returns the result, or nil and the outcome of
// the step that failed.
func (d *faultDriver) login() (*loginResult, string) {
	jar, _ := cookiejar.New(nil)
	c := d.httpClient(d.nextIP(), jar)
	authURL, state, verifier := d.authorizeURL()
	req, _ := http.NewRequest(http.MethodGet, authURL, nil)
	p := do(c, req)
	f := findForm(p.body)
	if p.err != nil || p.status != http.StatusOK || f == nil || !f.inputs.Has("password") {
		outcome := classify(p)
		d.record("authorize", outcome)
		return nil, "authorize: " + outcome
	}
	d.record("authorize", okOutcome)
	action, err := p.url.Parse(f.action)
	if err != nil {
		return nil, "form action: " + err.Error()
	}
	form := f.inputs
	form.Set("username", fmt.Sprintf("user%02d", d.user.Add(1)%faultUsers))
	form.Set("password", faultPassword)
	req, _ = http.NewRequest(http.MethodPost, action.String(), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	code, outcome := d.codeFrom(do(c, req), state)
	d.record("login form", outcome)
	if code == "" {
		return nil, "login form: " + outcome
	}
	tok := d.token(url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {d.web.redirect}, "code_verifier": {verifier}})
	outcome = tokenOutcome(tok)
	d.record("code exchange", outcome)
	if outcome != okOutcome {
		return nil, "code exchange: " + outcome
	}
	var j struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	_ = json.Unmarshal([]byte(tok.body), &j)
	if j.RefreshToken == "" {
		return nil, "code exchange: no refresh token"
	}
	return &loginResult{client: c, accessToken: j.AccessToken, refreshToken: j.RefreshToken}, okOutcome
}

// codeFrom reads the code from a redirect to the client.
func (d *faultDriver) codeFrom(r reply, state string) (string, string) {
	if r.err == nil && (r.status == http.StatusFound || r.status == http.StatusSeeOther) {
		loc, err := url.Parse(r.header.Get("Location"))
		if err == nil && strings.HasPrefix(loc.String(), d.web.redirect) {
			q := loc.Query()
			if q.Get("code") != "" && q.Get("state") == state {
				return q.Get("code"), okOutcome
			}
		}
	}
	return "", classify(r)
}

// reauthorize checks that a login's session still signs the user in: a
// new authorization request goes straight back to the client with a code.
func (d *faultDriver) reauthorize(l *loginResult) string {
	authURL, state, _ := d.authorizeURL()
	req, _ := http.NewRequest(http.MethodGet, authURL, nil)
	r := do(l.client, req)
	if f := findForm(r.body); r.status == http.StatusOK && f != nil && f.inputs.Has("password") {
		return "the session is gone: login page shown"
	}
	if code, outcome := d.codeFrom(r, state); code == "" {
		return outcome
	}
	return ""
}

// token POSTs to the token endpoint with client_secret_basic.
func (d *faultDriver) token(form url.Values) reply {
	return d.post(d.web.issuer+"/token", form)
}

func (d *faultDriver) post(endpoint string, form url.Values) reply {
	req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(d.web.id), url.QueryEscape(d.web.secret))
	return do(&http.Client{Timeout: 30 * time.Second}, req)
}

func tokenOutcome(r reply) string {
	if r.err == nil && r.status == http.StatusOK && strings.Contains(r.body, `"access_token"`) {
		return okOutcome
	}
	return classify(r)
}

// refresh redeems a refresh token; it returns the new access token, or ""
// and the outcome.
func (d *faultDriver) refresh(rt string) (string, string) {
	r := d.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
	if o := tokenOutcome(r); o != okOutcome {
		return "", o
	}
	var j struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.Unmarshal([]byte(r.body), &j)
	return j.AccessToken, okOutcome
}

func (d *faultDriver) clientCredentials() (string, string) {
	r := d.token(url.Values{"grant_type": {"client_credentials"}})
	if o := tokenOutcome(r); o != okOutcome {
		return "", o
	}
	var j struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.Unmarshal([]byte(r.body), &j)
	return j.AccessToken, okOutcome
}

func (d *faultDriver) introspect(token string) (bool, string) {
	r := d.post(d.web.issuer+"/introspect", url.Values{"token": {token}})
	var j struct {
		Active bool `json:"active"`
	}
	if r.err != nil || r.status != http.StatusOK || json.Unmarshal([]byte(r.body), &j) != nil {
		return false, classify(r)
	}
	if !j.Active {
		return false, "inactive"
	}
	return true, okOutcome
}

// jwksKids lists the key IDs the tenant publishes.
func (d *faultDriver) jwksKids(t *testing.T) []string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, d.web.issuer+"/jwks", nil)
	r := do(&http.Client{Timeout: 30 * time.Second}, req)
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	if r.err != nil || r.status != http.StatusOK || json.Unmarshal([]byte(r.body), &set) != nil {
		t.Fatalf("JWKS: %s", classify(r))
	}
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.Kid)
	}
	sort.Strings(kids)
	return kids
}

// replicaServes checks one replica directly (not through the proxy):
// /readyz, a login page (an authorization request in Redis) and a
// client_credentials token (PostgreSQL). It returns "" or what failed.
func (d *faultDriver) replicaServes(addr string) string {
	c := &http.Client{Timeout: 5 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	send := func(req *http.Request) reply {
		req.Host = d.host
		req.Header.Set("X-Forwarded-For", d.nextIP())
		return do(c, req)
	}
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/readyz", nil)
	if r := send(req); r.err != nil || r.status != http.StatusOK {
		return "/readyz: " + classify(r)
	}
	authURL, _, _ := d.authorizeURL()
	u, _ := url.Parse(authURL)
	u.Host = addr
	req, _ = http.NewRequest(http.MethodGet, u.String(), nil)
	r := send(req)
	if r.status == http.StatusFound || r.status == http.StatusSeeOther {
		// To the login page.
		loc, err := url.Parse(r.header.Get("Location"))
		if err == nil && !strings.HasPrefix(loc.String(), d.web.redirect) {
			next := u.ResolveReference(loc)
			next.Host = addr
			req, _ = http.NewRequest(http.MethodGet, next.String(), nil)
			r = send(req)
		}
	}
	if f := findForm(r.body); r.err != nil || r.status != http.StatusOK || f == nil || !f.inputs.Has("password") {
		return "login page: " + classify(r)
	}
	req, _ = http.NewRequest(http.MethodPost, "http://"+addr+"/t/"+faultTenant+"/token",
		strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(d.web.id), url.QueryEscape(d.web.secret))
	if r := send(req); tokenOutcome(r) != okOutcome {
		return "client_credentials: " + classify(r)
	}
	return ""
}

// startLoad runs the load until stop closes: two login loops, two refresh
// loops (each on its own refresh token) and two client_credentials loops.
func (d *faultDriver) startLoad(wg *sync.WaitGroup, stop chan struct{}) {
	loop := func(step func()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				step()
				time.Sleep(20 * time.Millisecond)
			}
		}()
	}
	for range 2 {
		loop(func() { d.login() })
	}
	for range 2 {
		var rt string
		loop(func() {
			if rt == "" {
				res, _ := d.login()
				if res == nil {
					return
				}
				rt = res.refreshToken
			}
			_, outcome := d.refresh(rt)
			d.record("refresh", outcome)
		})
	}
	for range 2 {
		loop(func() {
			_, outcome := d.clientCredentials()
			d.record("client_credentials", outcome)
		})
	}
}

// report prints every window's outcomes and recovery time.
func (d *faultDriver) report(t *testing.T) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "fault test: requests by outcome per window\n")
	for _, w := range d.windows {
		rec := "-"
		if w.recovery >= 0 {
			rec = w.recovery.Round(10 * time.Millisecond).String()
		}
		fmt.Fprintf(&b, "\n%s (%s, recovery %s)\n", w.name, w.end.Sub(w.start).Round(100*time.Millisecond), rec)
		kinds := make([]string, 0, len(w.counts))
		for k := range w.counts {
			kinds = append(kinds, k)
		}
		sort.Strings(kinds)
		for _, k := range kinds {
			outcomes := make([]string, 0, len(w.counts[k]))
			for o := range w.counts[k] {
				outcomes = append(outcomes, o)
			}
			sort.Strings(outcomes)
			var parts []string
			for _, o := range outcomes {
				parts = append(parts, fmt.Sprintf("%s %d", o, w.counts[k][o]))
			}
			fmt.Fprintf(&b, "  %-20s %s\n", k, strings.Join(parts, ", "))
		}
	}
	t.Log(b.String())
	fmt.Println(b.String())
}

// check asserts the outcomes: success only outside the fault windows;
// inside them also retryable 503s, and in the replica crash's window 502s
// of requests that were in flight on the killed replica; never anything
// else (no 500).
func (d *faultDriver) check(t *testing.T) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, w := range d.windows {
		for kind, outcomes := range w.counts {
			for o, n := range outcomes {
				allowed := o == okOutcome ||
					(w.recovery >= 0 && o == retryableOutcome) ||
					(strings.HasPrefix(w.name, "(a)") && o == proxyOutcome)
				if !allowed {
					t.Errorf("%s: %s: %d × %q", w.name, kind, n, o)
				}
			}
			if outcomes[okOutcome] == 0 {
				t.Errorf("%s: %s: no request succeeded", w.name, kind)
			}
		}
	}
}

package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// otlpReceiver is a local OTLP/HTTP trace receiver: it decodes every
// export (protobuf, gzip or not) and keeps the raw payloads too, so that a
// test can search them for secrets.
type otlpReceiver struct {
	srv *httptest.Server

	mu       sync.Mutex
	spans    []*tracepb.Span
	payloads [][]byte
}

func newOTLPReceiver(t *testing.T) *otlpReceiver {
	t.Helper()
	r := &otlpReceiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path != "/v1/traces" || req.Method != http.MethodPost {
			http.NotFound(w, req)
			return
		}
		var body io.Reader = req.Body
		if req.Header.Get("Content-Encoding") == "gzip" {
			gz, err := gzip.NewReader(req.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			body = gz
		}
		raw, err := io.ReadAll(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var export collectortrace.ExportTraceServiceRequest
		if err := proto.Unmarshal(raw, &export); err != nil {
			t.Errorf("OTLP receiver: undecodable export (Content-Type %q): %v", req.Header.Get("Content-Type"), err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		r.payloads = append(r.payloads, raw)
		for _, rs := range export.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				r.spans = append(r.spans, ss.Spans...)
			}
		}
		r.mu.Unlock()
		out, _ := proto.Marshal(&collectortrace.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(out)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *otlpReceiver) snapshot() ([]*tracepb.Span, []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*tracepb.Span(nil), r.spans...), bytes.Join(r.payloads, []byte{0})
}

func spanAttr(s *tracepb.Span, key string) string {
	for _, kv := range s.Attributes {
		if kv.Key == key {
			return kv.Value.GetStringValue()
		}
	}
	return ""
}

// scrape reads the metrics listener and returns every sample line.
func scrape(t *testing.T, addr string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: %d %s", resp.StatusCode, body)
	}
	return string(body)
}

// metricValue sums the samples of name whose labels include every
// name="value" pair of want (a sample line: name{labels} value).
func metricValue(exposition, name string, want ...string) float64 {
	sum := 0.0
	for _, line := range strings.Split(exposition, "\n") {
		if strings.HasPrefix(line, "#") || !strings.HasPrefix(line, name) {
			continue
		}
		rest := line[len(name):]
		if rest == "" || (rest[0] != '{' && rest[0] != ' ') {
			continue // another metric with this prefix
		}
		labels, value := "", rest
		if rest[0] == '{' {
			end := strings.LastIndex(rest, "}")
			labels, value = rest[1:end], rest[end+1:]
		}
		ok := true
		for _, w := range want {
			if !strings.Contains(","+labels+",", ","+w+",") {
				ok = false
			}
		}
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err == nil {
			sum += v
		}
	}
	return sum
}

// demoOutput reads the --demo credentials serve printed first.
func demoOutput(t *testing.T, p *heraldProcess) demoCredentials {
	t.Helper()
	var out struct {
		Demo *demoCredentials `json:"demo"`
	}
	// exec copies the process's stdout into the buffer on a goroutine of
	// its own, which may lag behind the first answer: wait for the line.
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(p.stdout.String(), "\n") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	line, _, _ := strings.Cut(p.stdout.String(), "\n")
	if err := json.Unmarshal([]byte(line), &out); err != nil || out.Demo == nil {
		t.Fatalf("serve --demo printed %q", p.stdout.String())
	}
	return *out.Demo
}

// TestMetricsAndTraces runs the real binary with HERALD_METRICS_ADDR and
// an OTLP endpoint, drives a login, token requests, a throttled login, a
// code replay and a traced request, then checks that the named series
// moved on the metrics listener (and that the public port has no
// /metrics), that the spans arrived at the local OTLP/HTTP receiver with
// their names, attributes and parent trace context, that nothing secret
// is in any exported payload, and that the request's log lines carry its
// trace ID.
func TestMetricsAndTraces(t *testing.T) {
	bin := buildHerald(t)
	recv := newOTLPReceiver(t)
	addr, metricsAddr := freeAddr(t), freeAddr(t)
	env := heraldEnv(
		"HERALD_DATABASE_URL=sqlite:"+filepath.Join(t.TempDir(), "herald.db"),
		"HERALD_PUBLIC_URL=http://"+addr, "HERALD_METRICS_ADDR="+metricsAddr,
		"OTEL_EXPORTER_OTLP_ENDPOINT="+recv.srv.URL, "OTEL_BSP_SCHEDULE_DELAY=100",
		"OTEL_SERVICE_NAME=herald-test")
	p := startHerald(t, bin, env, addr, "--demo")
	demo := demoOutput(t, p)
	web := rpClient{issuer: demo.Issuer, id: demo.ConfidentialClient.ClientID,
		secret: demo.ConfidentialClient.ClientSecret, redirect: demo.ConfidentialClient.RedirectURI}
	before := scrape(t, metricsAddr)

	// A login, its code redeemed, then replayed.
	b := newBrowser(t, p.base)
	code, ar := signIn(t, b, web, demo.User.Username, demo.User.Password, "openid profile offline_access")
	tok := exchange(t, web, code, ar)
	if tok.status != http.StatusOK || tok.str("id_token") == "" || tok.str("refresh_token") == "" {
		t.Fatalf("code exchange: %d %s", tok.status, tok.body)
	}
	refreshed := postAs(t, web, web.issuer+"/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.str("refresh_token")}})
	if refreshed.status != http.StatusOK {
		t.Fatalf("refresh: %d %s", refreshed.status, refreshed.body)
	}
	if r := exchange(t, web, code, ar); r.status != http.StatusBadRequest {
		t.Fatalf("code replay: %d %s", r.status, r.body)
	}
	// Client credentials, with a W3C traceparent of ours.
	const traceID, parentID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	req, _ := http.NewRequest(http.MethodPost, web.issuer+"/token", strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("traceparent", "00-"+traceID+"-"+parentID+"-01")
	req.SetBasicAuth(web.id, web.secret)
	cc := doJSON(t, req)
	if cc.status != http.StatusOK {
		t.Fatalf("client_credentials: %d %s", cc.status, cc.body)
	}
	// Wrong passwords for one account until the throttle answers 429.
	attacker := newBrowser(t, p.base)
	page := attacker.get(newAuthRequest(t, web, "openid").url)
	throttled := false
	for range 10 {
		page.status = http.StatusOK // the form of a failed attempt's page (400) is the login form
		page = attacker.login(page, "nobody", "wrong password 1")
		if page.status == http.StatusTooManyRequests {
			throttled = true
			break
		}
	}
	if !throttled {
		t.Fatalf("no 429 after 10 wrong passwords: %d", page.status)
	}

	after := scrape(t, metricsAddr)
	moved := func(name string, labels ...string) {
		t.Helper()
		if d := metricValue(after, name, labels...) - metricValue(before, name, labels...); d <= 0 {
			t.Errorf("%s%v did not move (before %v, after %v)", name, labels,
				metricValue(before, name, labels...), metricValue(after, name, labels...))
		}
	}
	moved("herald_http_requests_total", `route="/t/{tenant}/token"`, `method="POST"`, `status="200"`, `tenant="demo"`)
	moved("herald_http_request_duration_seconds_count", `route="/t/{tenant}/token"`, `tenant="demo"`)
	moved("herald_logins_total", `tenant="demo"`, `outcome="success"`)
	moved("herald_logins_total", `tenant="demo"`, `outcome="failure"`, `reason="unknown_user"`)
	moved("herald_logins_total", `tenant="demo"`, `outcome="denied"`, `reason="throttled"`)
	moved("herald_throttled_requests_total", `tenant="demo"`)
	moved("herald_auth_events_total", `event="login.succeeded"`)
	moved("herald_code_replays_total", `tenant="demo"`)
	moved("herald_tokens_issued_total", `grant_type="authorization_code"`, `kind="id"`, `alg="RS256"`)
	moved("herald_tokens_issued_total", `grant_type="authorization_code"`, `kind="refresh"`, `alg="none"`)
	moved("herald_tokens_issued_total", `grant_type="refresh_token"`)
	moved("herald_tokens_issued_total", `grant_type="client_credentials"`, `kind="access_jwt"`)
	moved("herald_password_hash_wait_seconds_count", `result="acquired"`)
	moved("herald_storage_operation_duration_seconds_count", `backend="sqlite"`, `operation="AuthCodes.ConsumeAuthCode"`)
	moved("herald_storage_operation_duration_seconds_count", `backend="sqlite"`, `operation="Tokens.IssueTokens"`)
	moved("herald_cache_lookups_total", `cache="client"`, `result="hit"`)
	for _, name := range []string{"herald_build_info", "herald_signing_key_age_seconds", "herald_password_hash_queue_depth",
		"herald_http_requests_in_flight", "go_goroutines", "process_cpu_seconds_total"} {
		if !regexp.MustCompile(`(?m)^` + name + `[{ ]`).MatchString(after) {
			t.Errorf("%s is not exported", name)
		}
	}
	if metricValue(after, "herald_signing_key_age_seconds", `tenant="demo"`, `alg="RS256"`) < 0 {
		t.Error("signing key age is negative")
	}
	// Route labels are patterns: no raw path, tenant or client ID in them.
	for _, m := range regexp.MustCompile(`route="([^"]*)"`).FindAllStringSubmatch(after, -1) {
		if strings.Contains(m[1], "demo") || strings.Contains(m[1], web.id) {
			t.Errorf("route label %q holds a raw path", m[1])
		}
	}
	// The public port serves no metrics.
	if resp, err := http.Get(p.base + "/metrics"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("public /metrics: %v %v, want 404", resp, err)
	} else {
		resp.Body.Close()
	}

	// Spans: wait for the traced client_credentials request and its children.
	var spans []*tracepb.Span
	var payload []byte
	waitFor(t, 15*time.Second, "spans of the traced request", func() bool {
		spans, payload = recv.snapshot()
		n := 0
		for _, s := range spans {
			if hex.EncodeToString(s.TraceId) == traceID {
				n++
			}
		}
		return n >= 3
	})
	var server *tracepb.Span
	children := map[string]bool{}
	for _, s := range spans {
		if hex.EncodeToString(s.TraceId) != traceID {
			continue
		}
		if s.Kind == tracepb.Span_SPAN_KIND_SERVER {
			server = s
			continue
		}
		children[strings.Fields(s.Name)[0]] = true
	}
	if server == nil {
		t.Fatalf("no server span in the propagated trace; spans: %v", spanNames(spans))
	}
	if server.Name != "POST /t/{tenant}/token" || hex.EncodeToString(server.ParentSpanId) != parentID ||
		spanAttr(server, "herald.tenant") != "demo" || spanAttr(server, "herald.client_id") != web.id ||
		spanAttr(server, "http.route") != "/t/{tenant}/token" {
		t.Errorf("server span %q parent %x tenant %q client %q route %q; want POST /t/{tenant}/token, parent %s, demo, %s",
			server.Name, server.ParentSpanId, spanAttr(server, "herald.tenant"), spanAttr(server, "herald.client_id"),
			spanAttr(server, "http.route"), parentID, web.id)
	}
	if !children["storage"] || !children["sign"] {
		t.Errorf("child spans of the token request: %v; want storage and sign tokens", children)
	}
	hashed := false
	for _, s := range spans {
		if s.Name == "password hash" {
			hashed = true
		}
	}
	if !hashed {
		t.Errorf("no password hash span; spans: %v", spanNames(spans))
	}
	// No secret, token, code or password in any exported byte.
	secrets := map[string]string{
		"client secret": web.secret, "user password": demo.User.Password, "wrong password": "wrong password 1",
		"code": code, "code verifier": ar.verifier, "state": ar.state,
		"access token": tok.str("access_token"), "refresh token": tok.str("refresh_token"), "id token": tok.str("id_token"),
		"refreshed token": refreshed.str("refresh_token"), "client_credentials token": cc.str("access_token"),
	}
	for what, v := range secrets {
		if v == "" {
			t.Fatalf("test bug: %s is empty", what)
		}
		if bytes.Contains(payload, []byte(v)) {
			t.Errorf("the %s appears in the exported spans", what)
		}
		if strings.Contains(after, v) {
			t.Errorf("the %s appears in the metrics", what)
		}
	}
	// The request's log lines carry its trace ID.
	found := false
	sc := bufio.NewScanner(strings.NewReader(p.stderr.String()))
	for sc.Scan() {
		var line map[string]any
		if json.Unmarshal(sc.Bytes(), &line) == nil && line["msg"] == "request" && line["route"] == "/t/{tenant}/token" &&
			line["trace_id"] == traceID && line["request_id"] != nil {
			found = true
		}
	}
	if !found {
		t.Errorf("no access-log line with trace_id %s:\n%s", traceID, p.stderr.String())
	}
	if code := p.terminate(t, gracefulExitLimit); code != 0 {
		t.Fatalf("exit %d\n%s", code, p.stderr.String())
	}
}

func spanNames(spans []*tracepb.Span) []string {
	var names []string
	for _, s := range spans {
		names = append(names, s.Name)
	}
	return names
}

// TestGracefulShutdownDrains sends SIGTERM while a request is in flight (a
// token request whose body is still arriving): /readyz turns 503 at once
// while other requests are still answered, the listener closes after
// HERALD_SHUTDOWN_DELAY, the slow request completes with its response,
// and the process exits 0. With a shutdown timeout shorter than the slow
// request, the connection is cut and the exit status is 1.
func TestGracefulShutdownDrains(t *testing.T) {
	bin := buildHerald(t)
	for _, tc := range []struct {
		name     string
		timeout  string
		finish   bool // the slow client sends the rest of its body
		wantExit int
	}{
		{"drains", "20s", true, 0},
		{"deadline", "1s", false, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := freeAddr(t)
			env := heraldEnv("HERALD_DATABASE_URL=sqlite:"+filepath.Join(t.TempDir(), "herald.db"),
				"HERALD_PUBLIC_URL=http://"+addr, "HERALD_SHUTDOWN_DELAY=1500ms", "HERALD_SHUTDOWN_TIMEOUT="+tc.timeout)
			p := startHerald(t, bin, env, addr, "--demo")
			demo := demoOutput(t, p)
			if r := readyz(t, p.base); r.status != http.StatusOK {
				t.Fatalf("/readyz before SIGTERM: %d %s", r.status, r.body)
			}

			// The slow request: headers and half of the body now.
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			u, _ := url.Parse(demo.Issuer)
			auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(
				url.QueryEscape(demo.ConfidentialClient.ClientID)+":"+url.QueryEscape(demo.ConfidentialClient.ClientSecret)))
			fmt.Fprintf(conn, "POST %s/token HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\n"+
				"Authorization: %s\r\nContent-Length: %d\r\n\r\n%s", u.Path, addr, auth, len("grant_type=client_credentials"),
				"grant_type=")
			time.Sleep(200 * time.Millisecond) // the server is reading the body

			sent := time.Now()
			if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			waitFor(t, time.Second, "/readyz 503 after SIGTERM", func() bool {
				r := readyz(t, p.base)
				return r.status == http.StatusServiceUnavailable && r.str("status") == "draining"
			})
			// Still serving during the delay.
			if resp, err := http.Get(p.base + "/healthz"); err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("/healthz during the drain delay: %v %v", resp, err)
			} else {
				resp.Body.Close()
			}
			// After the delay the listener is closed.
			waitFor(t, 5*time.Second, "listener closed after the delay", func() bool {
				c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
				if err == nil {
					c.Close()
					return false
				}
				return true
			})
			if d := time.Since(sent); d < 1400*time.Millisecond {
				t.Errorf("listener closed %s after SIGTERM, before HERALD_SHUTDOWN_DELAY", d)
			}
			select {
			case <-p.done:
				if tc.finish {
					t.Fatalf("exited (%d) with a request in flight\n%s", p.exitCode, p.stderr.String())
				}
			default:
			}

			if tc.finish {
				if _, err := io.WriteString(conn, "client_credentials"); err != nil {
					t.Fatalf("send the rest of the body: %v", err)
				}
				_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
				resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
				if err != nil {
					t.Fatalf("the in-flight request got no response: %v\n%s", err, p.stderr.String())
				}
				raw, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK || !strings.Contains(string(raw), "access_token") {
					t.Fatalf("in-flight token request: %d %s", resp.StatusCode, raw)
				}
			}
			select {
			case <-p.done:
			case <-time.After(15 * time.Second):
				t.Fatalf("serve did not exit\n%s", p.stderr.String())
			}
			if p.exitCode != tc.wantExit {
				t.Fatalf("exit %d, want %d\n%s", p.exitCode, tc.wantExit, p.stderr.String())
			}
		})
	}
}

// TestTelemetrySettingsChecked: the metrics listener is refused on the
// public port, and the tenant limit and shutdown durations are checked,
// each error naming its setting.
func TestTelemetrySettingsChecked(t *testing.T) {
	for _, tc := range []struct {
		name    string
		set     func(c *Config)
		setting string
	}{
		{"public port", func(c *Config) { c.MetricsAddr = "0.0.0.0:8080" }, "HERALD_METRICS_ADDR (--metrics-addr)"},
		{"not host:port", func(c *Config) { c.MetricsAddr = "9464" }, "HERALD_METRICS_ADDR (--metrics-addr)"},
		{"negative tenants", func(c *Config) { c.MetricsTenants = -1 }, "HERALD_METRICS_TENANTS (--metrics-tenants)"},
		{"negative delay", func(c *Config) { c.ShutdownDelay = -time.Second }, "HERALD_SHUTDOWN_DELAY (--shutdown-delay)"},
		{"zero timeout", func(c *Config) { c.ShutdownTimeout = 0 }, "HERALD_SHUTDOWN_TIMEOUT (--shutdown-timeout)"},
	} {
		c := defaultConfig()
		c.Addr = "127.0.0.1:8080"
		tc.set(c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.setting) {
			t.Errorf("%s: %v, want an error naming %s", tc.name, err, tc.setting)
		}
	}
	c := defaultConfig()
	c.Addr, c.MetricsAddr, c.ShutdownDelay = "127.0.0.1:8080", "127.0.0.1:9464", 0
	if err := c.Validate(); err != nil {
		t.Errorf("a metrics port of its own and no delay: %v", err)
	}
}

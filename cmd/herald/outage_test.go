package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// outageLimit bounds how long Herald may take to notice that Redis went
// away or came back (its Redis calls time out after 2s).
const outageLimit = 15 * time.Second

// TestRedisOutage runs the real binary on PostgreSQL and a private
// redis-server, kills Redis and checks that Herald degrades cleanly — 503
// with temporarily_unavailable, /readyz naming redis, no hang, no 500 — and
// recovers by itself once Redis is back on the same port.
func TestRedisOutage(t *testing.T) {
	bin := buildHerald(t)
	dbURL := testPostgresDatabase(t) // empty: serve --migrate migrates it
	port := freePort(t)
	rds := startPrivateRedis(t, port)
	addr := freeAddr(t)
	env := heraldEnv("HERALD_DATABASE_URL="+dbURL, "HERALD_REDIS_URL="+rds.url(),
		"HERALD_PUBLIC_URL=http://"+addr, "HERALD_LOG_LEVEL=warn", "HERALD_KEY_ENCRYPTION_KEY="+testKEK)

	h := startHerald(t, bin, env, addr, "--migrate", "--demo")
	demo := demoFromStdout(t, h)
	web := rpClient{issuer: demo.Issuer, id: demo.ConfidentialClient.ClientID,
		secret: demo.ConfidentialClient.ClientSecret, redirect: demo.ConfidentialClient.RedirectURI}
	if r := readyz(t, h.base); r.status != http.StatusOK {
		t.Fatalf("/readyz before the outage: %d %s", r.status, r.body)
	}
	code, ar := signIn(t, newBrowser(t, h.base), web, demo.User.Username, demo.User.Password, "openid")
	if r := exchange(t, web, code, ar); r.status != http.StatusOK {
		t.Fatalf("code exchange before the outage: %d %s", r.status, r.body)
	}

	rds.kill()

	var last jsonReply
	waitFor(t, outageLimit, "/readyz reporting redis down", func() bool {
		last = readyz(t, h.base)
		down, _ := last.json["down"].([]any)
		return last.status == http.StatusServiceUnavailable && slices.Contains(down, any("redis"))
	})
	if down, _ := last.json["down"].([]any); len(down) != 1 {
		t.Errorf("/readyz names %v as down, want only redis (PostgreSQL is up)", down)
	}

	// The authorization endpoint stores the request in Redis: it must fail
	// fast and cleanly (a 503 page, or temporarily_unavailable at the
	// client), never a 500 or a hang (the browser gives up after 30s).
	ar2 := newAuthRequest(t, web, "openid")
	p := newBrowser(t, h.base).get(ar2.url)
	switch p.status {
	case http.StatusServiceUnavailable:
	case http.StatusFound, http.StatusSeeOther:
		loc, _ := url.Parse(p.header.Get("Location"))
		if q := loc.Query(); !strings.HasPrefix(loc.String(), web.redirect+"?") || q.Get("error") != "temporarily_unavailable" || q.Get("state") != ar2.state {
			t.Errorf("authorize during the outage redirected to %s, want %s?error=temporarily_unavailable", loc, web.redirect)
		}
	default:
		t.Errorf("authorize during the outage: %d, want 503 or a temporarily_unavailable redirect:\n%s", p.status, p.body)
	}

	// The token endpoint looks the code up in Redis: 503
	// temporarily_unavailable (400 invalid_grant would mean it never asked).
	r := postAs(t, web, web.issuer+"/token", url.Values{
		"grant_type": {"authorization_code"}, "code": {"bogus-code"}, "redirect_uri": {web.redirect},
		"code_verifier": {strings.Repeat("v", 43)},
	})
	switch {
	case r.status == http.StatusServiceUnavailable && r.str("error") == "temporarily_unavailable":
	case r.status == http.StatusBadRequest && r.str("error") == "invalid_grant":
	default:
		t.Errorf("token endpoint during the outage: %d %s, want 503 temporarily_unavailable", r.status, r.body)
	}
	// Durable state is unaffected: client_credentials touches only PostgreSQL.
	if r := postAs(t, web, web.issuer+"/token", url.Values{"grant_type": {"client_credentials"}}); r.status != http.StatusOK {
		t.Errorf("client_credentials during the Redis outage: %d %s", r.status, r.body)
	}

	startPrivateRedis(t, port) // an empty Redis on the same address

	waitFor(t, outageLimit, "/readyz 200 after Redis came back", func() bool {
		return readyz(t, h.base).status == http.StatusOK
	})
	// Sessions died with Redis: a full login, with no Herald restart.
	code, ar = signIn(t, newBrowser(t, h.base), web, demo.User.Username, demo.User.Password, "openid")
	if r := exchange(t, web, code, ar); r.status != http.StatusOK {
		t.Fatalf("code exchange after Redis came back: %d %s", r.status, r.body)
	}
	if code := h.terminate(t, gracefulExitLimit); code != 0 {
		t.Fatalf("serve exited with %d after SIGTERM\nstderr: %s", code, h.stderr.String())
	}
	if strings.Contains(h.stderr.String(), "goroutine ") {
		t.Fatalf("a panic in the logs:\n%s", h.stderr.String())
	}
}

// demoFromStdout parses the demo line `serve --demo` prints first.
func demoFromStdout(t *testing.T, h *heraldProcess) demoCredentials {
	t.Helper()
	var line string
	waitFor(t, 10*time.Second, "the demo credentials line", func() bool {
		line, _, _ = strings.Cut(h.stdout.String(), "\n")
		return strings.HasPrefix(line, `{"demo"`)
	})
	var out struct {
		Demo demoCredentials `json:"demo"`
	}
	if err := json.Unmarshal([]byte(line), &out); err != nil {
		t.Fatalf("demo line %q: %v", line, err)
	}
	return out.Demo
}

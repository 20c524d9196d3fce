package main

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// gracefulExitLimit bounds how long serve may take to exit after SIGTERM
// with no request in flight.
const gracefulExitLimit = 10 * time.Second

// TestNoDataLostOnRestart runs the real binary on PostgreSQL + Redis, logs
// a user in through the login form, crashes the process (SIGKILL) and
// starts a new one: the SSO session, the refresh token, the registered
// client and the issued access token all survive, because nothing of them
// lived in the process. The second process then stops cleanly on SIGTERM.
func TestNoDataLostOnRestart(t *testing.T) {
	bin := buildHerald(t)
	const dbPassword = "pg-Secret-do-not-print-7"
	dbURL := withPassword(t, testPostgresDatabase(t), dbPassword)
	redisURL, prefix := testRedis(t)
	addr := freeAddr(t)
	kek := make([]byte, 32)
	_, _ = rand.Read(kek)
	env := heraldEnv(
		"HERALD_DATABASE_URL="+dbURL, "HERALD_REDIS_URL="+redisURL, "HERALD_REDIS_PREFIX="+prefix,
		"HERALD_PUBLIC_URL=http://"+addr, "HERALD_KEY_ENCRYPTION_KEY="+base64.StdEncoding.EncodeToString(kek),
		"HERALD_LOG_LEVEL=info")

	if out := mustRunHerald(t, bin, env, "", "migrate"); out["status"] != "migrated" {
		t.Fatalf("migrate printed %v", out)
	}
	mustRunHerald(t, bin, env, "", "tenant", "create", "--name", "acme")
	created := mustRunHerald(t, bin, env, "", "client", "create", "--tenant", "acme", "--id", "web",
		"--redirect-uri", "http://127.0.0.1:9/cb", "--first-party",
		"--grant", "authorization_code", "--grant", "refresh_token", "--grant", "client_credentials")
	web := rpClient{issuer: "http://" + addr + "/t/acme", id: "web", redirect: "http://127.0.0.1:9/cb"}
	web.secret, _ = created["client_secret"].(string)
	const alicePassword = "correct horse battery staple 42"
	mustRunHerald(t, bin, env, alicePassword+"\n", "user", "create", "--tenant", "acme", "--username", "alice", "--password-stdin")

	first := startHerald(t, bin, env, addr)
	b := newBrowser(t, first.base)
	code, ar := signIn(t, b, web, "alice", alicePassword, "openid profile offline_access")
	tok := exchange(t, web, code, ar)
	if tok.status != http.StatusOK || tok.str("access_token") == "" || tok.str("refresh_token") == "" {
		t.Fatalf("code exchange: %d %s", tok.status, tok.body)
	}
	if keys := redisKeys(t, redisClient(t, redisURL), prefix); len(keys) == 0 {
		t.Fatal("no key under the Redis prefix after a login: the session is not in Redis")
	}

	first.kill(t)
	second := startHerald(t, bin, env, addr)

	// SSO: the session cookie set by the first process is honoured by the
	// second: straight back to the client with a code, no login page.
	ar2 := newAuthRequest(t, web, "openid")
	p := b.get(ar2.url)
	if p.isLoginPage() {
		t.Fatal("after the restart the session cookie no longer signs the user in (login page shown)")
	}
	code2 := requireCode(t, p, web, ar2)
	if r := exchange(t, web, code2, ar2); r.status != http.StatusOK {
		t.Fatalf("code issued after the restart: %d %s", r.status, r.body)
	}

	// The refresh token issued before the crash still works.
	r := postAs(t, web, web.issuer+"/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.str("refresh_token")}})
	if r.status != http.StatusOK || r.str("access_token") == "" {
		t.Fatalf("refresh after the restart: %d %s", r.status, r.body)
	}
	// The registered client still authenticates.
	if r := postAs(t, web, web.issuer+"/token", url.Values{"grant_type": {"client_credentials"}}); r.status != http.StatusOK {
		t.Fatalf("client_credentials after the restart: %d %s", r.status, r.body)
	}
	// The access token issued before the crash is still active.
	in := postAs(t, web, web.issuer+"/introspect", url.Values{"token": {tok.str("access_token")}})
	if active, _ := in.json["active"].(bool); in.status != http.StatusOK || !active {
		t.Fatalf("introspection of the old access token after the restart: %d %s", in.status, in.body)
	}

	if code := second.terminate(t, gracefulExitLimit); code != 0 {
		t.Fatalf("serve exited with %d after SIGTERM, want 0\nstderr: %s", code, second.stderr.String())
	}
	// The database password never reaches the logs; the redacted form does.
	for _, p := range []*heraldProcess{first, second} {
		logs := p.stderr.String()
		if strings.Contains(logs, dbPassword) {
			t.Fatalf("the database password appears in the logs:\n%s", logs)
		}
		if !strings.Contains(logs, "postgres:xxxxx@") {
			t.Errorf("the start-up log does not show the redacted database URL:\n%s", logs)
		}
	}
}

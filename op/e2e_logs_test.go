package op_test

import (
	"bytes"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// lockedBuffer is an io.Writer safe for concurrent handlers.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestE2ESecretsNeverLogged runs the flows that handle every kind of secret
// — passwords (right and wrong), client secrets (right and wrong), codes
// (redeemed and replayed), access and refresh tokens (used, introspected,
// revoked) — with debug logging captured, and checks that none of them
// appears in the logs (checklist K1). Not parallel: it swaps the global
// slog handler.
func TestE2ESecretsNeverLogged(t *testing.T) {
	logs := &lockedBuffer{}
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { slog.SetDefault(prev) })

	e := newTestServer(t)
	b := e.newBrowser(t)

	// A failed login with a wrong password, then the real one.
	cfg := e.config(e.web, "openid", "profile", "offline_access")
	v := newPKCE()
	u, _ := authURL(cfg, v.challenge())
	p := b.get(u)
	const wrongPassword = "not-the-password-xyz-123"
	p = b.login(p, "alice", wrongPassword)
	if !p.isLoginPage() {
		t.Fatal("a wrong password did not show the login page again")
	}
	p = b.login(p, "alice", alicePassword)
	code := p.requireRedirectTo(t, cfg.RedirectURL).Get("code")
	tok, err := cfg.Exchange(e.ctx(t), code, v.verify())
	if err != nil {
		t.Fatal(err)
	}
	// Refresh, then replay the code (which revokes the grant), use a wrong
	// client secret, introspect, revoke.
	refreshed := e.refresh(t, e.web, tok.RefreshToken)
	refreshed.requireStatus(t, 200)
	e.exchangeRaw(t, e.web, code, e.web.redirect, v.verifier).requireError(t, 400, "invalid_grant")
	wrong := e.web
	wrong.secret = "wrong-secret-abcdefghijklmnopqrstuvwxyz"
	e.token(t, wrong, url.Values{"grant_type": {"client_credentials"}}).requireError(t, 401, "invalid_client")
	e.introspect(t, tok.AccessToken)
	e.postForm(t, e.issuer+"/revoke", &e.web, url.Values{"token": {tok.RefreshToken}}).requireStatus(t, 200)

	out := logs.String()
	if !strings.Contains(out, "login failed") || !strings.Contains(out, "replayed") {
		t.Fatalf("expected the flow's log lines to be captured; got:\n%s", out)
	}
	secrets := map[string]string{
		"password":               alicePassword,
		"wrong password":         wrongPassword,
		"client secret":          e.web.secret,
		"wrong client secret":    wrong.secret,
		"authorization code":     code,
		"code verifier":          v.verifier,
		"access token":           tok.AccessToken,
		"refresh token":          tok.RefreshToken,
		"refreshed access token": refreshed.str("access_token"),
		"ID token":               tok.Extra("id_token").(string),
	}
	for what, secret := range secrets {
		if secret == "" {
			t.Fatalf("%s is empty: the flow did not produce it", what)
		}
		if strings.Contains(out, secret) {
			t.Errorf("the logs contain the %s", what)
		}
	}
}

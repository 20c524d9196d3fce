package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

const loginPage = `<!DOCTYPE html><html><head><title>Sign in</title></head><body>
<form method="post" action="/t/bench/login">
  <input type="hidden" name="csrf_token" value="c5rf">
  <input type="hidden" name="auth_request_id" value="ar-1">
  <input type="text" name="username" autocomplete="username">
  <input type="password" name="password">
  <button type="submit">Sign in</button>
</form></body></html>`

func TestParseLoginForm(t *testing.T) {
	f, err := parseLoginForm([]byte(loginPage))
	if err != nil {
		t.Fatal(err)
	}
	if f.action != "/t/bench/login" || f.hidden.Get("csrf_token") != "c5rf" || f.hidden.Get("auth_request_id") != "ar-1" {
		t.Errorf("form = %+v", f)
	}
	for name, page := range map[string]string{
		"no form":          "<html><body><p>Sign-in expired</p></body></html>",
		"not a login form": `<form action="/consent"><input type="hidden" name="auth_request_id" value="x"><button name="decision" value="allow"></button></form>`,
		"password as text": `<form action="/login"><input name="username"><input name="password" type="text"></form>`,
	} {
		if _, err := parseLoginForm([]byte(page)); err == nil {
			t.Errorf("%s: parsed as a login form", name)
		}
	}
}

func TestAuthorizationCode(t *testing.T) {
	c := rpClient{issuer: "http://127.0.0.1:1/t/bench", id: "web", redirectURI: "https://rp.example/cb"}
	redirect := func(status int, q url.Values) *response {
		return &response{status: status, header: http.Header{"Location": {c.redirectURI + "?" + q.Encode()}}}
	}
	good := url.Values{"code": {"abc"}, "state": {"s1"}, "iss": {c.issuer}}
	tests := []struct {
		name    string
		resp    *response
		wantErr string
	}{
		{"ok", redirect(http.StatusSeeOther, good), ""},
		{"login page again", &response{status: 400, body: []byte("Invalid username or password")}, "HTTP 400"},
		{"refused", &response{status: 503, header: http.Header{"Retry-After": {"2"}}}, "HTTP 503"},
		{"error", redirect(302, url.Values{"error": {"access_denied"}, "state": {"s1"}, "iss": {c.issuer}}), "access_denied"},
		{"state", redirect(302, url.Values{"code": {"abc"}, "state": {"other"}, "iss": {c.issuer}}), "state"},
		{"iss", redirect(302, url.Values{"code": {"abc"}, "state": {"s1"}, "iss": {"http://evil"}}), "iss"},
		{"no code", redirect(302, url.Values{"state": {"s1"}, "iss": {c.issuer}}), "no code"},
		{"elsewhere", &response{status: 302, header: http.Header{"Location": {"https://evil.example/cb?code=abc"}}}, "not the client"},
	}
	for _, tt := range tests {
		code, err := authorizationCode(tt.resp, c, "s1")
		switch {
		case tt.wantErr == "" && (err != nil || code != "abc"):
			t.Errorf("%s: code %q, err %v", tt.name, code, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%s: err %v, want %q", tt.name, err, tt.wantErr)
		}
	}
	if o := failure(&stepError{step: "login", status: 503, refused: true}); !o.refused || o.kind != "HTTP 503 at login (Retry-After)" {
		t.Errorf("refusal outcome = %+v", o)
	}
}

func TestVerifyIDToken(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	jwks := &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}}
	c := rpClient{issuer: "http://127.0.0.1:1/t/bench", id: "web"}
	now := time.Unix(1_800_000_000, 0)
	sign := func(priv *ecdsa.PrivateKey, kid string, claims map[string]any) string {
		s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: priv, KeyID: kid}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		payload, _ := json.Marshal(claims)
		jws, err := s.Sign(payload)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := jws.CompactSerialize()
		return out
	}
	claims := func(change func(map[string]any)) map[string]any {
		m := map[string]any{"iss": c.issuer, "sub": "u1", "aud": "web", "exp": now.Unix() + 60, "nonce": "n1"}
		if change != nil {
			change(m)
		}
		return m
	}
	tests := []struct {
		name, token, wantErr string
	}{
		{"ok", sign(key, "k1", claims(nil)), ""},
		{"aud array", sign(key, "k1", claims(func(m map[string]any) { m["aud"] = []string{"api", "web"} })), ""},
		{"wrong key", sign(other, "k1", claims(nil)), "signature"},
		{"unknown kid", sign(key, "k2", claims(nil)), "signature"},
		{"iss", sign(key, "k1", claims(func(m map[string]any) { m["iss"] = "http://evil" })), "iss"},
		{"aud", sign(key, "k1", claims(func(m map[string]any) { m["aud"] = "other" })), "aud"},
		{"nonce", sign(key, "k1", claims(func(m map[string]any) { m["nonce"] = "n2" })), "nonce"},
		{"expired", sign(key, "k1", claims(func(m map[string]any) { m["exp"] = now.Unix() - 1 })), "expired"},
		{"no sub", sign(key, "k1", claims(func(m map[string]any) { delete(m, "sub") })), "sub"},
		{"missing", "", "no id_token"},
		{"garbage", "a.b.c", "parse"},
	}
	for _, tt := range tests {
		err := verifyIDToken(jwks, tt.token, c, "n1", now)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%s: err %v, want %q", tt.name, err, tt.wantErr)
		}
	}
}

func TestBodySample(t *testing.T) {
	page := `<!DOCTYPE html><html><head><title>Please try again</title><style>p{}</style></head>
<body><main><h1>Please try again</h1><p>The sign-in service is busy right now.</p></main></body></html>`
	tests := []struct{ body, want string }{
		{page, "page: Please try again / The sign-in service is busy right now."},
		{`{"error":"invalid_grant"}`, `{"error":"invalid_grant"}`},
		{"<html><body></body></html>", "<html><body></body></html>"},
	}
	for _, tt := range tests {
		if got := bodySample(tt.body); got != tt.want {
			t.Errorf("bodySample(%.30q) = %q, want %q", tt.body, got, tt.want)
		}
	}
}

func TestSignatureCount(t *testing.T) {
	tests := []struct {
		t    tokenSet
		want int
	}{
		{tokenSet{AccessToken: "h.p.s", IDToken: "h.p.s"}, 2},
		{tokenSet{AccessToken: "h.p.s"}, 1},
		{tokenSet{AccessToken: "opaque-token", IDToken: "h.p.s"}, 1},
	}
	for _, tt := range tests {
		if got := signatureCount(&tt.t); got != tt.want {
			t.Errorf("signatureCount(%+v) = %d, want %d", tt.t, got, tt.want)
		}
	}
}

func TestSelectWorkloadsAndOptions(t *testing.T) {
	tests := []struct {
		only    string
		want    string
		wantErr bool
	}{
		{"", strings.Join(allWorkloads, ","), false},
		{"W5,W3", "W3-RS256,W3-ES256,W3-EdDSA,W5", false},
		{"w3-es256, storm", "W3-ES256,storm", false},
		{"W6", "W6-JWT,W6-refresh", false},
		{"W7", "W7-userinfo,W7-introspect", false},
		{"W8", "", true},
		{"W3-", "", true},
	}
	for _, tt := range tests {
		got, err := selectWorkloads(tt.only)
		if (err != nil) != tt.wantErr || (!tt.wantErr && strings.Join(got, ",") != tt.want) {
			t.Errorf("selectWorkloads(%q) = %v, %v; want %s (error %v)", tt.only, got, err, tt.want, tt.wantErr)
		}
	}
	o, err := parseOptions([]string{"--duration", "2s", "--concurrency", "4", "--only", "W1", "--backends", "sqlite"}, io.Discard)
	if err != nil || o.duration != 2*time.Second || o.concurrency != 4 || strings.Join(o.backends, ",") != "sqlite" {
		t.Fatalf("options = %+v, %v", o, err)
	}
	for _, bad := range [][]string{
		{"--backends", "mysql"}, {"--backends", ""}, {"--concurrency", "0"}, {"--duration", "0s"}, {"extra"},
	} {
		if _, err := parseOptions(bad, io.Discard); err == nil {
			t.Errorf("parseOptions(%q) succeeded", bad)
		}
	}
}

func TestParsePprofShare(t *testing.T) {
	out := "File: herald\nType: cpu\nActive filters:\n   focus=argon2\\.\nShowing nodes accounting for 18.37s, 95.28% of 19.28s total\n      flat  flat%\n"
	if got, err := parsePprofShare(out); err != nil || got != 0.9528 {
		t.Errorf("share = %v, %v; want 0.9528", got, err)
	}
	for _, bad := range []string{"no samples", "Showing nodes accounting for 1s, 120% of 1s total"} {
		if _, err := parsePprofShare(bad); err == nil {
			t.Errorf("parsePprofShare(%q) succeeded", bad)
		}
	}
}

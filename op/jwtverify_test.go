package op_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/herald-idp/herald/keys"
	"github.com/herald-idp/herald/op/registry"
)

// TestE2EJWTAccessTokenVerifier tries to get a JWT access token past
// userinfo and introspection that Herald did not mint for this tenant as
// it is: tampered, re-signed under another algorithm with the tenant's own
// key, unsigned, with an unknown or missing kid, a crit header, another
// tenant's key, another issuer, expired. Each must be refused (401 /
// active:false), while the genuine token passes both.
func TestE2EJWTAccessTokenVerifier(t *testing.T) {
	e := newTestServer(t)
	ctx := t.Context()
	tok := e.tokens(t, e.newBrowser(t), e.web, oidc.ScopeOpenID, oidc.ScopeProfile)
	genuine := tok.AccessToken
	if st := e.userinfoStatus(t, genuine); st != http.StatusOK {
		t.Fatalf("genuine token at userinfo: %d", st)
	}
	e.requireActive(t, genuine, true)

	parts := strings.Split(genuine, ".")
	var header, claims map[string]any
	decodePart(t, parts[0], &header)
	decodePart(t, parts[1], &claims)

	acmeKey, err := e.reg.Keys.SigningKey(ctx, tenantAcme, keys.RS256)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.reg.CreateTenant(ctx, registry.TenantSpec{Name: "other", SigningAlgorithm: keys.ES256}); err != nil {
		t.Fatal(err)
	}
	otherKey, err := e.reg.Keys.SigningKey(ctx, "other", keys.ES256)
	if err != nil {
		t.Fatal(err)
	}
	sign := func(alg jose.SignatureAlgorithm, key any, hdr map[string]any, payload map[string]any) string {
		t.Helper()
		opts := &jose.SignerOptions{}
		for k, v := range hdr {
			if k != "alg" {
				opts = opts.WithHeader(jose.HeaderKey(k), v)
			}
		}
		s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(payload)
		jws, err := s.Sign(b)
		if err != nil {
			t.Fatal(err)
		}
		out, err := jws.CompactSerialize()
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	with := func(m map[string]any, k string, v any) map[string]any {
		c := map[string]any{}
		for kk, vv := range m {
			c[kk] = vv
		}
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}

	// Re-signing the genuine claims with the tenant's own key under the
	// genuine header passes: the cases below differ from it in one thing.
	if resigned := sign(jose.RS256, acmeKey.Private, header, claims); e.userinfoStatus(t, resigned) != http.StatusOK {
		t.Fatal("control: the genuine claims re-signed with the tenant's key were refused")
	}
	cases := map[string]string{
		"payload tampered":         parts[0] + "." + enc(with(claims, "sub", "someone-else")) + "." + parts[2],
		"signature of another":     parts[0] + "." + parts[1] + "." + strings.Split(sign(jose.RS256, acmeKey.Private, header, with(claims, "jti", "x")), ".")[2],
		"alg none":                 enc(with(header, "alg", "none")) + "." + parts[1] + ".",
		"PS256 with the RS256 key": sign(jose.PS256, acmeKey.Private, header, claims),
		"unknown kid":              sign(jose.RS256, acmeKey.Private, with(header, "kid", "nope"), claims),
		"no kid":                   sign(jose.RS256, acmeKey.Private, with(header, "kid", nil), claims),
		"crit header":              sign(jose.RS256, acmeKey.Private, with(header, "crit", []string{"exp"}), claims),
		"another tenant's key":     sign(jose.ES256, otherKey.Private, with(header, "kid", otherKey.ID), claims),
		"another issuer":           sign(jose.RS256, acmeKey.Private, header, with(claims, "iss", e.issuerOf("other"))),
		"expired":                  sign(jose.RS256, acmeKey.Private, header, with(claims, "exp", time.Now().Add(-time.Second).Unix())),
		"no exp":                   sign(jose.RS256, acmeKey.Private, header, with(claims, "exp", nil)),
		"four parts":               genuine + ".x",
		"padded signature":         genuine + "=",
	}
	for name, token := range cases {
		t.Run(name, func(t *testing.T) {
			if st := e.userinfoStatus(t, token); st != http.StatusUnauthorized {
				t.Errorf("userinfo: %d, want 401", st)
			}
			e.requireActive(t, token, false)
		})
	}
}

func decodePart(t *testing.T, part string, v any) {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(part)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

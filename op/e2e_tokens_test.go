package op_test

// Introspection (RFC 7662) and revocation (RFC 7009) of the tokens the
// code flow issues.

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
)

// scopeList reads the scope member of an introspection response, a
// space-separated string (RFC 7662 §2.2).
func scopeList(r *jsonResponse) []string { return strings.Fields(r.str("scope")) }

func TestE2EIntrospection(t *testing.T) {
	t.Parallel()
	e := newTestServer(t)
	b := e.newBrowser(t)
	jwtTok := e.tokens(t, b, e.web, oidc.ScopeOpenID, "email", oidc.ScopeOfflineAccess)
	opaqueTok := e.tokens(t, b, e.opaque, oidc.ScopeOpenID, oidc.ScopeOfflineAccess)

	for _, tc := range []struct {
		name, token, clientID string
	}{
		{"JWT access token", jwtTok.AccessToken, e.web.id},
		{"opaque access token", opaqueTok.AccessToken, e.opaque.id},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.requireActive(t, tc.token, true)
			expectAll(t, "introspection",
				field("sub", r.str("sub"), e.alice.ID),
				field("client_id", r.str("client_id"), tc.clientID),
				field("scope contains openid", slices.Contains(scopeList(r), "openid"), true))
			if r.header.Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", r.header.Get("Cache-Control"))
			}
		})
	}
	t.Run("opaque token is not a JWT", func(t *testing.T) {
		if strings.Count(opaqueTok.AccessToken, ".") == 2 {
			t.Fatalf("opaque client got a JWS access token")
		}
		if s := e.userinfoStatus(t, opaqueTok.AccessToken); s != http.StatusOK {
			t.Fatalf("userinfo with the opaque token: %d", s)
		}
	})
	t.Run("refresh token", func(t *testing.T) {
		r := e.requireActive(t, jwtTok.RefreshToken, true)
		expectAll(t, "introspection of a refresh token",
			field("token_type", r.str("token_type"), "refresh_token"),
			field("client_id", r.str("client_id"), e.web.id),
			field("sub", r.str("sub"), e.alice.ID))
	})
	t.Run("garbage", func(t *testing.T) {
		for _, tok := range []string{"garbage", "a.b.c", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", strings.Repeat("x", 4000)} {
			r := e.requireActive(t, tok, false)
			if len(r.json) != 1 {
				t.Errorf("inactive token response reveals more than active: %s (RFC 7662 §2.2)", r.body)
			}
		}
	})
	t.Run("client authentication required", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			c    *client
		}{
			{"none", nil},
			{"wrong secret", &client{id: e.web.id, secret: "wrong", method: e.web.method}},
			{"public client", &e.spa},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := e.postForm(t, e.issuer+"/introspect", tc.c, url.Values{"token": {jwtTok.AccessToken}})
				r.requireError(t, http.StatusUnauthorized, "invalid_client")
			})
		}
	})
}

func TestE2ERevocation(t *testing.T) {
	t.Parallel()
	e := newTestServer(t)
	b := e.newBrowser(t)
	revoke := func(t *testing.T, c client, token string) *jsonResponse {
		t.Helper()
		return e.postForm(t, e.issuer+"/revoke", &c, url.Values{"token": {token}})
	}

	t.Run("access token", func(t *testing.T) {
		tok := e.tokens(t, b, e.web, oidc.ScopeOpenID, oidc.ScopeOfflineAccess)
		if s := e.userinfoStatus(t, tok.AccessToken); s != http.StatusOK {
			t.Fatalf("userinfo before revocation: %d", s)
		}
		revoke(t, e.web, tok.AccessToken).requireStatus(t, http.StatusOK)
		e.requireActive(t, tok.AccessToken, false)
		if s := e.userinfoStatus(t, tok.AccessToken); s != http.StatusUnauthorized {
			t.Errorf("userinfo after revocation: %d, want 401", s)
		}
	})
	t.Run("refresh token revokes its grant", func(t *testing.T) {
		tok := e.tokens(t, b, e.web, oidc.ScopeOpenID, oidc.ScopeOfflineAccess)
		revoke(t, e.web, tok.RefreshToken).requireStatus(t, http.StatusOK)
		e.refresh(t, e.web, tok.RefreshToken).requireError(t, http.StatusBadRequest, "invalid_grant")
		e.requireActive(t, tok.AccessToken, false)
	})
	t.Run("opaque access token", func(t *testing.T) {
		tok := e.tokens(t, b, e.opaque, oidc.ScopeOpenID)
		revoke(t, e.opaque, tok.AccessToken).requireStatus(t, http.StatusOK)
		e.requireActive(t, tok.AccessToken, false)
	})
	t.Run("unknown token", func(t *testing.T) {
		revoke(t, e.web, "no-such-token").requireStatus(t, http.StatusOK)
	})
	t.Run("another client's tokens stay", func(t *testing.T) {
		// RFC 7009 §2.1: only the client the token was issued to may revoke it.
		tok := e.tokens(t, b, e.web, oidc.ScopeOpenID, oidc.ScopeOfflineAccess)
		revoke(t, e.opaque, tok.AccessToken)
		revoke(t, e.opaque, tok.RefreshToken)
		e.requireActive(t, tok.AccessToken, true)
		e.requireActive(t, tok.RefreshToken, true)
	})
	t.Run("client authentication required", func(t *testing.T) {
		tok := e.tokens(t, b, e.web, oidc.ScopeOpenID)
		bad := client{id: e.web.id, secret: "wrong", method: e.web.method}
		revoke(t, bad, tok.AccessToken).requireError(t, http.StatusUnauthorized, "invalid_client")
		e.requireActive(t, tok.AccessToken, true)
	})
}

package op_test

// Positive flows with real relying-party libraries: discovery, the code flow
// with PKCE and nonce, refresh, client_credentials.

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// discoveryDoc is the part of the discovery document the tests check.
type discoveryDoc struct {
	Issuer                        string   `json:"issuer"`
	AuthorizationEndpoint         string   `json:"authorization_endpoint"`
	TokenEndpoint                 string   `json:"token_endpoint"`
	UserinfoEndpoint              string   `json:"userinfo_endpoint"`
	JWKSURI                       string   `json:"jwks_uri"`
	IntrospectionEndpoint         string   `json:"introspection_endpoint"`
	RevocationEndpoint            string   `json:"revocation_endpoint"`
	EndSessionEndpoint            string   `json:"end_session_endpoint"`
	ScopesSupported               []string `json:"scopes_supported"`
	ResponseTypesSupported        []string `json:"response_types_supported"`
	GrantTypesSupported           []string `json:"grant_types_supported"`
	SubjectTypesSupported         []string `json:"subject_types_supported"`
	IDTokenAlgs                   []string `json:"id_token_signing_alg_values_supported"`
	CodeChallengeMethodsSupported []string `json:"code_challenge_methods_supported"`
	ISSParameterSupported         *bool    `json:"authorization_response_iss_parameter_supported"`
}

func (e *testEnv) provider(t *testing.T) (*oidc.Provider, *discoveryDoc) {
	t.Helper()
	p, err := oidc.NewProvider(e.ctx(t), e.issuer)
	if err != nil {
		t.Fatalf("oidc.NewProvider(%s): %v", e.issuer, err)
	}
	var doc discoveryDoc
	if err := p.Claims(&doc); err != nil {
		t.Fatalf("discovery claims: %v", err)
	}
	return p, &doc
}

// TestE2EDiscovery mirrors oidcc-discovery-endpoint-verification (G2, B5, G1).
func TestE2EDiscovery(t *testing.T) {
	t.Parallel()
	e := newTestServer(t)
	_, doc := e.provider(t)

	if doc.Issuer != e.issuer {
		t.Errorf("issuer = %q, want %q", doc.Issuer, e.issuer)
	}
	if !slices.Equal(doc.ResponseTypesSupported, []string{"code"}) {
		t.Errorf("response_types_supported = %v, want [code] only (A8)", doc.ResponseTypesSupported)
	}
	if !slices.Equal(doc.CodeChallengeMethodsSupported, []string{"S256"}) {
		t.Errorf("code_challenge_methods_supported = %v, want [S256] (B5)", doc.CodeChallengeMethodsSupported)
	}
	if doc.ISSParameterSupported == nil || !*doc.ISSParameterSupported {
		t.Errorf("authorization_response_iss_parameter_supported is not true (RFC 9207)")
	}
	for _, g := range []string{"authorization_code", "refresh_token", "client_credentials"} {
		if !slices.Contains(doc.GrantTypesSupported, g) {
			t.Errorf("grant_types_supported = %v lacks %s", doc.GrantTypesSupported, g)
		}
	}
	for _, g := range []string{"implicit", "password"} {
		if slices.Contains(doc.GrantTypesSupported, g) {
			t.Errorf("grant_types_supported advertises %s", g)
		}
	}
	if !slices.Contains(doc.ScopesSupported, "openid") {
		t.Errorf("scopes_supported = %v lacks openid", doc.ScopesSupported)
	}
	if !slices.Contains(doc.IDTokenAlgs, "RS256") {
		t.Errorf("id_token_signing_alg_values_supported = %v lacks RS256", doc.IDTokenAlgs)
	}
	if len(doc.SubjectTypesSupported) == 0 {
		t.Errorf("subject_types_supported is empty")
	}
	for name, u := range map[string]string{
		"authorization_endpoint": doc.AuthorizationEndpoint, "token_endpoint": doc.TokenEndpoint,
		"userinfo_endpoint": doc.UserinfoEndpoint, "jwks_uri": doc.JWKSURI,
		"introspection_endpoint": doc.IntrospectionEndpoint, "revocation_endpoint": doc.RevocationEndpoint,
		"end_session_endpoint": doc.EndSessionEndpoint,
	} {
		if !strings.HasPrefix(u, e.issuer+"/") {
			t.Errorf("%s = %q, not under the issuer %s", name, u, e.issuer)
		}
	}
}

// TestE2ECodeFlow mirrors oidcc-server / oidcc-ensure-request-with-valid-pkce-succeeds
// for a confidential and a public client.
func TestE2ECodeFlow(t *testing.T) {
	t.Parallel()
	e := newTestServer(t)
	provider, doc := e.provider(t)
	for _, c := range []client{e.web, e.spa} {
		t.Run(c.id, func(t *testing.T) {
			ctx := e.ctx(t)
			b := e.newBrowser(t)
			cfg := e.config(c, oidc.ScopeOpenID, "profile", "email")
			cfg.Endpoint.AuthURL, cfg.Endpoint.TokenURL = provider.Endpoint().AuthURL, provider.Endpoint().TokenURL
			nonce := oauth2.GenerateVerifier()
			v := newPKCE()
			before := time.Now().Add(-time.Second)
			code := e.signInCode(t, b, cfg, oidc.Nonce(nonce), v.challenge())
			tok, err := cfg.Exchange(ctx, code, v.verify())
			if err != nil {
				t.Fatalf("exchange: %v", err)
			}
			if tok.TokenType != "Bearer" || tok.Expiry.IsZero() {
				t.Errorf("token_type = %q, expiry = %v", tok.TokenType, tok.Expiry)
			}

			rawID, _ := tok.Extra("id_token").(string)
			idt, err := provider.Verifier(&oidc.Config{ClientID: c.id}).Verify(ctx, rawID)
			if err != nil {
				t.Fatalf("verify ID token: %v", err)
			}
			if idt.Nonce != nonce {
				t.Errorf("nonce = %q, want %q", idt.Nonce, nonce)
			}
			if idt.Subject != e.alice.ID {
				t.Errorf("sub = %q, want alice's id %q", idt.Subject, e.alice.ID)
			}
			if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
				t.Errorf("at_hash: %v", err)
			}
			var claims struct {
				AuthTime int64    `json:"auth_time"`
				AMR      []string `json:"amr"`
				SID      string   `json:"sid"`
				Email    string   `json:"email"`
			}
			if err := idt.Claims(&claims); err != nil {
				t.Fatal(err)
			}
			if at := time.Unix(claims.AuthTime, 0); claims.AuthTime == 0 || at.Before(before) || at.After(time.Now().Add(time.Second)) {
				t.Errorf("auth_time = %d, want the time of this login", claims.AuthTime)
			}
			if !slices.Contains(claims.AMR, "pwd") {
				t.Errorf("amr = %v, want pwd", claims.AMR)
			}
			if claims.SID == "" {
				t.Errorf("sid missing")
			}

			requireJWTAccessToken(t, e, doc.JWKSURI, tok.AccessToken, c.id)

			info, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
			if err != nil {
				t.Fatalf("userinfo: %v", err)
			}
			var profile struct {
				Name              string `json:"name"`
				PreferredUsername string `json:"preferred_username"`
			}
			_ = info.Claims(&profile)
			expectAll(t, "userinfo",
				field("sub", info.Subject, e.alice.ID),
				field("email", info.Email, "alice@example.com"),
				field("email_verified", info.EmailVerified, true),
				field("name", profile.Name, "Alice Liddell"),
				field("preferred_username", profile.PreferredUsername, "alice"))
		})
	}
}

// requireJWTAccessToken checks an RFC 9068 access token: typ at+jwt, a kid,
// a signature that verifies against the tenant's JWKS, and its claims.
func requireJWTAccessToken(t *testing.T, e *testEnv, jwksURI, token, clientID string) {
	t.Helper()
	jws, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA})
	if err != nil {
		t.Fatalf("access token is not a JWS: %v", err)
	}
	h := jws.Signatures[0].Protected
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != "at+jwt" {
		t.Errorf("access token typ = %q, want at+jwt (RFC 9068)", typ)
	}
	if h.KeyID == "" {
		t.Errorf("access token has no kid (F2)")
	}
	keySet := oidc.NewRemoteKeySet(e.ctx(t), jwksURI)
	if _, err := keySet.VerifySignature(e.ctx(t), token); err != nil {
		t.Fatalf("access token does not verify against the JWKS: %v", err)
	}
	var c struct {
		Iss      string `json:"iss"`
		Aud      any    `json:"aud"`
		ClientID string `json:"client_id"`
		Jti      string `json:"jti"`
		Exp      int64  `json:"exp"`
		Scope    any    `json:"scope"`
	}
	if err := json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &c); err != nil {
		t.Fatal(err)
	}
	expectAll(t, "access token claims",
		field("iss", c.Iss, e.issuer),
		field("client_id", c.ClientID, clientID),
		field("jti present", c.Jti != "", true),
		field("exp present", c.Exp != 0, true),
		field("aud present", c.Aud != nil, true))
}

// TestE2ERefresh covers E1-E3: refresh for a confidential client through
// oauth2's TokenSource, rotation and family revocation for a public client.
func TestE2ERefresh(t *testing.T) {
	t.Parallel()
	e := newTestServer(t)
	b := e.newBrowser(t)

	t.Run("confidential via TokenSource", func(t *testing.T) {
		cfg := e.config(e.web, oidc.ScopeOpenID, oidc.ScopeOfflineAccess)
		tok := e.tokens(t, b, e.web, oidc.ScopeOpenID, oidc.ScopeOfflineAccess)
		if tok.RefreshToken == "" {
			t.Fatal("no refresh token although offline_access was requested")
		}
		old := *tok
		tok.Expiry = time.Now().Add(-time.Minute) // force a refresh
		fresh, err := cfg.TokenSource(e.ctx(t), tok).Token()
		if err != nil {
			t.Fatalf("refresh: %v", err)
		}
		requireAll(t, "refresh",
			field("access token present", fresh.AccessToken != "", true),
			field("access token differs from the old one", fresh.AccessToken != old.AccessToken, true))
		e.requireActive(t, fresh.AccessToken, true)
		// A confidential client's refresh token keeps working.
		e.refresh(t, e.web, fresh.RefreshToken).requireStatus(t, http.StatusOK)
	})

	t.Run("no refresh token without offline_access", func(t *testing.T) {
		tok := e.tokens(t, b, e.web, oidc.ScopeOpenID)
		if tok.RefreshToken != "" {
			t.Fatal("refresh token issued without offline_access (OIDC Core §11)")
		}
	})

	t.Run("bound to client", func(t *testing.T) {
		tok := e.tokens(t, b, e.web, oidc.ScopeOpenID, oidc.ScopeOfflineAccess)
		e.refresh(t, e.opaque, tok.RefreshToken).requireError(t, http.StatusBadRequest, "invalid_grant")
	})

	t.Run("scope cannot grow", func(t *testing.T) {
		tok := e.tokens(t, b, e.web, oidc.ScopeOpenID, oidc.ScopeOfflineAccess)
		r := e.token(t, e.web, map[string][]string{"grant_type": {"refresh_token"},
			"refresh_token": {tok.RefreshToken}, "scope": {"openid offline_access email"}})
		r.requireError(t, http.StatusBadRequest, "invalid_scope")
	})

	t.Run("concurrent rotation: exactly one wins", func(t *testing.T) {
		tok := e.tokens(t, b, e.spa, oidc.ScopeOpenID, oidc.ScopeOfflineAccess)
		const n = 6
		statuses := make([]int, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { statuses[i] = e.refresh(t, e.spa, tok.RefreshToken).status })
		}
		wg.Wait()
		if ok := slices.Index(statuses, http.StatusOK); ok < 0 || slices.Index(statuses[ok+1:], http.StatusOK) >= 0 {
			t.Fatalf("statuses %v: want exactly one 200", statuses)
		}
		for _, s := range statuses {
			if s != http.StatusOK && s != http.StatusBadRequest {
				t.Fatalf("statuses %v: want 200 or 400 only", statuses)
			}
		}
	})
	t.Run("public rotation and family revocation", func(t *testing.T) {
		tok := e.tokens(t, b, e.spa, oidc.ScopeOpenID, oidc.ScopeOfflineAccess)
		rt1 := tok.RefreshToken
		if rt1 == "" {
			t.Fatal("no refresh token for the public client")
		}
		r := e.refresh(t, e.spa, rt1)
		r.requireStatus(t, http.StatusOK)
		rt2, at2 := r.str("refresh_token"), r.str("access_token")
		requireAll(t, "refresh token rotation",
			field("new refresh token present", rt2 != "", true),
			field("new refresh token differs from the old one", rt2 != rt1, true))
		e.requireActive(t, at2, true)
		// Reuse of the spent token: rejected, and the whole family goes.
		e.refresh(t, e.spa, rt1).requireError(t, http.StatusBadRequest, "invalid_grant")
		e.refresh(t, e.spa, rt2).requireError(t, http.StatusBadRequest, "invalid_grant")
		e.requireActive(t, at2, false)
		e.requireActive(t, tok.AccessToken, false)
	})
}

// TestE2EClientCredentials: a token for the client itself, with nothing
// user-bound in it.
func TestE2EClientCredentials(t *testing.T) {
	t.Parallel()
	e := newTestServer(t)
	cc := &clientcredentials.Config{
		ClientID: e.web.id, ClientSecret: e.web.secret, TokenURL: e.issuer + "/token",
		AuthStyle: oauth2.AuthStyleInHeader,
	}
	tok, err := cc.Token(e.ctx(t))
	if err != nil {
		t.Fatalf("client_credentials: %v", err)
	}
	if tok.AccessToken == "" {
		t.Fatal("no access token")
	}
	if tok.Extra("id_token") != nil {
		t.Errorf("client_credentials returned an ID token")
	}
	if tok.RefreshToken != "" {
		t.Errorf("client_credentials returned a refresh token")
	}
	r := e.requireActive(t, tok.AccessToken, true)
	if r.str("client_id") != e.web.id {
		t.Errorf("introspection client_id = %q", r.str("client_id"))
	}
	if s := e.userinfoStatus(t, tok.AccessToken); s != http.StatusUnauthorized {
		t.Errorf("userinfo with a client token: %d, want 401", s)
	}

	t.Run("user scopes refused", func(t *testing.T) {
		r := e.token(t, e.web, map[string][]string{"grant_type": {"client_credentials"}, "scope": {"openid"}})
		r.requireError(t, http.StatusBadRequest, "invalid_scope")
	})
	t.Run("client not registered for the grant", func(t *testing.T) {
		r := e.token(t, e.third, map[string][]string{"grant_type": {"client_credentials"}})
		r.requireError(t, http.StatusBadRequest, "unauthorized_client")
	})
}

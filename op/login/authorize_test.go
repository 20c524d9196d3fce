package login

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/herald-idp/herald/storage"
)

// fakeProvider answers the few Provider questions parseAuthRequest asks.
// Unit tests of pure logic only; the real adapter is exercised end to end
// by op's tests.
type fakeProvider struct {
	Provider // nil: a method the test did not expect panics
	scopes   []string
	hintSub  string
	hintErr  error
}

func (f fakeProvider) Tenant(context.Context) Tenant {
	return Tenant{Tenant: &storage.Tenant{Name: "acme"}, Issuer: "https://id.example/t/acme", CookiePath: "/t/acme/"}
}

func (f fakeProvider) ScopeAllowed(_ *storage.Client, scope string) bool {
	for _, s := range f.scopes {
		if s == scope {
			return true
		}
	}
	return false
}

func (f fakeProvider) IDTokenHintSubject(context.Context, string) (string, error) {
	return f.hintSub, f.hintErr
}

func TestRedirectURIRegistered(t *testing.T) {
	web := &storage.Client{ApplicationType: storage.AppTypeWeb,
		RedirectURIs: []string{"https://rp.example/cb", "https://rp.example/cb?x=1"}}
	native := &storage.Client{ApplicationType: storage.AppTypeNative,
		RedirectURIs: []string{"http://127.0.0.1/cb", "http://[::1]/cb", "com.example.app:/cb"}}
	for _, tc := range []struct {
		name string
		c    *storage.Client
		uri  string
		want bool
	}{
		{"exact match", web, "https://rp.example/cb", true},
		{"exact match with query", web, "https://rp.example/cb?x=1", true},
		{"empty", web, "", false},
		{"trailing slash", web, "https://rp.example/cb/", false},
		{"case differs", web, "https://RP.example/cb", false},
		{"extra query", web, "https://rp.example/cb?x=2", false},
		{"fragment", web, "https://rp.example/cb#frag", false},
		{"http instead of https", web, "http://rp.example/cb", false},
		{"web client gets no port latitude", web, "https://rp.example:8443/cb", false},
		{"native loopback any port (RFC 8252 §7.3)", native, "http://127.0.0.1:51234/cb", true},
		{"native IPv6 loopback any port", native, "http://[::1]:40000/cb", true},
		{"native loopback other path", native, "http://127.0.0.1:51234/other", false},
		{"native loopback with query", native, "http://127.0.0.1:51234/cb?x=1", false},
		{"native localhost name is not loopback IP", native, "http://localhost:51234/cb", false},
		{"native loopback https", native, "https://127.0.0.1:51234/cb", false},
		{"native loopback userinfo", native, "http://evil@127.0.0.1:51234/cb", false},
		{"native loopback fragment", native, "http://127.0.0.1:51234/cb#x", false},
		{"native loopback lowest port", native, "http://127.0.0.1:1/cb", true},
		{"native loopback highest port", native, "http://127.0.0.1:65535/cb", true},
		{"native loopback without port", native, "http://127.0.0.1/cb", true},
		{"native loopback port 0", native, "http://127.0.0.1:0/cb", false},
		{"native loopback port 65536", native, "http://127.0.0.1:65536/cb", false},
		{"native loopback port 99999", native, "http://127.0.0.1:99999/cb", false},
		{"native IPv6 loopback port 0", native, "http://[::1]:0/cb", false},
		{"native IPv6 loopback port 99999", native, "http://[::1]:99999/cb", false},
		{"native loopback empty port", native, "http://127.0.0.1:/cb", false},
		{"native loopback leading zero", native, "http://127.0.0.1:08080/cb", false},
		{"native loopback port with sign", native, "http://127.0.0.1:+80/cb", false},
		{"native loopback huge port", native, "http://127.0.0.1:99999999999999999999/cb", false},
		{"native private-use scheme exact", native, "com.example.app:/cb", true},
		{"native other host", native, "http://127.0.0.2:51234/cb", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := redirectURIRegistered(tc.c, tc.uri); got != tc.want {
				t.Errorf("redirectURIRegistered(%q) = %v, want %v", tc.uri, got, tc.want)
			}
		})
	}
}

func TestCheckParams(t *testing.T) {
	for _, tc := range []struct {
		name    string
		form    url.Values
		wantBad string // substring of the page message, "" for accepted
	}{
		{"ordinary", url.Values{"client_id": {"web"}, "scope": {"openid"}}, ""},
		{"repeated client_id", url.Values{"client_id": {"a", "b"}}, "client_id was sent more than once"},
		{"repeated state", url.Values{"state": {"a", "b"}}, "state was sent more than once"},
		{"long scope", url.Values{"scope": {strings.Repeat("a", maxParamLength+1)}}, "scope is too long"},
		{"longest allowed", url.Values{"nonce": {strings.Repeat("a", paramLimit("nonce"))}}, ""},
		{"long state", url.Values{"state": {strings.Repeat("a", paramLimit("state")+1)}}, "state is too long"},
		{"repeated request_uri", url.Values{"request_uri": {"https://a.example/r", "https://a.example/r"}}, "request_uri was sent more than once"},
		{"repeated acr_values", url.Values{"acr_values": {"1", "2"}}, "acr_values was sent more than once"},
		{"unknown parameter may repeat", url.Values{"x": {"1", "2"}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, bad := checkParams(tc.form)
			if bad != (tc.wantBad != "") {
				t.Fatalf("bad = %v, want %v (%+v)", bad, tc.wantBad != "", e)
			}
			if bad && !strings.Contains(e.message, tc.wantBad) {
				t.Errorf("message %q, want it to contain %q", e.message, tc.wantBad)
			}
		})
	}
}

func TestParseMaxAge(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     int64 // -1: absent
		wantErr  bool
	}{
		{"absent", "", -1, false},
		{"zero", "0", 0, false},
		{"an hour", "3600", 3600, false},
		{"huge", "9223372036854775807", 9223372036854775807, false},
		{"overflow", "9223372036854775808", 0, true},
		{"negative", "-1", 0, true},
		{"not a number", "1h", 0, true},
		{"plus sign", "+5", 5, false},
		{"space", " 5", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, e := parseMaxAge(tc.in)
			if (e != nil) != tc.wantErr {
				t.Fatalf("error = %v, want error %v", e, tc.wantErr)
			}
			if tc.wantErr {
				if e.code != codeInvalidRequest {
					t.Errorf("code %q, want invalid_request", e.code)
				}
				return
			}
			switch {
			case tc.want < 0 && got != nil:
				t.Errorf("got %d, want absent", *got)
			case tc.want >= 0 && (got == nil || *got != tc.want):
				t.Errorf("got %v, want %d", got, tc.want)
			}
		})
	}
}

func TestParsePrompt(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []string
		wantErr  bool
	}{
		{"absent", "", nil, false},
		{"none", "none", []string{"none"}, false},
		{"login consent", "login consent", []string{"login", "consent"}, false},
		{"select_account", "select_account", []string{"select_account"}, false},
		{"none with login", "none login", nil, true},
		{"unknown value", "create", nil, true},
		{"case matters", "Login", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, e := parsePrompt(tc.in)
			if (e != nil) != tc.wantErr {
				t.Fatalf("error = %v, want error %v", e, tc.wantErr)
			}
			if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestCheckPKCE(t *testing.T) {
	good := strings.Repeat("a", 43)
	for _, tc := range []struct {
		name              string
		challenge, method string
		public            bool
		wantDesc          string // "" for accepted
	}{
		{"S256 public", good, "S256", true, ""},
		{"S256 confidential", good, "S256", false, ""},
		{"none confidential", "", "", false, ""},
		{"none public", "", "", true, "PKCE is required"},
		{"method without challenge", "", "S256", false, "code_challenge_method without code_challenge"},
		{"plain", good, "plain", false, "must be S256"},
		{"absent method means plain", good, "", true, "must be S256"},
		{"short challenge", good[:42], "S256", true, "43 base64url characters"},
		{"long challenge", good + "a", "S256", true, "43 base64url characters"},
		{"padding", good[:42] + "=", "S256", true, "43 base64url characters"},
		{"standard base64 alphabet", good[:42] + "+", "S256", true, "43 base64url characters"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := checkPKCE(tc.challenge, tc.method, tc.public)
			if tc.wantDesc == "" {
				if e != nil {
					t.Fatalf("refused: %+v", e)
				}
				return
			}
			if e == nil || e.code != codeInvalidRequest || !strings.Contains(e.description, tc.wantDesc) {
				t.Fatalf("got %+v, want invalid_request containing %q", e, tc.wantDesc)
			}
		})
	}
}

func TestParseAuthRequest(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	h := &Handler{p: fakeProvider{scopes: []string{"openid", "profile"}, hintSub: "user-1"},
		now: func() time.Time { return now }, arLifetime: 15 * time.Minute}
	client := &storage.Client{ID: "web", AuthMethod: storage.AuthMethodBasic, GrantTypes: []string{grantAuthorizationCode}}
	noCodeGrant := &storage.Client{ID: "m2m", AuthMethod: storage.AuthMethodBasic, GrantTypes: []string{"client_credentials"}}
	public := &storage.Client{ID: "spa", AuthMethod: storage.AuthMethodNone, GrantTypes: []string{grantAuthorizationCode}}
	base := url.Values{"response_type": {"code"}, "scope": {"openid profile openid"}, "redirect_uri": {"https://rp/cb"},
		"state": {"st"}, "nonce": {"n"}, "login_hint": {"alice"}}
	with := func(k, v string) url.Values {
		f := url.Values{}
		for key, vs := range base {
			f[key] = append([]string(nil), vs...)
		}
		if v == "" {
			f.Del(k)
		} else {
			f.Set(k, v)
		}
		return f
	}
	for _, tc := range []struct {
		name     string
		form     url.Values
		client   *storage.Client
		hintErr  error
		wantCode string // "" for success
	}{
		{"minimal", base, client, nil, ""},
		{"request object", with("request", "eyJ..."), client, nil, codeRequestNotSupported},
		{"request_uri", with("request_uri", "https://x"), client, nil, codeRequestURINotSupported},
		{"token response type", with("response_type", "token"), client, nil, codeUnsupportedResponseType},
		{"no response type", with("response_type", ""), client, nil, codeUnsupportedResponseType},
		{"fragment response mode", with("response_mode", "fragment"), client, nil, codeInvalidRequest},
		{"query response mode", with("response_mode", "query"), client, nil, ""},
		{"client without code grant", base, noCodeGrant, nil, codeUnauthorizedClient},
		{"scope not allowed", with("scope", "openid admin"), client, nil, codeInvalidScope},
		{"no scope", with("scope", ""), client, nil, codeInvalidScope},
		{"public client without PKCE", base, public, nil, codeInvalidRequest},
		{"bad prompt", with("prompt", "none login"), client, nil, codeInvalidRequest},
		{"bad max_age", with("max_age", "-5"), client, nil, codeInvalidRequest},
		{"valid id_token_hint", with("id_token_hint", "hint"), client, nil, ""},
		{"invalid id_token_hint", with("id_token_hint", "hint"), client, errors.New("bad signature"), codeInvalidRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hh := *h
			fp := h.p.(fakeProvider)
			fp.hintErr = tc.hintErr
			hh.p = fp
			ar, e := hh.parseAuthRequest(context.Background(), tc.form, tc.client)
			if tc.wantCode != "" {
				if e == nil || e.code != tc.wantCode {
					t.Fatalf("got %+v, want error %s", e, tc.wantCode)
				}
				return
			}
			if e != nil {
				t.Fatalf("refused: %+v", e)
			}
			if ar.TenantID != "acme" {
				t.Errorf("TenantID %q", ar.TenantID)
			}
			if ar.ClientID != tc.client.ID {
				t.Errorf("ClientID %q", ar.ClientID)
			}
			if strings.Join(ar.Scopes, " ") != "openid profile" {
				t.Errorf("Scopes %q: want duplicates dropped, order kept", ar.Scopes)
			}
			for _, f := range []struct{ name, got, want string }{
				{"State", ar.State, "st"},
				{"Nonce", ar.Nonce, "n"},
				{"LoginHint", ar.LoginHint, "alice"},
				{"RedirectURI", ar.RedirectURI, "https://rp/cb"},
			} {
				if f.got != f.want {
					t.Errorf("%s = %q, want %q (carried from the request)", f.name, f.got, f.want)
				}
			}
			if len(ar.ID) < 20 {
				t.Errorf("ID %q is too short to be unguessable", ar.ID)
			}
			if !ar.ExpiresAt.Equal(now.Add(15 * time.Minute)) {
				t.Errorf("ExpiresAt %s", ar.ExpiresAt)
			}
			wantHint := ""
			if tc.form.Get("id_token_hint") != "" {
				wantHint = "user-1"
			}
			if ar.HintSubject != wantHint {
				t.Errorf("HintSubject %q, want %q", ar.HintSubject, wantHint)
			}
		})
	}
}

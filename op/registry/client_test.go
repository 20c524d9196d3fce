package registry

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/herald-idp/herald/storage"
)

func TestRedirectURIRules(t *testing.T) {
	for _, tc := range []struct {
		uri    string
		native bool
		ok     bool
	}{
		{"https://app.example.com/callback", false, true},
		{"https://app.example.com:8443/cb?x=1", false, true},
		{"http://127.0.0.1:9999/callback", false, true},
		{"http://[::1]:9999/callback", false, true},
		{"http://localhost:9999/callback", false, true},
		{"http://localhost/callback", false, true},
		{"com.example.app:/oauth2redirect", true, true},
		{"com.example.app://callback", true, true},
		{"http://127.0.0.1/callback", true, true},
		{"", false, false},
		{"/callback", false, false},
		{"app.example.com/callback", false, false},
		{"https://app.example.com/cb#frag", false, false},
		{"https://app.example.com/cb#", false, false},
		{"https://user@app.example.com/cb", false, false},
		{"https://user:pw@app.example.com/cb", false, false},
		{"https://*.example.com/cb", false, false},
		{"https://app.example.com/*", false, false},
		{"http://app.example.com/cb", false, false},
		{"http://127.0.0.2/cb", false, false},
		{"http://localhost.evil.com/cb", false, false},
		{"javascript:alert(1)", false, false},
		{"JavaScript:alert(1)", true, false},
		{"data:text/html,hi", true, false},
		{"file:///etc/passwd", true, false},
		{"vbscript:msgbox", true, false},
		{"com.example.app:/cb", false, false}, // custom scheme: native only
		{"myapp:/cb", true, false},            // private-use scheme needs a dot
		{"https://app.example.com/c b", false, false},
		{"https://app.example.com/cb\n", false, false},
		{"https://app.example.com\\@evil.com/", false, false},
		{"https://äpp.example.com/cb", false, false},
		{"https:app.example.com", false, false},
		{"https:///cb", false, false},
		{"https://app.example.com:0/cb", false, false},
		{"https://app.example.com:70000/cb", false, false},
		{"https://app.example.com:/cb", false, false},
		{"https://app.example.com/" + strings.Repeat("a", 2000), false, false},
		{"https://[::1/cb", false, false},
	} {
		msg := redirectURIProblem(tc.uri, tc.native)
		if (msg == "") != tc.ok {
			t.Errorf("redirectURIProblem(%q, native=%v) = %q, want ok=%v", tc.uri, tc.native, msg, tc.ok)
		}
	}
}

func TestCORSOriginRules(t *testing.T) {
	for _, tc := range []struct {
		origin string
		ok     bool
	}{
		{"https://app.example.com", true},
		{"https://app.example.com:8443", true},
		{"http://localhost:5173", true},
		{"http://127.0.0.1:5173", true},
		{"http://[::1]:5173", true},
		{"", false},
		{"https://app.example.com/", false},
		{"https://app.example.com/path", false},
		{"https://app.example.com?", false},
		{"https://app.example.com?x=1", false},
		{"https://app.example.com#x", false},
		{"https://user@app.example.com", false},
		{"https://App.Example.com", false},
		{"https://app.example.com:443", false},
		{"http://localhost:80", false},
		{"http://app.example.com", false},
		{"https://*.example.com", false},
		{"*", false},
		{"null", false},
		{"app.example.com", false},
		{"ftp://app.example.com", false},
		{"https://app.example.com:99999", false},
	} {
		msg := corsOriginProblem(tc.origin)
		if (msg == "") != tc.ok {
			t.Errorf("corsOriginProblem(%q) = %q, want ok=%v", tc.origin, msg, tc.ok)
		}
	}
}

func TestCreateClientValidation(t *testing.T) {
	r := newTenant(t) // shared: valid cases use distinct IDs
	web := []string{"https://app.example.com/cb"}
	for _, tc := range []struct {
		name      string
		spec      ClientSpec
		wantField string
	}{
		{"confidential defaults", ClientSpec{RedirectURIs: web}, ""},
		{"given ID", ClientSpec{ID: "my.app_1-x", RedirectURIs: web}, ""},
		{"client_secret_post", ClientSpec{AuthMethod: "client_secret_post", RedirectURIs: web}, ""},
		{"public SPA", ClientSpec{Public: true, RedirectURIs: web, CORSOrigins: []string{"https://app.example.com"}}, ""},
		{"native custom scheme", ClientSpec{Native: true, RedirectURIs: []string{"com.example.app:/cb"}}, ""},
		{"client_credentials only", ClientSpec{GrantTypes: []string{"client_credentials"}}, ""},
		{"all grants", ClientSpec{GrantTypes: []string{"authorization_code", "refresh_token", "client_credentials"}, RedirectURIs: web}, ""},
		{"opaque tokens", ClientSpec{AccessTokenFormat: "opaque", RedirectURIs: web}, ""},
		{"scopes", ClientSpec{Scopes: []string{"openid", "email"}, RedirectURIs: web}, ""},
		{"API scopes", ClientSpec{Scopes: []string{"openid", "orders:read", "herald:admin"}, GrantTypes: []string{"authorization_code", "client_credentials"}, RedirectURIs: web}, ""},
		{"lifetimes", ClientSpec{AccessTokenLifetime: time.Minute, IDTokenLifetime: time.Minute, RefreshTokenLifetime: time.Hour, RedirectURIs: web}, ""},
		{"post-logout URI", ClientSpec{RedirectURIs: web, PostLogoutRedirectURIs: []string{"https://app.example.com/"}}, ""},

		{"short ID", ClientSpec{ID: "ab", RedirectURIs: web}, "id"},
		{"long ID", ClientSpec{ID: strings.Repeat("a", 65), RedirectURIs: web}, "id"},
		{"ID with space", ClientSpec{ID: "my app", RedirectURIs: web}, "id"},
		{"ID with colon", ClientSpec{ID: "my:app", RedirectURIs: web}, "id"},
		{"name with control char", ClientSpec{Name: "a\nb", RedirectURIs: web}, "name"},
		{"unknown auth method", ClientSpec{AuthMethod: "private_key_jwt", RedirectURIs: web}, "auth_method"},
		{"confidential with none", ClientSpec{AuthMethod: "none", RedirectURIs: web}, "auth_method"},
		{"public with basic", ClientSpec{Public: true, AuthMethod: "client_secret_basic", RedirectURIs: web}, "auth_method"},
		{"unknown grant", ClientSpec{GrantTypes: []string{"password"}, RedirectURIs: web}, "grant_types"},
		{"implicit grant", ClientSpec{GrantTypes: []string{"implicit"}, RedirectURIs: web}, "grant_types"},
		{"public client_credentials", ClientSpec{Public: true, GrantTypes: []string{"authorization_code", "client_credentials"}, RedirectURIs: web}, "grant_types"},
		{"refresh without code", ClientSpec{GrantTypes: []string{"refresh_token", "client_credentials"}}, "grant_types"},
		{"code without redirect", ClientSpec{}, "redirect_uris"},
		{"bad redirect", ClientSpec{RedirectURIs: []string{"http://app.example.com/cb"}}, "redirect_uris"},
		{"custom scheme for web", ClientSpec{RedirectURIs: []string{"com.example.app:/cb"}}, "redirect_uris"},
		{"bad post-logout URI", ClientSpec{RedirectURIs: web, PostLogoutRedirectURIs: []string{"https://app.example.com/#x"}}, "post_logout_redirect_uris"},
		{"javascript post-logout", ClientSpec{RedirectURIs: web, PostLogoutRedirectURIs: []string{"javascript:alert(1)"}}, "post_logout_redirect_uris"},
		{"bad CORS origin", ClientSpec{Public: true, RedirectURIs: web, CORSOrigins: []string{"https://app.example.com/"}}, "cors_origins"},
		{"invalid scope token", ClientSpec{Scopes: []string{"a b\"c"}, RedirectURIs: web}, "scopes"},
		{"bad token format", ClientSpec{AccessTokenFormat: "paseto", RedirectURIs: web}, "access_token_format"},
		{"negative access lifetime", ClientSpec{AccessTokenLifetime: -time.Second, RedirectURIs: web}, "access_token_lifetime"},
		{"negative ID lifetime", ClientSpec{IDTokenLifetime: -time.Second, RedirectURIs: web}, "id_token_lifetime"},
		{"negative refresh lifetime", ClientSpec{RefreshTokenLifetime: -time.Second, RedirectURIs: web}, "refresh_token_lifetime"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := r.Store.Clients().ListClients(t.Context(), "acme")
			c, secret, err := r.CreateClient(t.Context(), "acme", tc.spec)
			wantFieldError(t, err, tc.wantField)
			if tc.wantField != "" {
				if after, _ := r.Store.Clients().ListClients(t.Context(), "acme"); len(after) != len(before) {
					t.Fatal("invalid spec stored a client")
				}
				return
			}
			stored, err := r.Store.Clients().Client(t.Context(), "acme", c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if stored.IsPublic() != (tc.spec.Public || tc.spec.Native) {
				t.Fatalf("public = %v, spec %+v", stored.IsPublic(), tc.spec)
			}
			if stored.IsPublic() {
				if secret != "" || stored.SecretHash != "" {
					t.Fatalf("public client got a secret")
				}
			} else if len(secret) < 43 || !VerifyClientSecret(secret, stored.SecretHash) || strings.Contains(stored.SecretHash, secret) {
				t.Fatalf("secret %q does not match the stored hash", secret)
			}
		})
	}
}

func TestCreateClientDefaults(t *testing.T) {
	r := newTenant(t)
	ctx := t.Context()
	conf, _, err := r.CreateClient(ctx, "acme", ClientSpec{RedirectURIs: []string{"https://a.example.com/cb", "https://a.example.com/cb"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(conf.ID) != 32 || conf.Name != conf.ID || conf.AuthMethod != storage.AuthMethodBasic ||
		conf.ApplicationType != storage.AppTypeWeb || conf.AccessTokenFormat != storage.AccessTokenJWT ||
		!slices.Equal(conf.GrantTypes, []string{"authorization_code", "refresh_token"}) ||
		len(conf.RedirectURIs) != 1 || conf.TenantID != "acme" || !conf.CreatedAt.Equal(testNow) {
		t.Fatalf("confidential defaults: %+v", conf)
	}
	spa, _, err := r.CreateClient(ctx, "acme", ClientSpec{ID: "spa", Public: true, RedirectURIs: []string{"http://localhost:5173/cb"}})
	if err != nil {
		t.Fatal(err)
	}
	if spa.AuthMethod != storage.AuthMethodNone || spa.ApplicationType != storage.AppTypeUserAgent || spa.Name != "spa" {
		t.Fatalf("SPA defaults: %+v", spa)
	}
	app, _, err := r.CreateClient(ctx, "acme", ClientSpec{ID: "app", Native: true, RedirectURIs: []string{"http://127.0.0.1/cb"}})
	if err != nil {
		t.Fatal(err)
	}
	if app.AuthMethod != storage.AuthMethodNone || app.ApplicationType != storage.AppTypeNative {
		t.Fatalf("native defaults: %+v", app)
	}
	if _, _, err := r.CreateClient(ctx, "acme", ClientSpec{ID: "spa", Public: true, RedirectURIs: []string{"http://localhost:5173/cb"}}); !errors.Is(err, storage.ErrAlreadyExists) {
		t.Fatalf("duplicate ID: want ErrAlreadyExists, got %v", err)
	}
}

func TestRotateClientSecret(t *testing.T) {
	r := newTenant(t)
	ctx := t.Context()
	c, old, err := r.CreateClient(ctx, "acme", ClientSpec{ID: "web", RedirectURIs: []string{"https://a.example.com/cb"}})
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := r.RotateClientSecret(ctx, "acme", c.ID)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := r.Store.Clients().Client(ctx, "acme", c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if fresh == old || !VerifyClientSecret(fresh, stored.SecretHash) || VerifyClientSecret(old, stored.SecretHash) {
		t.Fatal("rotation must replace the secret")
	}

	if _, _, err := r.CreateClient(ctx, "acme", ClientSpec{ID: "spa", Public: true, RedirectURIs: []string{"https://a.example.com/cb"}}); err != nil {
		t.Fatal(err)
	}
	_, err = r.RotateClientSecret(ctx, "acme", "spa")
	wantFieldError(t, err, "id")
	if _, err := r.RotateClientSecret(ctx, "acme", "nope"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("unknown client: want ErrNotFound, got %v", err)
	}
}

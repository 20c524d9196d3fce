package op

import (
	"net/http/httptest"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/herald-idp/herald/op/registry"
	"github.com/herald-idp/herald/storage"
)

func TestTenantLifetimes(t *testing.T) {
	def := DefaultLifetimes()
	if got := tenantLifetimes(def, nil); got != def {
		t.Fatalf("nil tenant: %+v", got)
	}
	tn := &storage.Tenant{Settings: storage.TenantSettings{
		AccessTokenLifetime: 5 * time.Minute,
		SessionIdleTimeout:  10 * 24 * time.Hour, // beyond the absolute default: capped
	}}
	got := tenantLifetimes(def, tn)
	if got.AccessToken != 5*time.Minute {
		t.Errorf("AccessToken = %s, want the tenant's 5m", got.AccessToken)
	}
	if got.IDToken != def.IDToken {
		t.Errorf("IDToken = %s, want the default %s", got.IDToken, def.IDToken)
	}
	if got.RefreshToken != def.RefreshToken {
		t.Errorf("RefreshToken = %s, want the default %s", got.RefreshToken, def.RefreshToken)
	}
	if got.SessionIdle != def.SessionAbsolute {
		t.Fatalf("idle %s must be capped at absolute %s", got.SessionIdle, def.SessionAbsolute)
	}
}

func TestCustomClaims(t *testing.T) {
	tn := &storage.Tenant{Settings: storage.TenantSettings{CustomClaims: []storage.ClaimMapping{
		{Claim: "tenant_id", Attribute: "tenant_id"},
		{Claim: "plan", Attribute: "plan_level", Scope: "profile", Targets: []string{registry.ClaimTargetIDToken}},
		{Claim: "groups", Attribute: "groups", Scope: "groups", Targets: []string{registry.ClaimTargetAccessToken, registry.ClaimTargetUserinfo}},
		{Claim: "missing", Attribute: "nope"},
	}}}
	u := &storage.User{Attributes: map[string]any{"tenant_id": "t-42", "plan_level": "gold", "groups": []any{"admins", "ops"}}}
	for _, tc := range []struct {
		scopes []string
		target string
		want   map[string]any
	}{
		{[]string{"openid"}, registry.ClaimTargetIDToken, map[string]any{"tenant_id": "t-42"}},
		{[]string{"openid", "profile"}, registry.ClaimTargetIDToken, map[string]any{"tenant_id": "t-42", "plan": "gold"}},
		{[]string{"openid", "profile"}, registry.ClaimTargetAccessToken, map[string]any{"tenant_id": "t-42"}},
		{[]string{"openid", "groups"}, registry.ClaimTargetAccessToken, map[string]any{"tenant_id": "t-42", "groups": []any{"admins", "ops"}}},
		{[]string{"openid", "groups"}, registry.ClaimTargetUserinfo, map[string]any{"tenant_id": "t-42", "groups": []any{"admins", "ops"}}},
	} {
		if got := customClaims(tn, u, tc.scopes, tc.target); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("scopes %v target %s: got %v, want %v", tc.scopes, tc.target, got, tc.want)
		}
	}
	if got := customClaims(tn, &storage.User{}, []string{"openid"}, registry.ClaimTargetIDToken); got != nil {
		t.Errorf("user without attributes: %v", got)
	}
}

func TestRequestHostTrustsForwardedHostOnlyFromProxies(t *testing.T) {
	s := &Server{}
	s.cfg.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	for _, tc := range []struct {
		remote, host, fwd, want string
	}{
		{"192.0.2.1:5000", "Login.Acme.Test:8443", "", "login.acme.test"},
		{"192.0.2.1:5000", "id.example.com", "evil.example", "id.example.com"}, // untrusted peer
		{"10.1.2.3:5000", "internal:8080", "login.acme.test, other", "login.acme.test"},
		{"10.1.2.3:5000", "id.example.com.", "", "id.example.com"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr, r.Host = tc.remote, tc.host
		if tc.fwd != "" {
			r.Header.Set("X-Forwarded-Host", tc.fwd)
		}
		if got := s.requestHost(r); got != tc.want {
			t.Errorf("%+v: got %q", tc, got)
		}
	}
}

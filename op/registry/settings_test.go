package registry

import (
	"strings"
	"testing"
	"time"

	"github.com/herald-idp/herald/storage"
)

func TestHostnameRules(t *testing.T) {
	for _, tc := range []struct {
		host string
		ok   bool
	}{
		{"login.acme.test", true},
		{"a.b", true},
		{"xn--bcher-kva.example", true},
		{"a-b.example.com", true},
		{strings.Repeat("a", 63) + ".example.com", true},
		{"", false},
		{"localhost", false},
		{"Login.acme.test", false},
		{"https://login.acme.test", false},
		{"login.acme.test:443", false},
		{"login.acme.test/path", false},
		{"login.acme.test.", false},
		{"login..acme.test", false},
		{"-login.acme.test", false},
		{"login-.acme.test", false},
		{"log_in.acme.test", false},
		{"bücher.example", false},
		{"user@login.acme.test", false},
		{"10.0.0.1", false},
		{"[::1]", false},
		{"*.acme.test", false},
		{strings.Repeat("a", 64) + ".example.com", false},
		{strings.Repeat("abcdefghi.", 26) + "com", false}, // 263 characters
	} {
		if msg := hostnameProblem(tc.host); (msg == "") != tc.ok {
			t.Errorf("hostnameProblem(%q) = %q, want ok=%v", tc.host, msg, tc.ok)
		}
	}
}

func TestSettingsRules(t *testing.T) {
	claim := func(c, a string, targets ...string) storage.ClaimMapping {
		return storage.ClaimMapping{Claim: c, Attribute: a, Targets: targets}
	}
	for _, tc := range []struct {
		name      string
		s         storage.TenantSettings
		alg       string
		wantField string
	}{
		{"defaults", storage.TenantSettings{}, "RS256", ""},
		{"branding", storage.TenantSettings{LogoURL: "https://cdn.acme.test/logo.svg", AccentColor: "#A0b1C2"}, "RS256", ""},
		{"lifetimes", storage.TenantSettings{AccessTokenLifetime: time.Minute, SessionIdleTimeout: time.Hour, SessionAbsoluteLifetime: time.Hour}, "RS256", ""},
		{"allowed algs", storage.TenantSettings{AllowedSigningAlgorithms: []string{"ES256", "RS256"}}, "ES256", ""},
		{"password length", storage.TenantSettings{PasswordMinLength: 8}, "RS256", ""},
		{"claims", storage.TenantSettings{CustomClaims: []storage.ClaimMapping{
			claim("tenant_id", "tenant_id"), claim("acme:plan", "plan_level", "id_token", "access_token"),
			{Claim: "groups", Attribute: "groups", Scope: "groups", Targets: []string{"userinfo"}},
		}}, "RS256", ""},

		{"http logo", storage.TenantSettings{LogoURL: "http://cdn.acme.test/logo.svg"}, "RS256", "settings.logo_url"},
		{"javascript logo", storage.TenantSettings{LogoURL: "javascript:alert(1)"}, "RS256", "settings.logo_url"},
		{"same-origin logo", storage.TenantSettings{LogoURL: "/branding/logo.svg"}, "RS256", ""},
		{"relative logo", storage.TenantSettings{LogoURL: "logo.svg"}, "RS256", "settings.logo_url"},
		{"protocol-relative logo", storage.TenantSettings{LogoURL: "//cdn.acme.test/logo.svg"}, "RS256", "settings.logo_url"},
		{"data logo", storage.TenantSettings{LogoURL: "data:image/svg+xml,<svg/>"}, "RS256", "settings.logo_url"},
		{"logo host breaks out of the CSP", storage.TenantSettings{LogoURL: "https://cdn.acme.test;script-src/l.svg"}, "RS256", "settings.logo_url"},
		{"logo host wildcard", storage.TenantSettings{LogoURL: "https://*.acme.test/l.svg"}, "RS256", "settings.logo_url"},
		{"logo with user", storage.TenantSettings{LogoURL: "https://u:p@cdn.acme.test/l.svg"}, "RS256", "settings.logo_url"},
		{"colour name", storage.TenantSettings{AccentColor: "red"}, "RS256", "settings.accent_color"},
		{"four digits", storage.TenantSettings{AccentColor: "#ffff"}, "RS256", "settings.accent_color"},
		{"no hash", storage.TenantSettings{AccentColor: "0a5cff"}, "RS256", "settings.accent_color"},
		{"alpha", storage.TenantSettings{AccentColor: "#0a5cff80"}, "RS256", "settings.accent_color"},
		{"css injection", storage.TenantSettings{AccentColor: "#ffffff;background:url(x)"}, "RS256", "settings.accent_color"},
		{"css injection after newline", storage.TenantSettings{AccentColor: "#ffffff\n}body{display:none"}, "RS256", "settings.accent_color"},
		{"function", storage.TenantSettings{AccentColor: "rgb(1,2,3)"}, "RS256", "settings.accent_color"},
		{"negative lifetime", storage.TenantSettings{AccessTokenLifetime: -time.Second}, "RS256", "settings.access_token_lifetime"},
		{"huge lifetime", storage.TenantSettings{RefreshTokenLifetime: MaxLifetime + time.Second}, "RS256", "settings.refresh_token_lifetime"},
		{"idle beyond absolute", storage.TenantSettings{SessionIdleTimeout: 2 * time.Hour, SessionAbsoluteLifetime: time.Hour}, "RS256", "settings.session_idle_timeout"},
		{"unknown alg", storage.TenantSettings{AllowedSigningAlgorithms: []string{"HS256", "RS256"}}, "RS256", "settings.allowed_signing_algorithms"},
		{"alg not allowed", storage.TenantSettings{AllowedSigningAlgorithms: []string{"RS256"}}, "EdDSA", "settings.allowed_signing_algorithms"},
		{"password length 7", storage.TenantSettings{PasswordMinLength: 7}, "RS256", "settings.password_min_length"},
		{"password length 129", storage.TenantSettings{PasswordMinLength: 129}, "RS256", "settings.password_min_length"},
		{"reserved sub", storage.TenantSettings{CustomClaims: []storage.ClaimMapping{claim("sub", "x")}}, "RS256", "settings.custom_claims[0].claim"},
		{"reserved email_verified", storage.TenantSettings{CustomClaims: []storage.ClaimMapping{claim("tenant_id", "t"), claim("email_verified", "x")}}, "RS256", "settings.custom_claims[1].claim"},
		{"reserved cnf", storage.TenantSettings{CustomClaims: []storage.ClaimMapping{claim("cnf", "x")}}, "RS256", "settings.custom_claims[0].claim"},
		{"claim with space", storage.TenantSettings{CustomClaims: []storage.ClaimMapping{claim("plan level", "x")}}, "RS256", "settings.custom_claims[0].claim"},
		{"claim starting with digit", storage.TenantSettings{CustomClaims: []storage.ClaimMapping{claim("1plan", "x")}}, "RS256", "settings.custom_claims[0].claim"},
		{"duplicate claim", storage.TenantSettings{CustomClaims: []storage.ClaimMapping{claim("plan", "a"), claim("plan", "b")}}, "RS256", "settings.custom_claims[1].claim"},
		{"bad attribute", storage.TenantSettings{CustomClaims: []storage.ClaimMapping{claim("plan", "")}}, "RS256", "settings.custom_claims[0].attribute"},
		{"bad target", storage.TenantSettings{CustomClaims: []storage.ClaimMapping{claim("plan", "plan", "refresh_token")}}, "RS256", "settings.custom_claims[0].targets"},
		{"bad scope", storage.TenantSettings{CustomClaims: []storage.ClaimMapping{{Claim: "plan", Attribute: "plan", Scope: "a b"}}}, "RS256", "settings.custom_claims[0].scope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p problems
			got := checkSettings(&p, tc.s, tc.alg)
			wantFieldError(t, p.err(), tc.wantField)
			if tc.wantField == "" && tc.s.AccentColor != "" && got.AccentColor != strings.ToLower(tc.s.AccentColor) {
				t.Errorf("accent colour not normalised: %q", got.AccentColor)
			}
		})
	}
}

// TestAccentColorShortForm: #rgb is accepted and stored as lower-case
// #rrggbb, the one form the stylesheet accepts.
func TestAccentColorShortForm(t *testing.T) {
	for in, want := range map[string]string{"#0aF": "#00aaff", "#FFF": "#ffffff", "#0A5CFF": "#0a5cff"} {
		var p problems
		got := checkSettings(&p, storage.TenantSettings{AccentColor: in}, "RS256")
		if err := p.err(); err != nil || got.AccentColor != want {
			t.Errorf("%s: got %q, %v; want %q", in, got.AccentColor, err, want)
		}
	}
}

func TestAttributeRules(t *testing.T) {
	for _, tc := range []struct {
		name  string
		attrs map[string]any
		ok    bool
	}{
		{"none", nil, true},
		{"values", map[string]any{"tenant_id": "t1", "plan_level": 3, "groups": []any{"a", "b"}, "x": map[string]any{"y": true}, "n": nil}, true},
		{"namespaced", map[string]any{"acme:plan": "gold", "a.b-c": 1}, true},
		{"bad name", map[string]any{"plan level": 1}, false},
		{"empty name", map[string]any{"": 1}, false},
		{"not JSON", map[string]any{"f": func() {}}, false},
		{"too large", map[string]any{"blob": strings.Repeat("x", MaxAttributesSize)}, false},
	} {
		var p problems
		out := checkAttributes(&p, tc.attrs)
		if err := p.err(); (err == nil) != tc.ok {
			t.Errorf("%s: err = %v, want ok=%v", tc.name, err, tc.ok)
		}
		if tc.name == "values" {
			if _, isFloat := out["plan_level"].(float64); !isFloat {
				t.Errorf("attributes must be plain JSON values after validation, got %T", out["plan_level"])
			}
		}
	}
}

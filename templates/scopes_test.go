package templates

import (
	"strings"
	"testing"
)

// The consent page promises only what Herald holds: no picture or locale
// for profile, and address and phone (which release nothing) not listed.
func TestScopeTextsAreTruthful(t *testing.T) {
	for _, scope := range []string{"openid", "profile", "email", "offline_access", "photos:read"} {
		if !ScopeShown(scope) {
			t.Errorf("ScopeShown(%q) = false", scope)
		}
	}
	for _, scope := range []string{"address", "phone"} {
		if ScopeShown(scope) {
			t.Errorf("ScopeShown(%q) = true: Herald holds no such claims", scope)
		}
	}
	profile := strings.ToLower(ScopeDescription("profile"))
	for _, absent := range []string{"picture", "locale", "photo"} {
		if strings.Contains(profile, absent) {
			t.Errorf("profile's description %q promises %q", profile, absent)
		}
	}
	for _, present := range []string{"name", "given", "family", "username"} {
		if !strings.Contains(profile, present) {
			t.Errorf("profile's description %q does not mention %q", profile, present)
		}
	}
}

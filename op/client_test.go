package op

import (
	"testing"
	"time"

	"github.com/herald-idp/herald/storage"
)

func TestScopeAllowed(t *testing.T) {
	standard := &storage.Client{}
	narrowed := &storage.Client{Scopes: []string{"openid", "api:read"}}
	for _, tc := range []struct {
		name  string
		c     *storage.Client
		scope string
		want  bool
	}{
		{"standard scope, no registration", standard, "openid", true},
		{"offline_access, no registration", standard, "offline_access", true},
		{"custom scope, no registration", standard, "api:read", false},
		{"admin scope, no registration", standard, "herald:admin", false},
		{"empty scope", standard, "", false},
		{"registered custom scope", narrowed, "api:read", true},
		{"registered standard scope", narrowed, "openid", true},
		{"standard scope the registration leaves out", narrowed, "email", false},
		{"case differs", narrowed, "OpenID", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := scopeAllowed(tc.c, tc.scope); got != tc.want {
				t.Errorf("scopeAllowed(%v, %q) = %v, want %v", tc.c.Scopes, tc.scope, got, tc.want)
			}
		})
	}
}

func TestOrDefault(t *testing.T) {
	for _, tc := range []struct {
		name   string
		v, def time.Duration
		want   time.Duration
	}{
		{"set", time.Minute, time.Hour, time.Minute},
		{"zero takes the default", 0, time.Hour, time.Hour},
		{"negative takes the default", -time.Second, time.Hour, time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := orDefault(tc.v, tc.def); got != tc.want {
				t.Errorf("orDefault(%s, %s) = %s, want %s", tc.v, tc.def, got, tc.want)
			}
		})
	}
}

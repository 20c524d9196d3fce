package op

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/herald-idp/herald/storage"
)

// requestAt is a request for path, resolved to tenant acme reached at
// cookiePath ("" leaves it unresolved).
func requestAt(method, path, cookiePath string) *http.Request {
	r := httptest.NewRequest(method, path, nil)
	if cookiePath != "" {
		rt := &resolvedTenant{tenant: &storage.Tenant{Name: "acme"}, issuer: "https://id.example", cookiePath: cookiePath}
		r = r.WithContext(withTenant(r.Context(), rt))
	}
	return r
}

func TestTenantRoutePath(t *testing.T) {
	for _, tc := range []struct {
		name, path, cookiePath, want string
	}{
		{"path issuer", "/t/acme/token", "/t/acme/", "/token"},
		{"path issuer, nested", "/t/acme/.well-known/openid-configuration", "/t/acme/", "/.well-known/openid-configuration"},
		{"path issuer root", "/t/acme/", "/t/acme/", "/"},
		{"host issuer", "/token", "/", "/token"},
		{"another tenant's path", "/t/acme2/token", "/t/acme/", ""},
		{"no trailing slash", "/t/acme", "/t/acme/", ""},
		{"unresolved request", "/t/acme/token", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tenantRoutePath(requestAt(http.MethodPost, tc.path, tc.cookiePath)); got != tc.want {
				t.Errorf("tenantRoutePath(%s) = %q, want %q", tc.path, got, tc.want)
			}
		})
	}
}

func TestEnabled(t *testing.T) {
	for _, tc := range []struct {
		name     string
		disabled bool
		wantErr  error
	}{
		{"enabled tenant is returned", false, nil},
		{"disabled tenant is not found", true, storage.ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := &storage.Tenant{Name: "acme", Disabled: tc.disabled}
			got, err := enabled(in)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr == nil && got != in {
				t.Errorf("got %+v, want the tenant itself", got)
			}
			if tc.wantErr != nil && got != nil {
				t.Errorf("got %+v with the error, want nil", got)
			}
		})
	}
}

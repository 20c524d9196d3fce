package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/herald-idp/herald/storage"
)

// downStore is a real store whose tenant lookups fail as a backend does
// when its database is unreachable.
type downStore struct {
	storage.Store
	err error
}

func (s downStore) Tenants() storage.Tenants { return downTenants{s.Store.Tenants(), s.err} }

type downTenants struct {
	storage.Tenants
	err error
}

func (t downTenants) Tenant(context.Context, string) (*storage.Tenant, error) { return nil, t.err }
func (t downTenants) ListTenants(context.Context) ([]*storage.Tenant, error)  { return nil, t.err }

func TestStorageFailures(t *testing.T) {
	for _, tc := range []struct {
		name   string
		err    error
		status int
		code   string
	}{
		{"unavailable", fmt.Errorf("dial tcp 10.0.0.5:5432: connection refused: %w", storage.ErrUnavailable), 503, "temporarily_unavailable"},
		{"internal", errors.New("sql: Scan error on column index 3: secret detail"), 500, "server_error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := newAPI(t)
			reg := *base.reg
			reg.Store = downStore{base.store, tc.err}
			a := serve(t, &reg, base.store)
			for _, path := range []string{"/tenants", "/tenants/acme", "/tenants/acme/clients", "/tenants/acme/users/x"} {
				res := a.call(t, http.MethodGet, path, nil)
				res.wantError(t, tc.status, tc.code)
				if tc.status == 503 && res.header.Get("Retry-After") == "" {
					t.Error("503 without Retry-After")
				}
			}
		})
	}
}

package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/herald-idp/herald/storage"
)

var tenants = record[storage.Tenant]{
	table: table{name: "tenants", keys: 1, cols: []string{
		"name", "display_name", "signing_algorithm", "disabled", "created_at", "updated_at"}},
	scan: func(sc scanner) (*storage.Tenant, error) {
		var t storage.Tenant
		err := sc.Scan(&t.Name, &t.DisplayName, &t.SigningAlgorithm, &t.Disabled,
			timeCol{&t.CreatedAt}, timeCol{&t.UpdatedAt})
		if err != nil {
			return nil, err
		}
		return &t, nil
	},
	args: func(t *storage.Tenant) []any {
		return []any{t.Name, t.DisplayName, t.SigningAlgorithm, t.Disabled, t.CreatedAt, t.UpdatedAt}
	},
}

func tenantWhat(name string) string { return fmt.Sprintf("tenant %q", name) }

// CreateTenant stores t; ErrAlreadyExists if the name is taken.
func (s *Store) CreateTenant(ctx context.Context, t *storage.Tenant) error {
	if t == nil || t.Name == "" {
		return errors.New("tenant: name must not be empty")
	}
	return tenants.insert(ctx, s, tenantWhat(t.Name), t)
}

// Tenant returns one tenant by name.
func (s *Store) Tenant(ctx context.Context, name string) (*storage.Tenant, error) {
	return tenants.get(ctx, s, tenantWhat(name), tenants.table.selectSQL()+` WHERE name = $1`, name)
}

// ListTenants returns every tenant ordered by name.
func (s *Store) ListTenants(ctx context.Context) ([]*storage.Tenant, error) {
	return tenants.list(ctx, s, "list tenants", tenants.table.selectSQL()+` ORDER BY name`)
}

// UpdateTenant applies update to the locked row in one transaction. The
// name is the primary key and cannot be changed.
func (s *Store) UpdateTenant(ctx context.Context, name string, update func(*storage.Tenant) error) (*storage.Tenant, error) {
	what := tenantWhat(name)
	return tenants.update(ctx, s, what, tenants.table.selectForUpdateSQL(), []any{name}, update,
		func(t *storage.Tenant) error {
			if t.Name != name {
				return fmt.Errorf("%s: update must not change the name", what)
			}
			return nil
		})
}

// DeleteTenant removes the tenant; ON DELETE CASCADE removes every record
// scoped to it in the same statement.
func (s *Store) DeleteTenant(ctx context.Context, name string) error {
	what := tenantWhat(name)
	return s.run(ctx, what, func(ctx context.Context, q querier) error {
		tag, err := q.Exec(ctx, `DELETE FROM tenants WHERE name = $1`, name)
		if err != nil {
			return mapErr(err, what)
		}
		return requireAffected(tag, what)
	})
}

package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/herald-idp/herald/storage"
)

var tenantsTable = table{name: "tenants", keys: 1, cols: []string{
	"name", "display_name", "signing_algorithm", "disabled", "created_at", "updated_at"}}

func scanTenant(sc scanner) (*storage.Tenant, error) {
	var t storage.Tenant
	err := sc.Scan(&t.Name, &t.DisplayName, &t.SigningAlgorithm, &t.Disabled,
		timeCol{&t.CreatedAt}, timeCol{&t.UpdatedAt})
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// tenantArgs lists t's column values in tenantsTable order.
func tenantArgs(t *storage.Tenant) []any {
	return []any{t.Name, t.DisplayName, t.SigningAlgorithm, t.Disabled,
		encTime(t.CreatedAt), encTime(t.UpdatedAt)}
}

func tenantWhat(name string) string { return fmt.Sprintf("tenant %q", name) }

// CreateTenant stores t; ErrAlreadyExists if the name is taken.
func (s *Store) CreateTenant(ctx context.Context, t *storage.Tenant) error {
	if t == nil || t.Name == "" {
		return errors.New("tenant: name must not be empty")
	}
	_, err := s.write.ExecContext(ctx, tenantsTable.insertSQL(), tenantArgs(t)...)
	return mapErr(err, tenantWhat(t.Name))
}

// Tenant returns the tenant called name.
func (s *Store) Tenant(ctx context.Context, name string) (*storage.Tenant, error) {
	return getTenant(ctx, s.read, name)
}

func getTenant(ctx context.Context, q querier, name string) (*storage.Tenant, error) {
	t, err := scanTenant(q.QueryRowContext(ctx, tenantsTable.selectSQL()+` WHERE name = ?`, name))
	if err != nil {
		return nil, mapErr(err, tenantWhat(name))
	}
	return t, nil
}

// ListTenants returns every tenant ordered by name.
func (s *Store) ListTenants(ctx context.Context) ([]*storage.Tenant, error) {
	rows, err := s.read.QueryContext(ctx, tenantsTable.selectSQL()+` ORDER BY name`)
	if err != nil {
		return nil, mapErr(err, "list tenants")
	}
	defer rows.Close()
	var out []*storage.Tenant
	for rows.Next() {
		t, err := scanTenant(rows)
		if err != nil {
			return nil, mapErr(err, "list tenants")
		}
		out = append(out, t)
	}
	return out, mapErr(rows.Err(), "list tenants")
}

// UpdateTenant applies update to the stored tenant in one transaction. The
// name is the primary key and cannot be changed.
func (s *Store) UpdateTenant(ctx context.Context, name string, update func(*storage.Tenant) error) (*storage.Tenant, error) {
	what := tenantWhat(name)
	var out *storage.Tenant
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		t, err := getTenant(ctx, tx, name)
		if err != nil {
			return err
		}
		if err := update(t); err != nil {
			return err
		}
		if t.Name != name {
			return fmt.Errorf("%s: update must not change the name", what)
		}
		_, err = tx.ExecContext(ctx, tenantsTable.updateSQL(), tenantsTable.updateArgs(tenantArgs(t))...)
		if err != nil {
			return mapErr(err, what)
		}
		out = t
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteTenant removes the tenant; ON DELETE CASCADE removes every record
// scoped to it in the same statement.
func (s *Store) DeleteTenant(ctx context.Context, name string) error {
	what := tenantWhat(name)
	res, err := s.write.ExecContext(ctx, `DELETE FROM tenants WHERE name = ?`, name)
	if err != nil {
		return mapErr(err, what)
	}
	return requireAffected(res, what)
}

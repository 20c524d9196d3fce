package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/herald-idp/herald/storage"
)

var tenantsTable = table{name: "tenants", keys: 1, cols: []string{
	"name", "display_name", "signing_algorithm", "settings", "disabled", "created_at", "updated_at"}}

// selectTenantSQL reads a tenant with its hostnames (a JSON array, sorted
// again in Go: SQLite does not promise the aggregate's order).
var selectTenantSQL = `SELECT ` + tenantsTable.columns() + `,
	(SELECT json_group_array(hostname) FROM tenant_hostnames h WHERE h.tenant_id = tenants.name)
	FROM tenants`

func scanTenant(sc scanner) (*storage.Tenant, error) {
	var t storage.Tenant
	err := sc.Scan(&t.Name, &t.DisplayName, &t.SigningAlgorithm, jsonCol{&t.Settings}, &t.Disabled,
		timeCol{&t.CreatedAt}, timeCol{&t.UpdatedAt}, listCol{&t.Hostnames})
	if err != nil {
		return nil, err
	}
	slices.Sort(t.Hostnames)
	return &t, nil
}

// tenantArgs lists t's column values in tenantsTable order.
func tenantArgs(t *storage.Tenant) ([]any, error) {
	settings, err := encJSON(t.Settings)
	if err != nil {
		return nil, fmt.Errorf("%s: settings: %w", tenantWhat(t.Name), err)
	}
	return []any{t.Name, t.DisplayName, t.SigningAlgorithm, settings, t.Disabled,
		encTime(t.CreatedAt), encTime(t.UpdatedAt)}, nil
}

func tenantWhat(name string) string { return fmt.Sprintf("tenant %q", name) }

// CreateTenant stores t and its hostnames in one transaction;
// ErrAlreadyExists if the name is taken, storage.ErrHostnameTaken if
// another tenant claims one of the hostnames.
func (s *Store) CreateTenant(ctx context.Context, t *storage.Tenant) error {
	if t == nil || t.Name == "" {
		return errors.New("tenant: name must not be empty")
	}
	hosts, err := storage.NormalizeHostnames(t.Hostnames)
	if err != nil {
		return fmt.Errorf("%s: %w", tenantWhat(t.Name), err)
	}
	args, err := tenantArgs(t)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, tenantsTable.insertSQL(), args...); err != nil {
			return mapErr(err, tenantWhat(t.Name))
		}
		return insertHostnames(ctx, tx, t.Name, hosts)
	})
}

// insertHostnames claims hosts for tenant. The hostname is the primary
// key, so a hostname of another tenant fails the insert.
func insertHostnames(ctx context.Context, tx *sql.Tx, tenant string, hosts []string) error {
	for _, h := range hosts {
		_, err := tx.ExecContext(ctx, `INSERT INTO tenant_hostnames (hostname, tenant_id) VALUES (?, ?)`, h, tenant)
		if err != nil {
			err = mapErr(err, fmt.Sprintf("%s: hostname %q", tenantWhat(tenant), h))
			if errors.Is(err, storage.ErrAlreadyExists) {
				return fmt.Errorf("%s: hostname %q: %w", tenantWhat(tenant), h, storage.ErrHostnameTaken)
			}
			return err
		}
	}
	return nil
}

// Tenant returns the tenant called name.
func (s *Store) Tenant(ctx context.Context, name string) (*storage.Tenant, error) {
	return getTenant(ctx, s.read, name)
}

func getTenant(ctx context.Context, q querier, name string) (*storage.Tenant, error) {
	t, err := scanTenant(q.QueryRowContext(ctx, selectTenantSQL+` WHERE name = ?`, name))
	if err != nil {
		return nil, mapErr(err, tenantWhat(name))
	}
	return t, nil
}

// TenantByHostname returns the tenant that claims host, compared exactly
// (hostnames are stored lower-case; callers lower-case the request's host
// and strip its port).
func (s *Store) TenantByHostname(ctx context.Context, host string) (*storage.Tenant, error) {
	t, err := scanTenant(s.read.QueryRowContext(ctx, selectTenantSQL+
		` WHERE name = (SELECT tenant_id FROM tenant_hostnames WHERE hostname = ?)`, host))
	if err != nil {
		return nil, mapErr(err, fmt.Sprintf("tenant of hostname %q", host))
	}
	return t, nil
}

// ListTenants returns every tenant ordered by name.
func (s *Store) ListTenants(ctx context.Context) ([]*storage.Tenant, error) {
	rows, err := s.read.QueryContext(ctx, selectTenantSQL+` ORDER BY name`)
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

// UpdateTenant applies update to the stored tenant in one transaction,
// hostnames included (the stored set is replaced by t.Hostnames). The name
// is the primary key and cannot be changed.
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
		if t.Hostnames, err = storage.NormalizeHostnames(t.Hostnames); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		args, err := tenantArgs(t)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, tenantsTable.updateSQL(), tenantsTable.updateArgs(args)...); err != nil {
			return mapErr(err, what)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM tenant_hostnames WHERE tenant_id = ?`, name); err != nil {
			return mapErr(err, what)
		}
		if err := insertHostnames(ctx, tx, name, t.Hostnames); err != nil {
			return err
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
// scoped to it, hostnames included, in the same statement. Audit events
// are not scoped to it and stay.
func (s *Store) DeleteTenant(ctx context.Context, name string) error {
	what := tenantWhat(name)
	res, err := s.write.ExecContext(ctx, `DELETE FROM tenants WHERE name = ?`, name)
	if err != nil {
		return mapErr(err, what)
	}
	return requireAffected(res, what)
}

package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/herald-idp/herald/storage"
)

// tenants' table lists the stored columns (INSERT and UPDATE); reads also
// fetch the tenant's hostnames, sorted, with selectTenantSQL.
var tenants = record[storage.Tenant]{
	table: table{name: "tenants", keys: 1, cols: []string{
		"name", "display_name", "signing_algorithm", "settings", "disabled", "created_at", "updated_at"}},
	scan: func(sc scanner) (*storage.Tenant, error) {
		var t storage.Tenant
		// settings is jsonb: pgx unmarshals it into the struct.
		err := sc.Scan(&t.Name, &t.DisplayName, &t.SigningAlgorithm, &t.Settings, &t.Disabled,
			timeCol{&t.CreatedAt}, timeCol{&t.UpdatedAt}, &t.Hostnames)
		if err != nil {
			return nil, err
		}
		lists(&t.Hostnames)
		return &t, nil
	},
	args: func(t *storage.Tenant) []any {
		return []any{t.Name, t.DisplayName, t.SigningAlgorithm, t.Settings, t.Disabled, t.CreatedAt, t.UpdatedAt}
	},
}

var selectTenantSQL = `SELECT ` + tenants.table.columns() + `,
	ARRAY(SELECT h.hostname FROM tenant_hostnames h WHERE h.tenant_id = tenants.name ORDER BY h.hostname)
	FROM tenants`

func tenantWhat(name string) string { return fmt.Sprintf("tenant %q", name) }

// CreateTenant stores t and its hostnames in one transaction;
// ErrAlreadyExists if the name is taken, storage.ErrHostnameTaken if
// another tenant claims one of the hostnames.
func (s *Store) CreateTenant(ctx context.Context, t *storage.Tenant) error {
	if t == nil || t.Name == "" {
		return errors.New("tenant: name must not be empty")
	}
	what := tenantWhat(t.Name)
	hosts, err := storage.NormalizeHostnames(t.Hostnames)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return s.inTx(ctx, what, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, tenants.table.insertSQL(), tenants.args(t)...); err != nil {
			return mapErr(err, what)
		}
		return insertHostnames(ctx, tx, t.Name, hosts)
	})
}

// insertHostnames claims hosts for tenant in one statement. The hostname
// is the primary key, so a hostname of another tenant fails the insert.
func insertHostnames(ctx context.Context, tx pgx.Tx, tenant string, hosts []string) error {
	if len(hosts) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, `INSERT INTO tenant_hostnames (hostname, tenant_id)
		SELECT h, $2 FROM unnest($1::text[]) AS h`, hosts, tenant)
	if err != nil {
		what := tenantWhat(tenant) + ": hostnames"
		if err = mapErr(err, what); errors.Is(err, storage.ErrAlreadyExists) {
			return fmt.Errorf("%s: %w", what, storage.ErrHostnameTaken)
		}
		return err
	}
	return nil
}

// Tenant returns one tenant by name.
func (s *Store) Tenant(ctx context.Context, name string) (*storage.Tenant, error) {
	return tenants.get(ctx, s, tenantWhat(name), selectTenantSQL+` WHERE name = $1`, name)
}

// TenantByHostname returns the tenant that claims host, compared exactly
// (hostnames are stored lower-case; callers lower-case the request's host
// and strip its port).
func (s *Store) TenantByHostname(ctx context.Context, host string) (*storage.Tenant, error) {
	return tenants.get(ctx, s, fmt.Sprintf("tenant of hostname %q", host), selectTenantSQL+
		` WHERE name = (SELECT tenant_id FROM tenant_hostnames WHERE hostname = $1)`, host)
}

// ListTenants returns every tenant ordered by name.
func (s *Store) ListTenants(ctx context.Context) ([]*storage.Tenant, error) {
	return tenants.list(ctx, s, "list tenants", selectTenantSQL+` ORDER BY name`)
}

// UpdateTenant applies update to the locked row in one transaction,
// hostnames included (the stored set is replaced by t.Hostnames). The name
// is the primary key and cannot be changed.
func (s *Store) UpdateTenant(ctx context.Context, name string, update func(*storage.Tenant) error) (*storage.Tenant, error) {
	what := tenantWhat(name)
	var out *storage.Tenant
	err := s.inTx(ctx, what, func(ctx context.Context, tx pgx.Tx) error {
		t, err := tenants.scan(tx.QueryRow(ctx, selectTenantSQL+` WHERE name = $1 FOR UPDATE OF tenants`, name))
		if err != nil {
			return mapErr(err, what)
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
		if _, err := tx.Exec(ctx, tenants.table.updateSQL(), tenants.table.updateArgs(tenants.args(t))...); err != nil {
			return mapErr(err, what)
		}
		// Hostnames this update keeps are deleted and inserted again in the
		// same transaction: no other tenant can take them in between.
		if _, err := tx.Exec(ctx, `DELETE FROM tenant_hostnames WHERE tenant_id = $1`, name); err != nil {
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
	return s.run(ctx, what, func(ctx context.Context, q querier) error {
		tag, err := q.Exec(ctx, `DELETE FROM tenants WHERE name = $1`, name)
		if err != nil {
			return mapErr(err, what)
		}
		return requireAffected(tag, what)
	})
}

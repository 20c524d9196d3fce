package postgres

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/herald-idp/herald/storage"
)

// Lifetimes are bigint nanoseconds: exact, unlike interval (microseconds).
var clients = record[storage.Client]{
	table: table{name: "clients", keys: 2, cols: []string{
		"tenant_id", "id", "name", "secret_hash", "auth_method", "application_type",
		"redirect_uris", "post_logout_redirect_uris", "cors_origins", "grant_types", "scopes",
		"first_party", "access_token_format", "access_token_lifetime", "id_token_lifetime",
		"refresh_token_lifetime", "created_at", "updated_at", "uid"}},
	scan: func(sc scanner) (*storage.Client, error) {
		var c storage.Client
		var atl, itl, rtl int64
		err := sc.Scan(&c.TenantID, &c.ID, &c.Name, &c.SecretHash, &c.AuthMethod, &c.ApplicationType,
			&c.RedirectURIs, &c.PostLogoutRedirectURIs, &c.CORSOrigins, &c.GrantTypes, &c.Scopes,
			&c.FirstParty, &c.AccessTokenFormat, &atl, &itl, &rtl,
			timeCol{&c.CreatedAt}, timeCol{&c.UpdatedAt}, &c.UID)
		if err != nil {
			return nil, err
		}
		c.AccessTokenLifetime = time.Duration(atl)
		c.IDTokenLifetime = time.Duration(itl)
		c.RefreshTokenLifetime = time.Duration(rtl)
		lists(&c.RedirectURIs, &c.PostLogoutRedirectURIs, &c.CORSOrigins, &c.GrantTypes, &c.Scopes)
		return &c, nil
	},
	args: func(c *storage.Client) []any {
		return []any{c.TenantID, c.ID, c.Name, c.SecretHash, c.AuthMethod, c.ApplicationType,
			list(c.RedirectURIs), list(c.PostLogoutRedirectURIs), list(c.CORSOrigins),
			list(c.GrantTypes), list(c.Scopes),
			c.FirstParty, c.AccessTokenFormat, int64(c.AccessTokenLifetime), int64(c.IDTokenLifetime),
			int64(c.RefreshTokenLifetime), c.CreatedAt, c.UpdatedAt, c.UID}
	},
}

func clientWhat(tenant, id string) string {
	return fmt.Sprintf("tenant %q: client %q", tenant, id)
}

// CreateClient stores c; ErrAlreadyExists if the ID is taken in the tenant,
// ErrNotFound if the tenant does not exist.
func (s *Store) CreateClient(ctx context.Context, c *storage.Client) error {
	if c == nil {
		return errors.New("client: nil")
	}
	what := clientWhat(c.TenantID, c.ID)
	if err := requireKeys(what, c.TenantID, c.ID); err != nil {
		return err
	}
	if c.UID == "" {
		c.UID = rand.Text()
	}
	return clients.insert(ctx, s, what, c)
}

// Client returns one client of the tenant.
func (s *Store) Client(ctx context.Context, tenant, id string) (*storage.Client, error) {
	return clients.get(ctx, s, clientWhat(tenant, id),
		clients.table.selectSQL()+` WHERE tenant_id = $1 AND id = $2`, tenant, id)
}

// ListClients returns the tenant's clients ordered by ID.
func (s *Store) ListClients(ctx context.Context, tenant string) ([]*storage.Client, error) {
	return clients.list(ctx, s, fmt.Sprintf("tenant %q: list clients", tenant),
		clients.table.selectSQL()+` WHERE tenant_id = $1 ORDER BY id`, tenant)
}

// UpdateClient applies update to the locked row in one transaction. The
// tenant and ID cannot be changed.
func (s *Store) UpdateClient(ctx context.Context, tenant, id string, update func(*storage.Client) error) (*storage.Client, error) {
	what := clientWhat(tenant, id)
	return clients.update(ctx, s, what, clients.table.selectForUpdateSQL(), []any{tenant, id}, update,
		func(c *storage.Client) error {
			if c.TenantID != tenant || c.ID != id {
				return fmt.Errorf("%s: update must not change the tenant or ID", what)
			}
			return nil
		})
}

// DeleteClient removes one client with its users' consents and revokes its
// grants, in one transaction; ErrNotFound if there is none.
func (s *Store) DeleteClient(ctx context.Context, tenant, id string) error {
	what := clientWhat(tenant, id)
	return s.inTx(ctx, what, func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM clients WHERE tenant_id = $1 AND id = $2`, tenant, id)
		if err != nil {
			return mapErr(err, what)
		}
		if err := requireAffected(tag, what); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM consents WHERE tenant_id = $1 AND client_id = $2`, tenant, id); err != nil {
			return mapErr(err, what)
		}
		_, err = tx.Exec(ctx, `UPDATE grants SET revoked_at = $1
			WHERE tenant_id = $2 AND client_id = $3 AND revoked_at IS NULL`, time.Now(), tenant, id)
		return mapErr(err, what)
	})
}

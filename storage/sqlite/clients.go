package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/herald-idp/herald/storage"
)

var clientsTable = table{name: "clients", keys: 2, cols: []string{
	"tenant_id", "id", "name", "secret_hash", "auth_method", "application_type",
	"redirect_uris", "post_logout_redirect_uris", "cors_origins", "grant_types", "scopes",
	"first_party", "access_token_format", "access_token_lifetime", "id_token_lifetime",
	"refresh_token_lifetime", "created_at", "updated_at", "uid"}}

func scanClient(sc scanner) (*storage.Client, error) {
	var c storage.Client
	err := sc.Scan(&c.TenantID, &c.ID, &c.Name, &c.SecretHash, &c.AuthMethod, &c.ApplicationType,
		listCol{&c.RedirectURIs}, listCol{&c.PostLogoutRedirectURIs}, listCol{&c.CORSOrigins},
		listCol{&c.GrantTypes}, listCol{&c.Scopes},
		&c.FirstParty, &c.AccessTokenFormat, &c.AccessTokenLifetime, &c.IDTokenLifetime,
		&c.RefreshTokenLifetime, timeCol{&c.CreatedAt}, timeCol{&c.UpdatedAt}, &c.UID)
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// clientArgs lists c's column values in clientsTable order.
func clientArgs(c *storage.Client) []any {
	return []any{c.TenantID, c.ID, c.Name, c.SecretHash, c.AuthMethod, c.ApplicationType,
		list(c.RedirectURIs), list(c.PostLogoutRedirectURIs), list(c.CORSOrigins),
		list(c.GrantTypes), list(c.Scopes),
		c.FirstParty, c.AccessTokenFormat, int64(c.AccessTokenLifetime), int64(c.IDTokenLifetime),
		int64(c.RefreshTokenLifetime), encTime(c.CreatedAt), encTime(c.UpdatedAt), c.UID}
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
	_, err := s.write.ExecContext(ctx, clientsTable.insertSQL(), clientArgs(c)...)
	return mapErr(err, what)
}

// Client returns one client of the tenant.
func (s *Store) Client(ctx context.Context, tenant, id string) (*storage.Client, error) {
	return getClient(ctx, s.read, tenant, id)
}

func getClient(ctx context.Context, q querier, tenant, id string) (*storage.Client, error) {
	c, err := scanClient(q.QueryRowContext(ctx,
		clientsTable.selectSQL()+` WHERE tenant_id = ? AND id = ?`, tenant, id))
	if err != nil {
		return nil, mapErr(err, clientWhat(tenant, id))
	}
	return c, nil
}

// ListClients returns the tenant's clients ordered by ID.
func (s *Store) ListClients(ctx context.Context, tenant string) ([]*storage.Client, error) {
	what := fmt.Sprintf("tenant %q: list clients", tenant)
	rows, err := s.read.QueryContext(ctx,
		clientsTable.selectSQL()+` WHERE tenant_id = ? ORDER BY id`, tenant)
	if err != nil {
		return nil, mapErr(err, what)
	}
	defer rows.Close()
	var out []*storage.Client
	for rows.Next() {
		c, err := scanClient(rows)
		if err != nil {
			return nil, mapErr(err, what)
		}
		out = append(out, c)
	}
	return out, mapErr(rows.Err(), what)
}

// UpdateClient applies update to the stored client in one transaction. The
// tenant and ID cannot be changed.
func (s *Store) UpdateClient(ctx context.Context, tenant, id string, update func(*storage.Client) error) (*storage.Client, error) {
	what := clientWhat(tenant, id)
	var out *storage.Client
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		c, err := getClient(ctx, tx, tenant, id)
		if err != nil {
			return err
		}
		if err := update(c); err != nil {
			return err
		}
		if c.TenantID != tenant || c.ID != id {
			return fmt.Errorf("%s: update must not change the tenant or ID", what)
		}
		_, err = tx.ExecContext(ctx, clientsTable.updateSQL(), clientsTable.updateArgs(clientArgs(c))...)
		if err != nil {
			return mapErr(err, what)
		}
		out = c
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteClient removes one client with its users' consents and revokes its
// grants, in one transaction; ErrNotFound if there is none.
func (s *Store) DeleteClient(ctx context.Context, tenant, id string) error {
	what := clientWhat(tenant, id)
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM clients WHERE tenant_id = ? AND id = ?`, tenant, id)
		if err != nil {
			return mapErr(err, what)
		}
		if err := requireAffected(res, what); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM consents WHERE tenant_id = ? AND client_id = ?`, tenant, id); err != nil {
			return mapErr(err, what)
		}
		_, err = tx.ExecContext(ctx, `UPDATE grants SET revoked_at = ?
			WHERE tenant_id = ? AND client_id = ? AND revoked_at IS NULL`, encTime(time.Now()), tenant, id)
		return mapErr(err, what)
	})
}

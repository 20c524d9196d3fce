package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/herald-idp/herald/storage"
)

var usersTable = table{name: "users", keys: 2, cols: []string{
	"tenant_id", "id", "username", "email", "email_verified", "name", "given_name",
	"family_name", "password_hash", "attributes", "disabled", "created_at", "updated_at"}}

func scanUser(sc scanner) (*storage.User, error) {
	var u storage.User
	err := sc.Scan(&u.TenantID, &u.ID, &u.Username, &u.Email, &u.EmailVerified, &u.Name,
		&u.GivenName, &u.FamilyName, &u.PasswordHash, jsonCol{&u.Attributes}, &u.Disabled,
		timeCol{&u.CreatedAt}, timeCol{&u.UpdatedAt})
	if err != nil {
		return nil, err
	}
	return &u, nil
}

// userArgs lists u's column values in usersTable order.
func userArgs(u *storage.User) ([]any, error) {
	attrs, err := encObject(u.Attributes)
	if err != nil {
		return nil, fmt.Errorf("%s: attributes: %w", userWhat(u.TenantID, u.ID), err)
	}
	return []any{u.TenantID, u.ID, u.Username, u.Email, u.EmailVerified, u.Name,
		u.GivenName, u.FamilyName, u.PasswordHash, attrs, u.Disabled,
		encTime(u.CreatedAt), encTime(u.UpdatedAt)}, nil
}

func userWhat(tenant, id string) string {
	return fmt.Sprintf("tenant %q: user %q", tenant, id)
}

// CreateUser stores u; ErrAlreadyExists if its ID or username is taken in
// the tenant.
func (s *Store) CreateUser(ctx context.Context, u *storage.User) error {
	if u == nil {
		return errors.New("user: nil")
	}
	what := userWhat(u.TenantID, u.ID)
	if err := requireKeys(what, u.TenantID, u.ID); err != nil {
		return err
	}
	if u.Username == "" {
		return fmt.Errorf("%s: username must not be empty", what)
	}
	args, err := userArgs(u)
	if err != nil {
		return err
	}
	_, err = s.write.ExecContext(ctx, usersTable.insertSQL(), args...)
	return mapErr(err, what)
}

// User returns one user of the tenant by ID (the OIDC subject).
func (s *Store) User(ctx context.Context, tenant, id string) (*storage.User, error) {
	u, err := scanUser(s.hot.queryRow(ctx, usersTable.selectSQL()+` WHERE tenant_id = ? AND id = ?`, tenant, id))
	if err != nil {
		return nil, mapErr(err, userWhat(tenant, id))
	}
	return u, nil
}

func getUser(ctx context.Context, q querier, tenant, id string) (*storage.User, error) {
	u, err := scanUser(q.QueryRowContext(ctx,
		usersTable.selectSQL()+` WHERE tenant_id = ? AND id = ?`, tenant, id))
	if err != nil {
		return nil, mapErr(err, userWhat(tenant, id))
	}
	return u, nil
}

// UserByUsername returns the user with exactly this username in the tenant.
func (s *Store) UserByUsername(ctx context.Context, tenant, username string) (*storage.User, error) {
	u, err := scanUser(s.read.QueryRowContext(ctx,
		usersTable.selectSQL()+` WHERE tenant_id = ? AND username = ?`, tenant, username))
	if err != nil {
		return nil, mapErr(err, fmt.Sprintf("tenant %q: username %q", tenant, username))
	}
	return u, nil
}

// ListUsers returns the tenant's users ordered by username.
func (s *Store) ListUsers(ctx context.Context, tenant string) ([]*storage.User, error) {
	what := fmt.Sprintf("tenant %q: list users", tenant)
	rows, err := s.read.QueryContext(ctx,
		usersTable.selectSQL()+` WHERE tenant_id = ? ORDER BY username`, tenant)
	if err != nil {
		return nil, mapErr(err, what)
	}
	defer rows.Close()
	var out []*storage.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, mapErr(err, what)
		}
		out = append(out, u)
	}
	return out, mapErr(rows.Err(), what)
}

// UpdateUser applies update to the stored user in one transaction. Changing
// the username to one that is taken returns ErrAlreadyExists; the tenant and
// ID cannot be changed.
func (s *Store) UpdateUser(ctx context.Context, tenant, id string, update func(*storage.User) error) (*storage.User, error) {
	what := userWhat(tenant, id)
	var out *storage.User
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		u, err := getUser(ctx, tx, tenant, id)
		if err != nil {
			return err
		}
		if err := update(u); err != nil {
			return err
		}
		if u.TenantID != tenant || u.ID != id {
			return fmt.Errorf("%s: update must not change the tenant or ID", what)
		}
		if u.Username == "" {
			return fmt.Errorf("%s: username must not be empty", what)
		}
		args, err := userArgs(u)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, usersTable.updateSQL(), usersTable.updateArgs(args)...)
		if err != nil {
			return mapErr(err, what)
		}
		out = u
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteUser removes one user with their consents and revokes their
// grants, in one transaction; ErrNotFound if there is none. Sessions are
// not touched: callers end them with DeleteUserSessions.
func (s *Store) DeleteUser(ctx context.Context, tenant, id string) error {
	what := userWhat(tenant, id)
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM users WHERE tenant_id = ? AND id = ?`, tenant, id)
		if err != nil {
			return mapErr(err, what)
		}
		if err := requireAffected(res, what); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM consents WHERE tenant_id = ? AND user_id = ?`, tenant, id); err != nil {
			return mapErr(err, what)
		}
		_, err = tx.ExecContext(ctx, `UPDATE grants SET revoked_at = ?
			WHERE tenant_id = ? AND user_id = ? AND revoked_at IS NULL`, encTime(time.Now()), tenant, id)
		return mapErr(err, what)
	})
}

func consentWhat(tenant, userID, clientID string) string {
	return fmt.Sprintf("tenant %q: consent of user %q to client %q", tenant, userID, clientID)
}

// Consent returns the scopes the user granted the client so far.
func (s *Store) Consent(ctx context.Context, tenant, userID, clientID string) (*storage.Consent, error) {
	return getConsent(ctx, s.read, tenant, userID, clientID)
}

func getConsent(ctx context.Context, q querier, tenant, userID, clientID string) (*storage.Consent, error) {
	c := storage.Consent{TenantID: tenant, UserID: userID, ClientID: clientID}
	err := q.QueryRowContext(ctx, `SELECT scopes, updated_at FROM consents
		WHERE tenant_id = ? AND user_id = ? AND client_id = ?`, tenant, userID, clientID).
		Scan(listCol{&c.Scopes}, timeCol{&c.UpdatedAt})
	if err != nil {
		return nil, mapErr(err, consentWhat(tenant, userID, clientID))
	}
	return &c, nil
}

// GrantConsent adds c.Scopes to what the user granted the client (a union,
// earlier scopes first) and sets UpdatedAt to c.UpdatedAt.
func (s *Store) GrantConsent(ctx context.Context, c *storage.Consent) error {
	if c == nil {
		return errors.New("consent: nil")
	}
	what := consentWhat(c.TenantID, c.UserID, c.ClientID)
	if err := requireKeys(what, c.TenantID, c.UserID, c.ClientID); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var scopes []string
		old, err := getConsent(ctx, tx, c.TenantID, c.UserID, c.ClientID)
		switch {
		case err == nil:
			scopes = old.Scopes
		case !errors.Is(err, storage.ErrNotFound):
			return err
		}
		for _, sc := range c.Scopes {
			if !slices.Contains(scopes, sc) {
				scopes = append(scopes, sc)
			}
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO consents (tenant_id, user_id, client_id, scopes, updated_at)
			VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (tenant_id, user_id, client_id)
			DO UPDATE SET scopes = excluded.scopes, updated_at = excluded.updated_at`,
			c.TenantID, c.UserID, c.ClientID, list(scopes), encTime(c.UpdatedAt))
		return mapErr(err, what)
	})
}

// RevokeConsent forgets what the user granted the client. Revoking a consent
// that does not exist is not an error.
func (s *Store) RevokeConsent(ctx context.Context, tenant, userID, clientID string) error {
	what := consentWhat(tenant, userID, clientID)
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx,
			`DELETE FROM consents WHERE tenant_id = ? AND user_id = ? AND client_id = ?`, tenant, userID, clientID); err != nil {
			return mapErr(err, what)
		}
		// The grants made on that consent end with it.
		_, err := tx.ExecContext(ctx, `UPDATE grants SET revoked_at = ?
			WHERE tenant_id = ? AND user_id = ? AND client_id = ? AND revoked_at IS NULL`,
			encTime(time.Now()), tenant, userID, clientID)
		return mapErr(err, what)
	})
}

// ListUserConsents returns every consent of the user, ordered by client ID.
func (s *Store) ListUserConsents(ctx context.Context, tenant, userID string) ([]*storage.Consent, error) {
	what := fmt.Sprintf("tenant %q: consents of user %q", tenant, userID)
	rows, err := s.read.QueryContext(ctx, `SELECT client_id, scopes, updated_at FROM consents
		WHERE tenant_id = ? AND user_id = ? ORDER BY client_id`, tenant, userID)
	if err != nil {
		return nil, mapErr(err, what)
	}
	defer rows.Close()
	var out []*storage.Consent
	for rows.Next() {
		c := storage.Consent{TenantID: tenant, UserID: userID}
		if err := rows.Scan(&c.ClientID, listCol{&c.Scopes}, timeCol{&c.UpdatedAt}); err != nil {
			return nil, mapErr(err, what)
		}
		out = append(out, &c)
	}
	return out, mapErr(rows.Err(), what)
}

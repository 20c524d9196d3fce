package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/herald-idp/herald/storage"
)

var users = record[storage.User]{
	table: table{name: "users", keys: 2, cols: []string{
		"tenant_id", "id", "username", "email", "email_verified", "name", "given_name",
		"family_name", "password_hash", "attributes", "disabled", "created_at", "updated_at"}},
	scan: func(sc scanner) (*storage.User, error) {
		var u storage.User
		err := sc.Scan(&u.TenantID, &u.ID, &u.Username, &u.Email, &u.EmailVerified, &u.Name,
			&u.GivenName, &u.FamilyName, &u.PasswordHash, &u.Attributes, &u.Disabled,
			timeCol{&u.CreatedAt}, timeCol{&u.UpdatedAt})
		if err != nil {
			return nil, err
		}
		return &u, nil
	},
	args: func(u *storage.User) []any {
		return []any{u.TenantID, u.ID, u.Username, u.Email, u.EmailVerified, u.Name,
			u.GivenName, u.FamilyName, u.PasswordHash, jsonObject(u.Attributes), u.Disabled, u.CreatedAt, u.UpdatedAt}
	},
}

func userWhat(tenant, id string) string {
	return fmt.Sprintf("tenant %q: user %q", tenant, id)
}

// CreateUser stores u; ErrAlreadyExists if its ID or username is taken in
// the tenant (UNIQUE (tenant_id, username)).
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
	return users.insert(ctx, s, what, u)
}

// User returns one user of the tenant by ID (the OIDC subject).
func (s *Store) User(ctx context.Context, tenant, id string) (*storage.User, error) {
	return users.get(ctx, s, userWhat(tenant, id),
		users.table.selectSQL()+` WHERE tenant_id = $1 AND id = $2`, tenant, id)
}

// UserByUsername returns the user with exactly this username in the tenant.
func (s *Store) UserByUsername(ctx context.Context, tenant, username string) (*storage.User, error) {
	return users.get(ctx, s, fmt.Sprintf("tenant %q: username %q", tenant, username),
		users.table.selectSQL()+` WHERE tenant_id = $1 AND username = $2`, tenant, username)
}

// ListUsers returns the tenant's users ordered by username.
func (s *Store) ListUsers(ctx context.Context, tenant string) ([]*storage.User, error) {
	return users.list(ctx, s, fmt.Sprintf("tenant %q: list users", tenant),
		users.table.selectSQL()+` WHERE tenant_id = $1 ORDER BY username`, tenant)
}

// UpdateUser applies update to the locked row in one transaction. Changing
// the username to one that is taken returns ErrAlreadyExists; the tenant and
// ID cannot be changed.
func (s *Store) UpdateUser(ctx context.Context, tenant, id string, update func(*storage.User) error) (*storage.User, error) {
	what := userWhat(tenant, id)
	return users.update(ctx, s, what, users.table.selectForUpdateSQL(), []any{tenant, id}, update,
		func(u *storage.User) error {
			if u.TenantID != tenant || u.ID != id {
				return fmt.Errorf("%s: update must not change the tenant or ID", what)
			}
			if u.Username == "" {
				return fmt.Errorf("%s: username must not be empty", what)
			}
			return nil
		})
}

// DeleteUser removes one user; ErrNotFound if there is none. The user's
// sessions, tokens and consents are not touched: callers end sessions with
// DeleteUserSessions.
func (s *Store) DeleteUser(ctx context.Context, tenant, id string) error {
	what := userWhat(tenant, id)
	return s.inTx(ctx, what, func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM users WHERE tenant_id = $1 AND id = $2`, tenant, id)
		if err != nil {
			return mapErr(err, what)
		}
		if err := requireAffected(tag, what); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM consents WHERE tenant_id = $1 AND user_id = $2`, tenant, id); err != nil {
			return mapErr(err, what)
		}
		_, err = tx.Exec(ctx, `UPDATE grants SET revoked_at = $1
			WHERE tenant_id = $2 AND user_id = $3 AND revoked_at IS NULL`, time.Now(), tenant, id)
		return mapErr(err, what)
	})
}

func consentWhat(tenant, userID, clientID string) string {
	return fmt.Sprintf("tenant %q: consent of user %q to client %q", tenant, userID, clientID)
}

// Consent returns the scopes the user granted the client so far.
func (s *Store) Consent(ctx context.Context, tenant, userID, clientID string) (*storage.Consent, error) {
	what := consentWhat(tenant, userID, clientID)
	c := storage.Consent{TenantID: tenant, UserID: userID, ClientID: clientID}
	err := s.run(ctx, what, func(ctx context.Context, q querier) error {
		err := q.QueryRow(ctx, `SELECT scopes, updated_at FROM consents
			WHERE tenant_id = $1 AND user_id = $2 AND client_id = $3`, tenant, userID, clientID).
			Scan(&c.Scopes, timeCol{&c.UpdatedAt})
		return mapErr(err, what)
	})
	if err != nil {
		return nil, err
	}
	lists(&c.Scopes)
	return &c, nil
}

// GrantConsent adds c.Scopes to what the user granted the client (a union,
// earlier scopes first) and sets UpdatedAt to c.UpdatedAt. One upsert: the
// conflicting row is locked while the union is computed, so concurrent
// grants cannot lose each other's scopes.
func (s *Store) GrantConsent(ctx context.Context, c *storage.Consent) error {
	if c == nil {
		return errors.New("consent: nil")
	}
	what := consentWhat(c.TenantID, c.UserID, c.ClientID)
	if err := requireKeys(what, c.TenantID, c.UserID, c.ClientID); err != nil {
		return err
	}
	var scopes []string
	for _, sc := range c.Scopes {
		if !slices.Contains(scopes, sc) {
			scopes = append(scopes, sc)
		}
	}
	return s.run(ctx, what, func(ctx context.Context, q querier) error {
		_, err := q.Exec(ctx, `INSERT INTO consents (tenant_id, user_id, client_id, scopes, updated_at)
			VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (tenant_id, user_id, client_id) DO UPDATE SET
				scopes = consents.scopes || ARRAY(
					SELECT n.scope FROM unnest(excluded.scopes) WITH ORDINALITY AS n(scope, pos)
					WHERE n.scope <> ALL (consents.scopes) ORDER BY n.pos),
				updated_at = excluded.updated_at`,
			c.TenantID, c.UserID, c.ClientID, list(scopes), c.UpdatedAt)
		return mapErr(err, what)
	})
}

// RevokeConsent forgets what the user granted the client. Revoking a consent
// that does not exist is not an error.
func (s *Store) RevokeConsent(ctx context.Context, tenant, userID, clientID string) error {
	what := consentWhat(tenant, userID, clientID)
	return s.inTx(ctx, what, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM consents WHERE tenant_id = $1 AND user_id = $2 AND client_id = $3`,
			tenant, userID, clientID); err != nil {
			return mapErr(err, what)
		}
		// The grants made on that consent end with it.
		_, err := tx.Exec(ctx, `UPDATE grants SET revoked_at = $1
			WHERE tenant_id = $2 AND user_id = $3 AND client_id = $4 AND revoked_at IS NULL`,
			time.Now(), tenant, userID, clientID)
		return mapErr(err, what)
	})
}

// ListUserConsents returns every consent of the user, ordered by client ID.
func (s *Store) ListUserConsents(ctx context.Context, tenant, userID string) ([]*storage.Consent, error) {
	what := fmt.Sprintf("tenant %q: consents of user %q", tenant, userID)
	var out []*storage.Consent
	err := s.run(ctx, what, func(ctx context.Context, q querier) error {
		out = nil
		rows, err := q.Query(ctx, `SELECT client_id, scopes, updated_at FROM consents
			WHERE tenant_id = $1 AND user_id = $2 ORDER BY client_id`, tenant, userID)
		if err != nil {
			return mapErr(err, what)
		}
		defer rows.Close()
		for rows.Next() {
			c := storage.Consent{TenantID: tenant, UserID: userID}
			if err := rows.Scan(&c.ClientID, &c.Scopes, timeCol{&c.UpdatedAt}); err != nil {
				return mapErr(err, what)
			}
			lists(&c.Scopes)
			out = append(out, &c)
		}
		return mapErr(rows.Err(), what)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/herald-idp/herald/storage"
)

var _ storage.Connectors = (*Store)(nil)

// Connectors returns the upstream identity providers; *Store implements it.
func (s *Store) Connectors() storage.Connectors { return s }

var connectorsTable = table{name: "connectors", keys: 2, cols: []string{
	"tenant_id", "id", "type", "display_name", "issuer", "client_id", "client_secret",
	"scopes", "claim_mapping", "jit_create", "link_by_email", "disabled", "created_at", "updated_at"}}

func scanConnector(sc scanner) (*storage.Connector, error) {
	var c storage.Connector
	err := sc.Scan(&c.TenantID, &c.ID, &c.Type, &c.DisplayName, &c.Issuer, &c.ClientID, &c.ClientSecret,
		listCol{&c.Scopes}, jsonCol{&c.ClaimMapping}, &c.JITCreate, &c.LinkByEmail, &c.Disabled,
		timeCol{&c.CreatedAt}, timeCol{&c.UpdatedAt})
	if err != nil {
		return nil, err
	}
	return &c, nil
}

func connectorArgs(c *storage.Connector) ([]any, error) {
	var mapping any
	if len(c.ClaimMapping) > 0 {
		b, err := json.Marshal(c.ClaimMapping)
		if err != nil {
			return nil, fmt.Errorf("%s: claim mapping: %w", connectorWhat(c.TenantID, c.ID), err)
		}
		mapping = string(b)
	}
	var secret any
	if len(c.ClientSecret) > 0 {
		secret = c.ClientSecret
	}
	return []any{c.TenantID, c.ID, c.Type, c.DisplayName, c.Issuer, c.ClientID, secret,
		list(c.Scopes), mapping, c.JITCreate, c.LinkByEmail, c.Disabled,
		encTime(c.CreatedAt), encTime(c.UpdatedAt)}, nil
}

func connectorWhat(tenant, id string) string {
	return fmt.Sprintf("tenant %q: connector %q", tenant, id)
}

// CreateConnector stores c; ErrAlreadyExists if the ID is taken.
func (s *Store) CreateConnector(ctx context.Context, c *storage.Connector) error {
	if c == nil {
		return errors.New("connector: nil")
	}
	what := connectorWhat(c.TenantID, c.ID)
	if err := requireKeys(what, c.TenantID, c.ID); err != nil {
		return err
	}
	args, err := connectorArgs(c)
	if err != nil {
		return err
	}
	_, err = s.write.ExecContext(ctx, connectorsTable.insertSQL(), args...)
	return mapErr(err, what)
}

func getConnector(ctx context.Context, q querier, tenant, id string) (*storage.Connector, error) {
	c, err := scanConnector(q.QueryRowContext(ctx,
		connectorsTable.selectSQL()+` WHERE tenant_id = ? AND id = ?`, tenant, id))
	if err != nil {
		return nil, mapErr(err, connectorWhat(tenant, id))
	}
	return c, nil
}

// Connector returns one connector of the tenant.
func (s *Store) Connector(ctx context.Context, tenant, id string) (*storage.Connector, error) {
	return getConnector(ctx, s.read, tenant, id)
}

// ListConnectors returns the tenant's connectors ordered by ID.
func (s *Store) ListConnectors(ctx context.Context, tenant string) ([]*storage.Connector, error) {
	what := fmt.Sprintf("tenant %q: list connectors", tenant)
	rows, err := s.read.QueryContext(ctx,
		connectorsTable.selectSQL()+` WHERE tenant_id = ? ORDER BY id`, tenant)
	if err != nil {
		return nil, mapErr(err, what)
	}
	defer rows.Close()
	var out []*storage.Connector
	for rows.Next() {
		c, err := scanConnector(rows)
		if err != nil {
			return nil, mapErr(err, what)
		}
		out = append(out, c)
	}
	return out, mapErr(rows.Err(), what)
}

// UpdateConnector applies update in one transaction; the tenant and ID
// cannot change.
func (s *Store) UpdateConnector(ctx context.Context, tenant, id string, update func(*storage.Connector) error) (*storage.Connector, error) {
	what := connectorWhat(tenant, id)
	var out *storage.Connector
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		c, err := getConnector(ctx, tx, tenant, id)
		if err != nil {
			return err
		}
		if err := update(c); err != nil {
			return err
		}
		if c.TenantID != tenant || c.ID != id {
			return fmt.Errorf("%s: update must not change the tenant or ID", what)
		}
		args, err := connectorArgs(c)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, connectorsTable.updateSQL(), connectorsTable.updateArgs(args)...); err != nil {
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

// DeleteConnector removes the connector; its links cascade.
func (s *Store) DeleteConnector(ctx context.Context, tenant, id string) error {
	what := connectorWhat(tenant, id)
	res, err := s.write.ExecContext(ctx, `DELETE FROM connectors WHERE tenant_id = ? AND id = ?`, tenant, id)
	if err != nil {
		return mapErr(err, what)
	}
	return requireAffected(res, what)
}

var userLinksTable = table{name: "user_links", keys: 3, cols: []string{
	"tenant_id", "connector_id", "subject", "user_id", "created_at"}}

func scanUserLink(sc scanner) (*storage.UserLink, error) {
	var l storage.UserLink
	if err := sc.Scan(&l.TenantID, &l.ConnectorID, &l.Subject, &l.UserID, timeCol{&l.CreatedAt}); err != nil {
		return nil, err
	}
	return &l, nil
}

func userLinkWhat(tenant, connector string) string {
	// The upstream subject is personal data: it stays out of errors.
	return fmt.Sprintf("tenant %q: link of connector %q", tenant, connector)
}

// CreateUserLink stores l; ErrAlreadyExists if the upstream account is
// linked already, ErrNotFound for an unknown connector or user.
func (s *Store) CreateUserLink(ctx context.Context, l *storage.UserLink) error {
	if l == nil {
		return errors.New("user link: nil")
	}
	what := userLinkWhat(l.TenantID, l.ConnectorID)
	if err := requireKeys(what, l.TenantID, l.ConnectorID, l.Subject, l.UserID); err != nil {
		return err
	}
	_, err := s.write.ExecContext(ctx, userLinksTable.insertSQL(),
		l.TenantID, l.ConnectorID, l.Subject, l.UserID, encTime(l.CreatedAt))
	return mapErr(err, what)
}

// UserLink returns the link of one upstream account.
func (s *Store) UserLink(ctx context.Context, tenant, connectorID, subject string) (*storage.UserLink, error) {
	l, err := scanUserLink(s.read.QueryRowContext(ctx, userLinksTable.selectSQL()+
		` WHERE tenant_id = ? AND connector_id = ? AND subject = ?`, tenant, connectorID, subject))
	if err != nil {
		return nil, mapErr(err, userLinkWhat(tenant, connectorID))
	}
	return l, nil
}

// ListUserLinks returns the user's links.
func (s *Store) ListUserLinks(ctx context.Context, tenant, userID string) ([]*storage.UserLink, error) {
	what := fmt.Sprintf("tenant %q: links of user %q", tenant, userID)
	rows, err := s.read.QueryContext(ctx, userLinksTable.selectSQL()+
		` WHERE tenant_id = ? AND user_id = ? ORDER BY connector_id, subject`, tenant, userID)
	if err != nil {
		return nil, mapErr(err, what)
	}
	defer rows.Close()
	var out []*storage.UserLink
	for rows.Next() {
		l, err := scanUserLink(rows)
		if err != nil {
			return nil, mapErr(err, what)
		}
		out = append(out, l)
	}
	return out, mapErr(rows.Err(), what)
}

// DeleteUserLink removes one link; ErrNotFound if there is none.
func (s *Store) DeleteUserLink(ctx context.Context, tenant, connectorID, subject string) error {
	what := userLinkWhat(tenant, connectorID)
	res, err := s.write.ExecContext(ctx, `DELETE FROM user_links
		WHERE tenant_id = ? AND connector_id = ? AND subject = ?`, tenant, connectorID, subject)
	if err != nil {
		return mapErr(err, what)
	}
	return requireAffected(res, what)
}

var upstreamStatesTable = table{name: "upstream_states", keys: 2, cols: []string{
	"tenant_id", "state_hash", "connector_id", "auth_request_id", "nonce", "code_verifier",
	"created_at", "expires_at"}}

// CreateUpstreamState stores a pending upstream sign-in.
func (s *Store) CreateUpstreamState(ctx context.Context, st *storage.UpstreamState) error {
	if st == nil {
		return errors.New("upstream state: nil")
	}
	what := fmt.Sprintf("tenant %q: upstream state", st.TenantID)
	if err := requireKeys(what, st.TenantID, st.StateHash); err != nil {
		return err
	}
	_, err := s.write.ExecContext(ctx, upstreamStatesTable.insertSQL(), st.TenantID, st.StateHash,
		st.ConnectorID, st.AuthRequestID, st.Nonce, st.CodeVerifier, encTime(st.CreatedAt), encTime(st.ExpiresAt))
	return mapErr(err, what)
}

// ConsumeUpstreamState deletes and returns the state in one statement
// (DELETE … RETURNING), so that exactly one caller gets it.
func (s *Store) ConsumeUpstreamState(ctx context.Context, tenant, stateHash string, now time.Time) (*storage.UpstreamState, error) {
	what := fmt.Sprintf("tenant %q: upstream state", tenant)
	var st storage.UpstreamState
	err := s.write.QueryRowContext(ctx, `DELETE FROM upstream_states
		WHERE tenant_id = ? AND state_hash = ? RETURNING `+upstreamStatesTable.columns(), tenant, stateHash).
		Scan(&st.TenantID, &st.StateHash, &st.ConnectorID, &st.AuthRequestID, &st.Nonce, &st.CodeVerifier,
			timeCol{&st.CreatedAt}, timeCol{&st.ExpiresAt})
	if err != nil {
		return nil, mapErr(err, what)
	}
	if !now.Before(st.ExpiresAt) {
		return nil, fmt.Errorf("%s: expired: %w", what, storage.ErrNotFound)
	}
	return &st, nil
}

// UsersByEmail returns the users whose e-mail matches, case-insensitively.
func (s *Store) UsersByEmail(ctx context.Context, tenant, email string) ([]*storage.User, error) {
	what := fmt.Sprintf("tenant %q: users by e-mail", tenant)
	rows, err := s.read.QueryContext(ctx, usersTable.selectSQL()+
		` WHERE tenant_id = ? AND email <> '' AND lower(email) = lower(?) ORDER BY id`, tenant, email)
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

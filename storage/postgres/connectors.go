package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/herald-idp/herald/storage"
)

var _ storage.Connectors = (*Store)(nil)

// Connectors returns the upstream identity providers; *Store implements it.
func (s *Store) Connectors() storage.Connectors { return s }

var connectors = record[storage.Connector]{
	table: table{name: "connectors", keys: 2, cols: []string{
		"tenant_id", "id", "type", "display_name", "issuer", "client_id", "client_secret",
		"scopes", "claim_mapping", "jit_create", "link_by_email", "disabled", "created_at", "updated_at"}},
	scan: func(sc scanner) (*storage.Connector, error) {
		var c storage.Connector
		err := sc.Scan(&c.TenantID, &c.ID, &c.Type, &c.DisplayName, &c.Issuer, &c.ClientID, &c.ClientSecret,
			&c.Scopes, &c.ClaimMapping, &c.JITCreate, &c.LinkByEmail, &c.Disabled,
			timeCol{&c.CreatedAt}, timeCol{&c.UpdatedAt})
		if err != nil {
			return nil, err
		}
		lists(&c.Scopes)
		return &c, nil
	},
	args: func(c *storage.Connector) []any {
		mapping := make(jsonObject, len(c.ClaimMapping))
		for k, v := range c.ClaimMapping {
			mapping[k] = v
		}
		var secret []byte
		if len(c.ClientSecret) > 0 {
			secret = c.ClientSecret
		}
		return []any{c.TenantID, c.ID, c.Type, c.DisplayName, c.Issuer, c.ClientID, secret,
			list(c.Scopes), mapping, c.JITCreate, c.LinkByEmail, c.Disabled, c.CreatedAt, c.UpdatedAt}
	},
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
	return connectors.insert(ctx, s, what, c)
}

// Connector returns one connector of the tenant.
func (s *Store) Connector(ctx context.Context, tenant, id string) (*storage.Connector, error) {
	return connectors.get(ctx, s, connectorWhat(tenant, id),
		connectors.table.selectSQL()+` WHERE tenant_id = $1 AND id = $2`, tenant, id)
}

// ListConnectors returns the tenant's connectors ordered by ID.
func (s *Store) ListConnectors(ctx context.Context, tenant string) ([]*storage.Connector, error) {
	return connectors.list(ctx, s, fmt.Sprintf("tenant %q: list connectors", tenant),
		connectors.table.selectSQL()+` WHERE tenant_id = $1 ORDER BY id`, tenant)
}

// UpdateConnector applies update to the locked row; the tenant and ID
// cannot change.
func (s *Store) UpdateConnector(ctx context.Context, tenant, id string, update func(*storage.Connector) error) (*storage.Connector, error) {
	what := connectorWhat(tenant, id)
	return connectors.update(ctx, s, what, connectors.table.selectForUpdateSQL(), []any{tenant, id}, update,
		func(c *storage.Connector) error {
			if c.TenantID != tenant || c.ID != id {
				return fmt.Errorf("%s: update must not change the tenant or ID", what)
			}
			return nil
		})
}

// DeleteConnector removes the connector; its links cascade.
func (s *Store) DeleteConnector(ctx context.Context, tenant, id string) error {
	what := connectorWhat(tenant, id)
	return s.run(ctx, what, func(ctx context.Context, q querier) error {
		tag, err := q.Exec(ctx, `DELETE FROM connectors WHERE tenant_id = $1 AND id = $2`, tenant, id)
		if err != nil {
			return mapErr(err, what)
		}
		return requireAffected(tag, what)
	})
}

var userLinks = record[storage.UserLink]{
	table: table{name: "user_links", keys: 3, cols: []string{
		"tenant_id", "connector_id", "subject", "user_id", "created_at"}},
	scan: func(sc scanner) (*storage.UserLink, error) {
		var l storage.UserLink
		if err := sc.Scan(&l.TenantID, &l.ConnectorID, &l.Subject, &l.UserID, timeCol{&l.CreatedAt}); err != nil {
			return nil, err
		}
		return &l, nil
	},
	args: func(l *storage.UserLink) []any {
		return []any{l.TenantID, l.ConnectorID, l.Subject, l.UserID, l.CreatedAt}
	},
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
	return userLinks.insert(ctx, s, what, l)
}

// UserLink returns the link of one upstream account.
func (s *Store) UserLink(ctx context.Context, tenant, connectorID, subject string) (*storage.UserLink, error) {
	return userLinks.get(ctx, s, userLinkWhat(tenant, connectorID), userLinks.table.selectSQL()+
		` WHERE tenant_id = $1 AND connector_id = $2 AND subject = $3`, tenant, connectorID, subject)
}

// ListUserLinks returns the user's links.
func (s *Store) ListUserLinks(ctx context.Context, tenant, userID string) ([]*storage.UserLink, error) {
	return userLinks.list(ctx, s, fmt.Sprintf("tenant %q: links of user %q", tenant, userID),
		userLinks.table.selectSQL()+` WHERE tenant_id = $1 AND user_id = $2 ORDER BY connector_id, subject`,
		tenant, userID)
}

// DeleteUserLink removes one link; ErrNotFound if there is none.
func (s *Store) DeleteUserLink(ctx context.Context, tenant, connectorID, subject string) error {
	what := userLinkWhat(tenant, connectorID)
	return s.run(ctx, what, func(ctx context.Context, q querier) error {
		tag, err := q.Exec(ctx, `DELETE FROM user_links
			WHERE tenant_id = $1 AND connector_id = $2 AND subject = $3`, tenant, connectorID, subject)
		if err != nil {
			return mapErr(err, what)
		}
		return requireAffected(tag, what)
	})
}

var upstreamStates = record[storage.UpstreamState]{
	table: table{name: "upstream_states", keys: 2, cols: []string{
		"tenant_id", "state_hash", "connector_id", "auth_request_id", "nonce", "code_verifier",
		"created_at", "expires_at"}},
	scan: func(sc scanner) (*storage.UpstreamState, error) {
		var st storage.UpstreamState
		err := sc.Scan(&st.TenantID, &st.StateHash, &st.ConnectorID, &st.AuthRequestID, &st.Nonce,
			&st.CodeVerifier, timeCol{&st.CreatedAt}, timeCol{&st.ExpiresAt})
		if err != nil {
			return nil, err
		}
		return &st, nil
	},
	args: func(st *storage.UpstreamState) []any {
		return []any{st.TenantID, st.StateHash, st.ConnectorID, st.AuthRequestID, st.Nonce,
			st.CodeVerifier, st.CreatedAt, st.ExpiresAt}
	},
}

// CreateUpstreamState stores a pending upstream sign-in.
func (s *Store) CreateUpstreamState(ctx context.Context, st *storage.UpstreamState) error {
	if st == nil {
		return errors.New("upstream state: nil")
	}
	what := fmt.Sprintf("tenant %q: upstream state", st.TenantID)
	if err := requireKeys(what, st.TenantID, st.StateHash); err != nil {
		return err
	}
	return upstreamStates.insert(ctx, s, what, st)
}

// ConsumeUpstreamState deletes and returns the state in one statement
// (DELETE … RETURNING), so that exactly one caller gets it.
func (s *Store) ConsumeUpstreamState(ctx context.Context, tenant, stateHash string, now time.Time) (*storage.UpstreamState, error) {
	what := fmt.Sprintf("tenant %q: upstream state", tenant)
	st, err := upstreamStates.get(ctx, s, what, `DELETE FROM upstream_states
		WHERE tenant_id = $1 AND state_hash = $2 RETURNING `+upstreamStates.table.columns(), tenant, stateHash)
	if err != nil {
		return nil, err
	}
	if !now.Before(st.ExpiresAt) {
		return nil, fmt.Errorf("%s: expired: %w", what, storage.ErrNotFound)
	}
	return st, nil
}

// UsersByEmail returns the users whose e-mail matches, case-insensitively.
func (s *Store) UsersByEmail(ctx context.Context, tenant, email string) ([]*storage.User, error) {
	return users.list(ctx, s, fmt.Sprintf("tenant %q: users by e-mail", tenant), users.table.selectSQL()+
		` WHERE tenant_id = $1 AND email <> '' AND lower(email) = lower($2) ORDER BY id`, tenant, email)
}

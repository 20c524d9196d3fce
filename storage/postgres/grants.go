package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/herald-idp/herald/storage"
)

var grants = record[storage.Grant]{
	table: table{name: "grants", keys: 2, cols: []string{
		"tenant_id", "id", "kind", "client_id", "client_uid", "user_id", "session_id",
		"issuer", "scopes", "created_at", "expires_at", "revoked_at"}},
	scan: func(sc scanner) (*storage.Grant, error) {
		var g storage.Grant
		err := sc.Scan(&g.TenantID, &g.ID, &g.Kind, &g.ClientID, &g.ClientUID, &g.UserID,
			&g.SessionID, &g.Issuer, &g.Scopes, timeCol{&g.CreatedAt},
			timeCol{&g.ExpiresAt}, nullTimeCol{&g.RevokedAt})
		if err != nil {
			return nil, err
		}
		lists(&g.Scopes)
		return &g, nil
	},
	args: func(g *storage.Grant) []any {
		return []any{g.TenantID, g.ID, g.Kind, g.ClientID, g.ClientUID, g.UserID,
			g.SessionID, g.Issuer, list(g.Scopes), g.CreatedAt, g.ExpiresAt, optTimePtr(g.RevokedAt)}
	},
}

// Grant IDs stay out of error messages: they are in tokens and need not be
// in logs.
func grantWhat(tenant string) string { return fmt.Sprintf("tenant %q: grant", tenant) }

// liveGrantSQL is true for a row of token table tbl whose grant is live at
// the parameter nowParam.
func liveGrantSQL(tbl, nowParam string) string {
	return ` AND EXISTS (SELECT 1 FROM grants g WHERE g.tenant_id = ` + tbl + `.tenant_id
		AND g.id = ` + tbl + `.grant_id AND g.revoked_at IS NULL AND g.expires_at > ` + nowParam + `)`
}

// CreateGrant stores g; ErrAlreadyExists if the ID is taken, tombstones of
// revoked-before-created grants included.
func (s *Store) CreateGrant(ctx context.Context, g *storage.Grant) error {
	if g == nil {
		return errors.New("grant: nil")
	}
	what := grantWhat(g.TenantID)
	if err := requireKeys(what, g.TenantID, g.ID); err != nil {
		return err
	}
	return grants.insert(ctx, s, what, g)
}

// Grant returns a grant, revoked or not.
func (s *Store) Grant(ctx context.Context, tenant, id string) (*storage.Grant, error) {
	return grants.get(ctx, s, grantWhat(tenant),
		grants.table.selectSQL()+` WHERE tenant_id = $1 AND id = $2`, tenant, id)
}

// RevokeGrant is one upsert: it revokes the grant, or stores a tombstone
// for a grant not created yet. Its row lock orders it with the FOR SHARE
// check of IssueTokens and RotateRefreshToken.
func (s *Store) RevokeGrant(ctx context.Context, tenant, id string, now time.Time) error {
	what := grantWhat(tenant)
	if err := requireKeys(what, tenant, id); err != nil {
		return err
	}
	return s.run(ctx, what, func(ctx context.Context, q querier) error {
		_, err := q.Exec(ctx, `INSERT INTO grants (tenant_id, id, created_at, expires_at, revoked_at)
			VALUES ($1, $2, $3, $4, $3)
			ON CONFLICT (tenant_id, id) DO UPDATE SET revoked_at = COALESCE(grants.revoked_at, excluded.revoked_at)`,
			tenant, id, now, now.Add(storage.GrantTombstoneLifetime))
		return mapErr(err, what)
	})
}

func (s *Store) revokeWhere(ctx context.Context, tenant, col, val string, now time.Time) error {
	what := fmt.Sprintf("%s: revoke by %s", grantWhat(tenant), col)
	if val == "" {
		// An empty key would match every grant that lacks one.
		return fmt.Errorf("%s: empty %s", what, col)
	}
	return s.run(ctx, what, func(ctx context.Context, q querier) error {
		_, err := q.Exec(ctx, `UPDATE grants SET revoked_at = $1
			WHERE tenant_id = $2 AND `+col+` = $3 AND revoked_at IS NULL`, now, tenant, val)
		return mapErr(err, what)
	})
}

// RevokeUserGrants revokes every grant of the user in one statement.
func (s *Store) RevokeUserGrants(ctx context.Context, tenant, userID string, now time.Time) error {
	return s.revokeWhere(ctx, tenant, "user_id", userID, now)
}

// RevokeClientGrants revokes every grant of the client ID in one statement.
func (s *Store) RevokeClientGrants(ctx context.Context, tenant, clientID string, now time.Time) error {
	return s.revokeWhere(ctx, tenant, "client_id", clientID, now)
}

// RevokeSessionGrants revokes the grants bound to the session.
func (s *Store) RevokeSessionGrants(ctx context.Context, tenant, sessionID string, now time.Time) error {
	return s.revokeWhere(ctx, tenant, "session_id", sessionID, now)
}

// RevokeUserGrantsExcept revokes every grant of the user not bound to
// keepSessionID in one statement.
func (s *Store) RevokeUserGrantsExcept(ctx context.Context, tenant, userID, keepSessionID string, now time.Time) error {
	what := fmt.Sprintf("%s: revoke by user_id except a session", grantWhat(tenant))
	if userID == "" || keepSessionID == "" {
		return fmt.Errorf("%s: empty user or session ID", what)
	}
	return s.run(ctx, what, func(ctx context.Context, q querier) error {
		_, err := q.Exec(ctx, `UPDATE grants SET revoked_at = $1
			WHERE tenant_id = $2 AND user_id = $3 AND session_id <> $4 AND revoked_at IS NULL`,
			now, tenant, userID, keepSessionID)
		return mapErr(err, what)
	})
}

// requireLiveGrant fails with ErrRevoked unless the grant is live at now.
// FOR SHARE holds the row until the transaction ends: a concurrent
// RevokeGrant waits for the commit (and the token it made dies with the
// grant), or committed before and is seen here (READ COMMITTED re-reads the
// newest version of a locked row).
func requireLiveGrant(ctx context.Context, tx pgx.Tx, tenant, id string, now time.Time) error {
	what := grantWhat(tenant)
	var revoked bool
	var expiresAt time.Time
	err := tx.QueryRow(ctx, `SELECT revoked_at IS NOT NULL, expires_at FROM grants
		WHERE tenant_id = $1 AND id = $2 FOR SHARE`, tenant, id).Scan(&revoked, &expiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, storage.ErrRevoked)
	}
	if err != nil {
		return mapErr(err, what)
	}
	if revoked || !now.Before(expiresAt) {
		return fmt.Errorf("%s: %w", what, storage.ErrRevoked)
	}
	return nil
}

package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/herald-idp/herald/storage"
)

var grantsTable = table{name: "grants", keys: 2, cols: []string{
	"tenant_id", "id", "kind", "client_id", "client_uid", "user_id", "session_id",
	"issuer", "scopes", "created_at", "expires_at", "revoked_at"}}

func scanGrant(sc scanner) (*storage.Grant, error) {
	var g storage.Grant
	err := sc.Scan(&g.TenantID, &g.ID, &g.Kind, &g.ClientID, &g.ClientUID, &g.UserID,
		&g.SessionID, &g.Issuer, listCol{&g.Scopes}, timeCol{&g.CreatedAt},
		timeCol{&g.ExpiresAt}, nullTimeCol{&g.RevokedAt})
	if err != nil {
		return nil, err
	}
	return &g, nil
}

func grantArgs(g *storage.Grant) []any {
	return []any{g.TenantID, g.ID, g.Kind, g.ClientID, g.ClientUID, g.UserID,
		g.SessionID, g.Issuer, list(g.Scopes), encTime(g.CreatedAt),
		encTime(g.ExpiresAt), encTimePtr(g.RevokedAt)}
}

// Grant IDs stay out of error messages: they are not secrets, but they
// are in tokens and need not be in logs.
func grantWhat(tenant string) string { return fmt.Sprintf("tenant %q: grant", tenant) }

// liveGrantSQL is true for a row of a token table (named tbl) whose grant
// is live at the parameter ?N.
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
	_, err := s.write.ExecContext(ctx, grantsTable.insertSQL(), grantArgs(g)...)
	return mapErr(err, what)
}

// Grant returns a grant, revoked or not.
func (s *Store) Grant(ctx context.Context, tenant, id string) (*storage.Grant, error) {
	g, err := scanGrant(s.hot.queryRow(ctx, grantsTable.selectSQL()+
		` WHERE tenant_id = ? AND id = ?`, tenant, id))
	if err != nil {
		return nil, mapErr(err, grantWhat(tenant))
	}
	return g, nil
}

// RevokeGrant is one upsert: it revokes the grant, or stores a tombstone
// for a grant not created yet.
func (s *Store) RevokeGrant(ctx context.Context, tenant, id string, now time.Time) error {
	what := grantWhat(tenant)
	if err := requireKeys(what, tenant, id); err != nil {
		return err
	}
	n := encTime(now)
	_, err := s.write.ExecContext(ctx, `INSERT INTO grants (tenant_id, id, created_at, expires_at, revoked_at)
		VALUES (?1, ?2, ?3, ?4, ?3)
		ON CONFLICT (tenant_id, id) DO UPDATE SET revoked_at = COALESCE(grants.revoked_at, excluded.revoked_at)`,
		tenant, id, n, encTime(now.Add(storage.GrantTombstoneLifetime)))
	return mapErr(err, what)
}

func (s *Store) revokeWhere(ctx context.Context, tenant, col, val string, now time.Time) error {
	what := fmt.Sprintf("%s: revoke by %s", grantWhat(tenant), col)
	if val == "" {
		// An empty key would match every grant that lacks one.
		return fmt.Errorf("%s: empty %s", what, col)
	}
	_, err := s.write.ExecContext(ctx, `UPDATE grants SET revoked_at = ?
		WHERE tenant_id = ? AND `+col+` = ? AND revoked_at IS NULL`, encTime(now), tenant, val)
	return mapErr(err, what)
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
	_, err := s.write.ExecContext(ctx, `UPDATE grants SET revoked_at = ?
		WHERE tenant_id = ? AND user_id = ? AND session_id <> ? AND revoked_at IS NULL`,
		encTime(now), tenant, userID, keepSessionID)
	return mapErr(err, what)
}

const liveGrantCheckSQL = `SELECT 1 FROM grants WHERE tenant_id = ? AND id = ?
		AND revoked_at IS NULL AND expires_at > ?`

// requireLiveGrant fails with ErrRevoked unless the grant is live at now.
// Inside a write transaction on the single writer connection, nothing can
// revoke it before the transaction commits.
func requireLiveGrant(ctx context.Context, tx rowExecer, tenant, id string, now time.Time) error {
	what := grantWhat(tenant)
	var one int
	err := tx.QueryRowContext(ctx, liveGrantCheckSQL, tenant, id, encTime(now)).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, storage.ErrRevoked)
	}
	return mapErr(err, what)
}

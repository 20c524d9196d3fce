package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/herald-idp/herald/storage"
)

var accessTokensTable = table{name: "access_tokens", keys: 2, cols: []string{
	"tenant_id", "id", "grant_id", "client_id", "subject", "audience", "scopes",
	"created_at", "expires_at"}}

var refreshTokensTable = table{name: "refresh_tokens", keys: 2, cols: []string{
	"tenant_id", "id", "grant_id", "client_id", "user_id", "session_id", "audience",
	"scopes", "auth_time", "amr", "created_at", "expires_at", "used_at"}}

func scanAccessToken(sc scanner) (*storage.AccessToken, error) {
	var t storage.AccessToken
	err := sc.Scan(&t.TenantID, &t.ID, &t.GrantID, &t.ClientID, &t.Subject,
		listCol{&t.Audience}, listCol{&t.Scopes}, timeCol{&t.CreatedAt}, timeCol{&t.ExpiresAt})
	if err != nil {
		return nil, err
	}
	return &t, nil
}

func accessTokenArgs(t *storage.AccessToken) []any {
	return []any{t.TenantID, t.ID, t.GrantID, t.ClientID, t.Subject,
		list(t.Audience), list(t.Scopes), encTime(t.CreatedAt), encTime(t.ExpiresAt)}
}

func scanRefreshToken(sc scanner) (*storage.RefreshToken, error) {
	var t storage.RefreshToken
	err := sc.Scan(&t.TenantID, &t.ID, &t.GrantID, &t.ClientID, &t.UserID, &t.SessionID,
		listCol{&t.Audience}, listCol{&t.Scopes}, timeCol{&t.AuthTime}, listCol{&t.AMR},
		timeCol{&t.CreatedAt}, timeCol{&t.ExpiresAt}, nullTimeCol{&t.UsedAt})
	if err != nil {
		return nil, err
	}
	return &t, nil
}

func refreshTokenArgs(t *storage.RefreshToken) []any {
	return []any{t.TenantID, t.ID, t.GrantID, t.ClientID, t.UserID, t.SessionID,
		list(t.Audience), list(t.Scopes), encTime(t.AuthTime), list(t.AMR),
		encTime(t.CreatedAt), encTime(t.ExpiresAt), encTimePtr(t.UsedAt)}
}

// Token IDs stay out of error messages: a refresh token ID is the hash of
// a bearer credential and an access token ID identifies a live one.
func accessTokenWhat(tenant string) string  { return fmt.Sprintf("tenant %q: access token", tenant) }
func refreshTokenWhat(tenant string) string { return fmt.Sprintf("tenant %q: refresh token", tenant) }

// insertTokens stores at and rt (either may be nil) inside tx, after
// checking that their grants are live.
//
// liveGrant names a grant the transaction has already found live (the
// rotated token's), whose check is not repeated.
func insertTokens(ctx context.Context, tx rowExecer, at *storage.AccessToken, rt *storage.RefreshToken, liveGrant string) error {
	if at != nil {
		what := accessTokenWhat(at.TenantID)
		if err := requireKeys(what, at.TenantID, at.ID, at.GrantID); err != nil {
			return err
		}
		if at.GrantID != liveGrant {
			if err := requireLiveGrant(ctx, tx, at.TenantID, at.GrantID, at.CreatedAt); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, accessTokensTable.insertSQL(), accessTokenArgs(at)...); err != nil {
			return mapErr(err, what)
		}
	}
	if rt != nil {
		what := refreshTokenWhat(rt.TenantID)
		if err := requireKeys(what, rt.TenantID, rt.ID, rt.GrantID); err != nil {
			return err
		}
		if (at == nil || at.GrantID != rt.GrantID) && rt.GrantID != liveGrant {
			if err := requireLiveGrant(ctx, tx, rt.TenantID, rt.GrantID, rt.CreatedAt); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, refreshTokensTable.insertSQL(), refreshTokenArgs(rt)...); err != nil {
			return mapErr(err, what)
		}
	}
	return nil
}

// IssueTokens stores an access token and, if rt is not nil, a refresh
// token, in one transaction: a failure stores neither.
func (s *Store) IssueTokens(ctx context.Context, at *storage.AccessToken, rt *storage.RefreshToken) error {
	if at == nil && rt == nil {
		return errors.New("issue tokens: no token given")
	}
	return s.inTx(ctx, func(tx *sql.Tx) error { return insertTokens(ctx, hotTx{tx, s.hotW}, at, rt, "") })
}

// AccessToken returns an opaque access token that is not expired at now and
// whose grant is live.
func (s *Store) AccessToken(ctx context.Context, tenant, id string, now time.Time) (*storage.AccessToken, error) {
	t, err := scanAccessToken(s.hot.queryRow(ctx, accessTokensTable.selectSQL()+
		` WHERE tenant_id = ?1 AND id = ?2 AND expires_at > ?3`+liveGrantSQL("access_tokens", "?3"),
		tenant, id, encTime(now)))
	if err != nil {
		return nil, mapErr(err, accessTokenWhat(tenant))
	}
	return t, nil
}

// RefreshToken returns an unexpired refresh token of a live grant, used or
// not, so that the caller can detect reuse (RFC 9700 §4.14.2).
func (s *Store) RefreshToken(ctx context.Context, tenant, id string, now time.Time) (*storage.RefreshToken, error) {
	t, err := scanRefreshToken(s.hot.queryRow(ctx, refreshTokensTable.selectSQL()+
		` WHERE tenant_id = ?1 AND id = ?2 AND expires_at > ?3`+liveGrantSQL("refresh_tokens", "?3"),
		tenant, id, encTime(now)))
	if err != nil {
		return nil, mapErr(err, refreshTokenWhat(tenant))
	}
	return t, nil
}

// The statements of RotateRefreshToken (prepared once, stmts.go).
const (
	rotateSelectSQL = `SELECT grant_id, used_at FROM refresh_tokens
			WHERE tenant_id = ? AND id = ? AND expires_at > ?`
	// rotateSQL is the usual rotation in one statement: the token unused
	// and unexpired, its grant live. When it matches no row, the
	// statement above and the grant check find out why.
	rotateSQL = `UPDATE refresh_tokens SET used_at = ?1
			WHERE tenant_id = ?2 AND id = ?3 AND used_at IS NULL AND expires_at > ?1
			AND EXISTS (SELECT 1 FROM grants g WHERE g.tenant_id = ?2 AND g.id = refresh_tokens.grant_id
				AND g.revoked_at IS NULL AND g.expires_at > ?1)
			RETURNING grant_id`
)

// RotateRefreshToken marks oldID used and stores its successors in one
// transaction. The conditional UPDATE (used_at IS NULL) runs on the single
// writer connection, so of concurrent rotations exactly one matches a row;
// the others store nothing and get ErrAlreadyUsed. A grant revoked before
// the transaction gives ErrRevoked; unknown or expired tokens ErrNotFound.
func (s *Store) RotateRefreshToken(ctx context.Context, tenant, oldID string, now time.Time, at *storage.AccessToken, rt *storage.RefreshToken) error {
	what := refreshTokenWhat(tenant)
	n := encTime(now)
	return s.inTx(ctx, func(sqlTx *sql.Tx) error {
		tx := hotTx{sqlTx, s.hotW}
		var grantID string
		err := tx.QueryRowContext(ctx, rotateSQL, n, tenant, oldID).Scan(&grantID)
		switch {
		case err == nil:
			if at == nil && rt == nil {
				return nil
			}
			return insertTokens(ctx, tx, at, rt, grantID)
		case !errors.Is(err, sql.ErrNoRows):
			return mapErr(err, what)
		}
		// Nothing rotated: unknown or expired, grant not live, or used —
		// told apart in that order, in the same transaction. rotateSQL's
		// conditions are these three, on the single writer: one of them
		// holds.
		var used sql.NullInt64
		err = tx.QueryRowContext(ctx, rotateSelectSQL, tenant, oldID, n).Scan(&grantID, &used)
		if err != nil {
			return mapErr(err, what)
		}
		if err := requireLiveGrant(ctx, tx, tenant, grantID, now); err != nil {
			return err
		}
		return fmt.Errorf("%s: %w", what, storage.ErrAlreadyUsed)
	})
}

package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/herald-idp/herald/storage"
)

var accessTokens = record[storage.AccessToken]{
	table: table{name: "access_tokens", keys: 2, cols: []string{
		"tenant_id", "id", "grant_id", "client_id", "subject", "audience", "scopes",
		"created_at", "expires_at"}},
	scan: func(sc scanner) (*storage.AccessToken, error) {
		var t storage.AccessToken
		err := sc.Scan(&t.TenantID, &t.ID, &t.GrantID, &t.ClientID, &t.Subject,
			&t.Audience, &t.Scopes, timeCol{&t.CreatedAt}, timeCol{&t.ExpiresAt})
		if err != nil {
			return nil, err
		}
		lists(&t.Audience, &t.Scopes)
		return &t, nil
	},
	args: func(t *storage.AccessToken) []any {
		return []any{t.TenantID, t.ID, t.GrantID, t.ClientID, t.Subject,
			list(t.Audience), list(t.Scopes), t.CreatedAt, t.ExpiresAt}
	},
}

var refreshTokens = record[storage.RefreshToken]{
	table: table{name: "refresh_tokens", keys: 2, cols: []string{
		"tenant_id", "id", "grant_id", "client_id", "user_id", "session_id", "audience",
		"scopes", "auth_time", "amr", "created_at", "expires_at", "used_at"}},
	scan: func(sc scanner) (*storage.RefreshToken, error) {
		var t storage.RefreshToken
		err := sc.Scan(&t.TenantID, &t.ID, &t.GrantID, &t.ClientID, &t.UserID, &t.SessionID,
			&t.Audience, &t.Scopes, timeCol{&t.AuthTime}, &t.AMR,
			timeCol{&t.CreatedAt}, timeCol{&t.ExpiresAt}, nullTimeCol{&t.UsedAt})
		if err != nil {
			return nil, err
		}
		lists(&t.Audience, &t.Scopes, &t.AMR)
		return &t, nil
	},
	args: func(t *storage.RefreshToken) []any {
		return []any{t.TenantID, t.ID, t.GrantID, t.ClientID, t.UserID, t.SessionID,
			list(t.Audience), list(t.Scopes), optTime(t.AuthTime), list(t.AMR),
			t.CreatedAt, t.ExpiresAt, optTimePtr(t.UsedAt)}
	},
}

// Token IDs stay out of error messages: a refresh token ID is the hash of
// a bearer credential and an access token ID identifies a live one.
func accessTokenWhat(tenant string) string  { return fmt.Sprintf("tenant %q: access token", tenant) }
func refreshTokenWhat(tenant string) string { return fmt.Sprintf("tenant %q: refresh token", tenant) }

// insertTokens stores at and rt (either may be nil) inside tx, after
// checking (and share-locking) their grant.
//
// liveGrant names a grant the transaction has already found live and
// locked (the rotated token's), whose check is not repeated.
func insertTokens(ctx context.Context, tx pgx.Tx, at *storage.AccessToken, rt *storage.RefreshToken, liveGrant string) error {
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
		if _, err := tx.Exec(ctx, accessTokens.table.insertSQL(), accessTokens.args(at)...); err != nil {
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
		if _, err := tx.Exec(ctx, refreshTokens.table.insertSQL(), refreshTokens.args(rt)...); err != nil {
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
	var what string
	if at != nil {
		what = accessTokenWhat(at.TenantID)
	} else {
		what = refreshTokenWhat(rt.TenantID)
	}
	return s.inTx(ctx, what, func(ctx context.Context, tx pgx.Tx) error {
		return insertTokens(ctx, tx, at, rt, "")
	})
}

// AccessToken returns an opaque access token that is not expired at now and
// whose grant is live.
func (s *Store) AccessToken(ctx context.Context, tenant, id string, now time.Time) (*storage.AccessToken, error) {
	return accessTokens.get(ctx, s, accessTokenWhat(tenant), accessTokens.table.selectSQL()+
		` WHERE tenant_id = $1 AND id = $2 AND expires_at > $3`+liveGrantSQL("access_tokens", "$3"), tenant, id, now)
}

// RefreshToken returns an unexpired refresh token of a live grant, used or
// not, so that the caller can detect reuse (RFC 9700 §4.14.2).
func (s *Store) RefreshToken(ctx context.Context, tenant, id string, now time.Time) (*storage.RefreshToken, error) {
	return refreshTokens.get(ctx, s, refreshTokenWhat(tenant), refreshTokens.table.selectSQL()+
		` WHERE tenant_id = $1 AND id = $2 AND expires_at > $3`+liveGrantSQL("refresh_tokens", "$3"), tenant, id, now)
}

// RotateRefreshToken marks oldID used and stores its successors in one
// transaction. SELECT ... FOR UPDATE takes the token's row lock: concurrent
// rotations wait for it and then find the token used, so exactly one
// succeeds; the others store nothing and get ErrAlreadyUsed. The grant is
// share-locked and checked in the same transaction (ErrRevoked). Unknown or
// expired tokens give ErrNotFound.
//
// The usual rotation — a live token succeeded by a refresh token of the
// same grant, no opaque access token — is one statement (rotateSQL): one
// round trip instead of six. It takes the same locks in the same order
// (the grant's share lock, then the token's row lock through its UPDATE),
// so it races rotations and revocations exactly as the transaction does.
// When it rotates nothing, the transaction below runs and says why.
func (s *Store) RotateRefreshToken(ctx context.Context, tenant, oldID string, now time.Time, at *storage.AccessToken, rt *storage.RefreshToken) error {
	what := refreshTokenWhat(tenant)
	if at == nil && rt != nil && rt.TenantID == tenant {
		if err := requireKeys(what, rt.TenantID, rt.ID, rt.GrantID); err != nil {
			return err
		}
		rotated := false
		err := s.run(ctx, what, func(ctx context.Context, q querier) error {
			tag, err := q.Exec(ctx, rotateSQL, append(refreshTokens.args(rt), oldID, now)...)
			rotated = err == nil && tag.RowsAffected() == 1
			return mapErr(err, what)
		})
		if err != nil || rotated {
			return err
		}
	}
	return s.inTx(ctx, what, func(ctx context.Context, tx pgx.Tx) error {
		var grantID string
		var usedAt *time.Time
		err := tx.QueryRow(ctx, `SELECT grant_id, used_at FROM refresh_tokens
			WHERE tenant_id = $1 AND id = $2 AND expires_at > $3 FOR UPDATE`, tenant, oldID, now).
			Scan(&grantID, nullTimeCol{&usedAt})
		if err != nil {
			return mapErr(err, what)
		}
		if err := requireLiveGrant(ctx, tx, tenant, grantID, now); err != nil {
			return err
		}
		if usedAt != nil {
			return fmt.Errorf("%s: %w", what, storage.ErrAlreadyUsed)
		}
		if _, err := tx.Exec(ctx, `UPDATE refresh_tokens SET used_at = $1
			WHERE tenant_id = $2 AND id = $3`, now, tenant, oldID); err != nil {
			return mapErr(err, what)
		}
		if at == nil && rt == nil {
			return nil
		}
		return insertTokens(ctx, tx, at, rt, grantID)
	})
}

// rotateSQL is RotateRefreshToken's usual case in one statement. $1…$13
// are the new token's columns (refreshTokens.args; $1 its tenant, $3 its
// grant), $14 the old token's ID, $15 now. The casts give the INSERT …
// SELECT's parameters their columns' types.
var rotateSQL = `WITH live AS (
		SELECT 1 FROM grants WHERE tenant_id = $1 AND id = $3 AND revoked_at IS NULL AND expires_at > $15 FOR SHARE
	), old AS (
		UPDATE refresh_tokens SET used_at = $15
		WHERE tenant_id = $1 AND id = $14 AND grant_id = $3 AND used_at IS NULL AND expires_at > $15
			AND EXISTS (SELECT 1 FROM live)
		RETURNING 1
	)
	INSERT INTO refresh_tokens (` + refreshTokens.table.columns() + `)
	SELECT $1::text, $2::text, $3::text, $4::text, $5::text, $6::text, $7::text[], $8::text[],
		$9::timestamptz, $10::text[], $11::timestamptz, $12::timestamptz, $13::timestamptz FROM old`

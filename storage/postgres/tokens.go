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

// insertTokens stores at and rt (either may be nil) inside tx.
func insertTokens(ctx context.Context, tx pgx.Tx, at *storage.AccessToken, rt *storage.RefreshToken) error {
	if at != nil {
		what := accessTokenWhat(at.TenantID)
		if err := requireKeys(what, at.TenantID, at.ID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, accessTokens.table.insertSQL(), accessTokens.args(at)...); err != nil {
			return mapErr(err, what)
		}
	}
	if rt != nil {
		what := refreshTokenWhat(rt.TenantID)
		if err := requireKeys(what, rt.TenantID, rt.ID); err != nil {
			return err
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
		return insertTokens(ctx, tx, at, rt)
	})
}

// AccessToken returns an access token that is neither revoked (deleted) nor
// expired at now.
func (s *Store) AccessToken(ctx context.Context, tenant, id string, now time.Time) (*storage.AccessToken, error) {
	return accessTokens.get(ctx, s, accessTokenWhat(tenant), accessTokens.table.selectSQL()+
		` WHERE tenant_id = $1 AND id = $2 AND expires_at > $3`, tenant, id, now)
}

// RevokeAccessToken deletes one access token; revoking an unknown token is
// not an error (RFC 7009 §2.2 answers 200 for it anyway).
func (s *Store) RevokeAccessToken(ctx context.Context, tenant, id string) error {
	what := accessTokenWhat(tenant)
	return s.run(ctx, what, func(ctx context.Context, q querier) error {
		_, err := q.Exec(ctx, `DELETE FROM access_tokens WHERE tenant_id = $1 AND id = $2`, tenant, id)
		return mapErr(err, what)
	})
}

// RefreshToken returns an unexpired refresh token, used or not, so that the
// caller can detect reuse (RFC 9700 §4.14.2).
func (s *Store) RefreshToken(ctx context.Context, tenant, id string, now time.Time) (*storage.RefreshToken, error) {
	return refreshTokens.get(ctx, s, refreshTokenWhat(tenant), refreshTokens.table.selectSQL()+
		` WHERE tenant_id = $1 AND id = $2 AND expires_at > $3`, tenant, id, now)
}

// RotateRefreshToken marks oldID used and stores its successors in one
// transaction. The conditional UPDATE (used_at IS NULL) takes the row lock;
// concurrent rotations wait for it and then find the token used, so exactly
// one matches a row. The others store nothing and get ErrAlreadyUsed; a
// failed insert of a successor rolls the marking back. Unknown, revoked or
// expired tokens give ErrNotFound.
func (s *Store) RotateRefreshToken(ctx context.Context, tenant, oldID string, now time.Time, at *storage.AccessToken, rt *storage.RefreshToken) error {
	what := refreshTokenWhat(tenant)
	return s.inTx(ctx, what, func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE refresh_tokens SET used_at = $1
			WHERE tenant_id = $2 AND id = $3 AND used_at IS NULL AND expires_at > $1`, now, tenant, oldID)
		if err != nil {
			return mapErr(err, what)
		}
		if tag.RowsAffected() == 0 {
			// READ COMMITTED: this statement sees the winner's commit.
			var usedAt *time.Time
			err := tx.QueryRow(ctx, `SELECT used_at FROM refresh_tokens
				WHERE tenant_id = $1 AND id = $2 AND expires_at > $3`, tenant, oldID, now).
				Scan(nullTimeCol{&usedAt})
			if err != nil {
				return mapErr(err, what)
			}
			if usedAt != nil {
				return fmt.Errorf("%s: %w", what, storage.ErrAlreadyUsed)
			}
			// Inserted after our UPDATE looked: it was not there to rotate.
			return fmt.Errorf("%s: %w", what, storage.ErrNotFound)
		}
		return insertTokens(ctx, tx, at, rt)
	})
}

// RevokeGrant deletes every access and refresh token of the grant, in one
// transaction (RFC 6749 §4.1.2 on code reuse, RFC 9700 §4.14.2 on refresh
// token reuse).
func (s *Store) RevokeGrant(ctx context.Context, tenant, grantID string) error {
	what := fmt.Sprintf("tenant %q: revoke grant %q", tenant, grantID)
	if grantID == "" {
		// client_credentials tokens have no grant; never revoke them all.
		return fmt.Errorf("%s: grant ID must not be empty", what)
	}
	return s.inTx(ctx, what, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx,
			`DELETE FROM access_tokens WHERE tenant_id = $1 AND grant_id = $2`, tenant, grantID); err != nil {
			return mapErr(err, what)
		}
		_, err := tx.Exec(ctx,
			`DELETE FROM refresh_tokens WHERE tenant_id = $1 AND grant_id = $2`, tenant, grantID)
		return mapErr(err, what)
	})
}

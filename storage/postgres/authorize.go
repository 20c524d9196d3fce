package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/herald-idp/herald/storage"
)

var authRequests = record[storage.AuthRequest]{
	table: table{name: "auth_requests", keys: 2, cols: []string{
		"tenant_id", "id", "client_id", "redirect_uri", "scopes", "state", "nonce",
		"response_type", "response_mode", "code_challenge", "code_challenge_method", "prompt",
		"max_age", "login_hint", "hint_subject", "user_id", "session_id", "auth_time", "amr",
		"created_at", "expires_at", "required_acr"}},
	scan: func(sc scanner) (*storage.AuthRequest, error) {
		var r storage.AuthRequest
		err := sc.Scan(&r.TenantID, &r.ID, &r.ClientID, &r.RedirectURI, &r.Scopes,
			&r.State, &r.Nonce, &r.ResponseType, &r.ResponseMode, &r.CodeChallenge,
			&r.CodeChallengeMethod, &r.Prompt, &r.MaxAge, &r.LoginHint, &r.HintSubject,
			&r.UserID, &r.SessionID, timeCol{&r.AuthTime}, &r.AMR,
			timeCol{&r.CreatedAt}, timeCol{&r.ExpiresAt}, &r.RequiredACR)
		if err != nil {
			return nil, err
		}
		lists(&r.Scopes, &r.Prompt, &r.AMR)
		return &r, nil
	},
	args: func(r *storage.AuthRequest) []any {
		return []any{r.TenantID, r.ID, r.ClientID, r.RedirectURI, list(r.Scopes),
			r.State, r.Nonce, r.ResponseType, r.ResponseMode, r.CodeChallenge,
			r.CodeChallengeMethod, list(r.Prompt), r.MaxAge, r.LoginHint, r.HintSubject,
			r.UserID, r.SessionID, optTime(r.AuthTime), list(r.AMR),
			r.CreatedAt, r.ExpiresAt, r.RequiredACR}
	},
}

func authRequestWhat(tenant, id string) string {
	return fmt.Sprintf("tenant %q: auth request %q", tenant, id)
}

// CreateAuthRequest stores r; ErrAlreadyExists if the ID is taken.
func (s *Store) CreateAuthRequest(ctx context.Context, r *storage.AuthRequest) error {
	if r == nil {
		return errors.New("auth request: nil")
	}
	what := authRequestWhat(r.TenantID, r.ID)
	if err := requireKeys(what, r.TenantID, r.ID); err != nil {
		return err
	}
	return authRequests.insert(ctx, s, what, r)
}

// AuthRequest returns an authorization request that has not expired by the
// wall clock (of this process, not the database server's).
func (s *Store) AuthRequest(ctx context.Context, tenant, id string) (*storage.AuthRequest, error) {
	return authRequests.get(ctx, s, authRequestWhat(tenant, id), authRequests.table.selectSQL()+
		` WHERE tenant_id = $1 AND id = $2 AND expires_at > $3`, tenant, id, time.Now())
}

// UpdateAuthRequest applies update to an unexpired request, locked, in one
// transaction (after login: user, session, auth time). The tenant and ID
// cannot be changed.
func (s *Store) UpdateAuthRequest(ctx context.Context, tenant, id string, update func(*storage.AuthRequest) error) (*storage.AuthRequest, error) {
	what := authRequestWhat(tenant, id)
	return authRequests.update(ctx, s, what, authRequests.table.selectSQL()+
		` WHERE tenant_id = $1 AND id = $2 AND expires_at > $3 FOR UPDATE`,
		[]any{tenant, id, time.Now()}, update,
		func(r *storage.AuthRequest) error {
			if r.TenantID != tenant || r.ID != id {
				return fmt.Errorf("%s: update must not change the tenant or ID", what)
			}
			return nil
		})
}

// DeleteAuthRequest removes a request; deleting an absent one is not an
// error (zitadel deletes after the code was issued, possibly twice).
func (s *Store) DeleteAuthRequest(ctx context.Context, tenant, id string) error {
	what := authRequestWhat(tenant, id)
	return s.run(ctx, what, func(ctx context.Context, q querier) error {
		_, err := q.Exec(ctx, `DELETE FROM auth_requests WHERE tenant_id = $1 AND id = $2`, tenant, id)
		return mapErr(err, what)
	})
}

// ConsumeAuthRequest deletes and returns the request in one statement
// (DELETE ... RETURNING): of concurrent callers exactly one deletes the row.
func (s *Store) ConsumeAuthRequest(ctx context.Context, tenant, id string) (*storage.AuthRequest, error) {
	return authRequests.get(ctx, s, authRequestWhat(tenant, id), `DELETE FROM auth_requests
		WHERE tenant_id = $1 AND id = $2 AND expires_at > $3 RETURNING `+authRequests.table.columns(),
		tenant, id, time.Now())
}

var authCodes = record[storage.AuthCode]{
	table: table{name: "auth_codes", keys: 2, cols: []string{
		"tenant_id", "code_hash", "grant_id", "client_id", "redirect_uri", "user_id",
		"session_id", "scopes", "nonce", "code_challenge", "code_challenge_method",
		"auth_time", "amr", "created_at", "expires_at", "used_at", "issuer"}},
	scan: func(sc scanner) (*storage.AuthCode, error) {
		var c storage.AuthCode
		err := sc.Scan(&c.TenantID, &c.CodeHash, &c.GrantID, &c.ClientID, &c.RedirectURI,
			&c.UserID, &c.SessionID, &c.Scopes, &c.Nonce, &c.CodeChallenge,
			&c.CodeChallengeMethod, timeCol{&c.AuthTime}, &c.AMR,
			timeCol{&c.CreatedAt}, timeCol{&c.ExpiresAt}, nullTimeCol{&c.UsedAt}, &c.Issuer)
		if err != nil {
			return nil, err
		}
		lists(&c.Scopes, &c.AMR)
		return &c, nil
	},
	args: func(c *storage.AuthCode) []any {
		return []any{c.TenantID, c.CodeHash, c.GrantID, c.ClientID, c.RedirectURI,
			c.UserID, c.SessionID, list(c.Scopes), c.Nonce, c.CodeChallenge,
			c.CodeChallengeMethod, optTime(c.AuthTime), list(c.AMR),
			c.CreatedAt, c.ExpiresAt, optTimePtr(c.UsedAt), c.Issuer}
	},
}

// authCodeWhat names a code without its hash: errors end up in logs.
func authCodeWhat(tenant string) string {
	return fmt.Sprintf("tenant %q: authorization code", tenant)
}

// CreateAuthCode stores an issued code under its hash.
func (s *Store) CreateAuthCode(ctx context.Context, c *storage.AuthCode) error {
	if c == nil {
		return errors.New("authorization code: nil")
	}
	what := authCodeWhat(c.TenantID)
	if err := requireKeys(what, c.TenantID, c.CodeHash); err != nil {
		return err
	}
	return authCodes.insert(ctx, s, what, c)
}

// AuthCode returns an unexpired code, used or not.
func (s *Store) AuthCode(ctx context.Context, tenant, codeHash string, now time.Time) (*storage.AuthCode, error) {
	return authCodes.get(ctx, s, authCodeWhat(tenant), authCodes.table.selectSQL()+
		` WHERE tenant_id = $1 AND code_hash = $2 AND expires_at > $3`, tenant, codeHash, now)
}

// ConsumeAuthCode marks the code used and returns it. The conditional
// UPDATE ... RETURNING is one statement: concurrent callers queue on the row
// lock and PostgreSQL re-checks "used_at IS NULL" against the committed
// row, so exactly one of them gets a row (RFC 6749 §4.1.2: a code is used
// once). The others get the record with ErrAlreadyUsed, so that they can
// revoke the grant the first use produced; unknown or expired codes give
// ErrNotFound.
func (s *Store) ConsumeAuthCode(ctx context.Context, tenant, codeHash string, now time.Time) (*storage.AuthCode, error) {
	what := authCodeWhat(tenant)
	var out *storage.AuthCode
	err := s.run(ctx, what, func(ctx context.Context, q querier) error {
		c, err := authCodes.scan(q.QueryRow(ctx, `UPDATE auth_codes SET used_at = $1
			WHERE tenant_id = $2 AND code_hash = $3 AND used_at IS NULL AND expires_at > $1
			RETURNING `+authCodes.table.columns(), now, tenant, codeHash))
		if err == nil {
			out = c
			return nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return mapErr(err, what)
		}
		// Nothing updated: tell a used code from an unknown or expired one.
		// This statement sees every commit up to now, the winner's included.
		c, err = authCodes.scan(q.QueryRow(ctx, authCodes.table.selectSQL()+
			` WHERE tenant_id = $1 AND code_hash = $2 AND expires_at > $3`, tenant, codeHash, now))
		if err != nil {
			return mapErr(err, what)
		}
		if c.UsedAt == nil {
			// Created after our UPDATE looked: it was not there to consume.
			return fmt.Errorf("%s: %w", what, storage.ErrNotFound)
		}
		out = c
		return fmt.Errorf("%s: %w", what, storage.ErrAlreadyUsed)
	})
	return out, err
}

package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/herald-idp/herald/storage"
)

var authRequestsTable = table{name: "auth_requests", keys: 2, cols: []string{
	"tenant_id", "id", "client_id", "redirect_uri", "scopes", "state", "nonce",
	"response_type", "response_mode", "code_challenge", "code_challenge_method", "prompt",
	"max_age", "login_hint", "hint_subject", "user_id", "session_id", "auth_time", "amr",
	"created_at", "expires_at", "required_acr"}}

func scanAuthRequest(sc scanner) (*storage.AuthRequest, error) {
	var r storage.AuthRequest
	var maxAge sql.NullInt64
	err := sc.Scan(&r.TenantID, &r.ID, &r.ClientID, &r.RedirectURI, listCol{&r.Scopes},
		&r.State, &r.Nonce, &r.ResponseType, &r.ResponseMode, &r.CodeChallenge,
		&r.CodeChallengeMethod, listCol{&r.Prompt}, &maxAge, &r.LoginHint, &r.HintSubject,
		&r.UserID, &r.SessionID, timeCol{&r.AuthTime}, listCol{&r.AMR},
		timeCol{&r.CreatedAt}, timeCol{&r.ExpiresAt}, &r.RequiredACR)
	if err != nil {
		return nil, err
	}
	if maxAge.Valid {
		r.MaxAge = &maxAge.Int64
	}
	return &r, nil
}

// authRequestArgs lists r's column values in authRequestsTable order.
func authRequestArgs(r *storage.AuthRequest) []any {
	var maxAge any
	if r.MaxAge != nil {
		maxAge = *r.MaxAge
	}
	return []any{r.TenantID, r.ID, r.ClientID, r.RedirectURI, list(r.Scopes),
		r.State, r.Nonce, r.ResponseType, r.ResponseMode, r.CodeChallenge,
		r.CodeChallengeMethod, list(r.Prompt), maxAge, r.LoginHint, r.HintSubject,
		r.UserID, r.SessionID, encTime(r.AuthTime), list(r.AMR),
		encTime(r.CreatedAt), encTime(r.ExpiresAt), r.RequiredACR}
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
	_, err := s.write.ExecContext(ctx, authRequestsTable.insertSQL(), authRequestArgs(r)...)
	return mapErr(err, what)
}

// AuthRequest returns an unexpired authorization request.
func (s *Store) AuthRequest(ctx context.Context, tenant, id string) (*storage.AuthRequest, error) {
	return getAuthRequest(ctx, s.read, tenant, id, time.Now())
}

// getAuthRequest treats a request expired at now as absent.
func getAuthRequest(ctx context.Context, q querier, tenant, id string, now time.Time) (*storage.AuthRequest, error) {
	r, err := scanAuthRequest(q.QueryRowContext(ctx, authRequestsTable.selectSQL()+
		` WHERE tenant_id = ? AND id = ? AND expires_at > ?`, tenant, id, encTime(now)))
	if err != nil {
		return nil, mapErr(err, authRequestWhat(tenant, id))
	}
	return r, nil
}

// UpdateAuthRequest applies update to an unexpired request in one
// transaction (after login: user, session, auth time). The tenant and ID
// cannot be changed.
func (s *Store) UpdateAuthRequest(ctx context.Context, tenant, id string, update func(*storage.AuthRequest) error) (*storage.AuthRequest, error) {
	what := authRequestWhat(tenant, id)
	var out *storage.AuthRequest
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		r, err := getAuthRequest(ctx, tx, tenant, id, time.Now())
		if err != nil {
			return err
		}
		if err := update(r); err != nil {
			return err
		}
		if r.TenantID != tenant || r.ID != id {
			return fmt.Errorf("%s: update must not change the tenant or ID", what)
		}
		_, err = tx.ExecContext(ctx, authRequestsTable.updateSQL(),
			authRequestsTable.updateArgs(authRequestArgs(r))...)
		if err != nil {
			return mapErr(err, what)
		}
		out = r
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteAuthRequest removes a request; deleting an absent one is not an
// error (zitadel deletes after the code was issued, possibly twice).
func (s *Store) DeleteAuthRequest(ctx context.Context, tenant, id string) error {
	_, err := s.write.ExecContext(ctx,
		`DELETE FROM auth_requests WHERE tenant_id = ? AND id = ?`, tenant, id)
	return mapErr(err, authRequestWhat(tenant, id))
}

// ConsumeAuthRequest deletes and returns the request in one statement
// (DELETE ... RETURNING on the single writer connection): of concurrent
// callers exactly one gets it.
func (s *Store) ConsumeAuthRequest(ctx context.Context, tenant, id string) (*storage.AuthRequest, error) {
	what := authRequestWhat(tenant, id)
	r, err := scanAuthRequest(s.write.QueryRowContext(ctx, `DELETE FROM auth_requests
		WHERE tenant_id = ? AND id = ? AND expires_at > ? RETURNING `+authRequestsTable.columns(),
		tenant, id, encTime(time.Now())))
	if err != nil {
		return nil, mapErr(err, what)
	}
	return r, nil
}

var authCodesTable = table{name: "auth_codes", keys: 2, cols: []string{
	"tenant_id", "code_hash", "grant_id", "client_id", "redirect_uri", "user_id",
	"session_id", "scopes", "nonce", "code_challenge", "code_challenge_method",
	"auth_time", "amr", "created_at", "expires_at", "used_at", "issuer"}}

func scanAuthCode(sc scanner) (*storage.AuthCode, error) {
	var c storage.AuthCode
	err := sc.Scan(&c.TenantID, &c.CodeHash, &c.GrantID, &c.ClientID, &c.RedirectURI,
		&c.UserID, &c.SessionID, listCol{&c.Scopes}, &c.Nonce, &c.CodeChallenge,
		&c.CodeChallengeMethod, timeCol{&c.AuthTime}, listCol{&c.AMR},
		timeCol{&c.CreatedAt}, timeCol{&c.ExpiresAt}, nullTimeCol{&c.UsedAt}, &c.Issuer)
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// authCodeArgs lists c's column values in authCodesTable order.
func authCodeArgs(c *storage.AuthCode) []any {
	return []any{c.TenantID, c.CodeHash, c.GrantID, c.ClientID, c.RedirectURI,
		c.UserID, c.SessionID, list(c.Scopes), c.Nonce, c.CodeChallenge,
		c.CodeChallengeMethod, encTime(c.AuthTime), list(c.AMR),
		encTime(c.CreatedAt), encTime(c.ExpiresAt), encTimePtr(c.UsedAt), c.Issuer}
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
	_, err := s.write.ExecContext(ctx, authCodesTable.insertSQL(), authCodeArgs(c)...)
	return mapErr(err, what)
}

// AuthCode returns an unexpired code, used or not.
func (s *Store) AuthCode(ctx context.Context, tenant, codeHash string, now time.Time) (*storage.AuthCode, error) {
	c, err := scanAuthCode(s.read.QueryRowContext(ctx, authCodesTable.selectSQL()+
		` WHERE tenant_id = ? AND code_hash = ? AND expires_at > ?`, tenant, codeHash, encTime(now)))
	if err != nil {
		return nil, mapErr(err, authCodeWhat(tenant))
	}
	return c, nil
}

// ConsumeAuthCode marks the code used and returns it. The conditional UPDATE
// ... RETURNING is one statement on the single writer connection, so of
// concurrent callers exactly one sees a row (RFC 6749 §4.1.2: a code is used
// once). The others get the record with ErrAlreadyUsed, so that they can
// revoke the grant the first use produced; unknown or expired codes give
// ErrNotFound.
func (s *Store) ConsumeAuthCode(ctx context.Context, tenant, codeHash string, now time.Time) (*storage.AuthCode, error) {
	what := authCodeWhat(tenant)
	n := encTime(now)
	var out *storage.AuthCode
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		c, err := scanAuthCode(tx.QueryRowContext(ctx, `UPDATE auth_codes SET used_at = ?
			WHERE tenant_id = ? AND code_hash = ? AND used_at IS NULL AND expires_at > ?
			RETURNING `+authCodesTable.columns(), n, tenant, codeHash, n))
		if err == nil {
			out = c
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return mapErr(err, what)
		}
		// Nothing updated: tell a used code from an unknown or expired one.
		c, err = scanAuthCode(tx.QueryRowContext(ctx, authCodesTable.selectSQL()+
			` WHERE tenant_id = ? AND code_hash = ? AND expires_at > ?`, tenant, codeHash, n))
		if err != nil {
			return mapErr(err, what)
		}
		if c.UsedAt == nil {
			// Cannot happen inside this transaction; never report success
			// for a code this call did not mark.
			return fmt.Errorf("%s: inconsistent state", what)
		}
		out = c
		return fmt.Errorf("%s: %w", what, storage.ErrAlreadyUsed)
	})
	return out, err
}

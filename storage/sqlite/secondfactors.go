package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/herald-idp/herald/storage"
)

var _ storage.SecondFactors = (*Store)(nil)

// SecondFactors returns the users' second factors; *Store implements them.
func (s *Store) SecondFactors() storage.SecondFactors { return s }

var secondFactorsTable = table{name: "second_factors", keys: 2, cols: []string{
	"tenant_id", "user_id", "secret", "confirmed_at", "last_used_step", "recovery_codes",
	"created_at", "updated_at"}}

func secondFactorWhat(tenant, userID string) string {
	return fmt.Sprintf("tenant %q: second factor of user %q", tenant, userID)
}

func scanSecondFactor(sc scanner) (*storage.SecondFactor, error) {
	var f storage.SecondFactor
	err := sc.Scan(&f.TenantID, &f.UserID, &f.Secret, timeCol{&f.ConfirmedAt}, &f.LastUsedStep,
		listCol{&f.RecoveryCodes}, timeCol{&f.CreatedAt}, timeCol{&f.UpdatedAt})
	if err != nil {
		return nil, err
	}
	return &f, nil
}

func getSecondFactor(ctx context.Context, q querier, tenant, userID string) (*storage.SecondFactor, error) {
	f, err := scanSecondFactor(q.QueryRowContext(ctx,
		secondFactorsTable.selectSQL()+` WHERE tenant_id = ? AND user_id = ?`, tenant, userID))
	if err != nil {
		return nil, mapErr(err, secondFactorWhat(tenant, userID))
	}
	return f, nil
}

// SecondFactor returns the user's factor, confirmed or pending.
func (s *Store) SecondFactor(ctx context.Context, tenant, userID string) (*storage.SecondFactor, error) {
	return getSecondFactor(ctx, s.read, tenant, userID)
}

// BeginSecondFactor stores a pending set-up unless a confirmed factor exists.
func (s *Store) BeginSecondFactor(ctx context.Context, f *storage.SecondFactor) error {
	if f == nil {
		return errors.New("second factor: nil")
	}
	what := secondFactorWhat(f.TenantID, f.UserID)
	if err := requireKeys(what, f.TenantID, f.UserID); err != nil {
		return err
	}
	if f.Confirmed() || len(f.Secret) == 0 {
		return fmt.Errorf("%s: a new set-up must be pending and have a secret", what)
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		old, err := getSecondFactor(ctx, tx, f.TenantID, f.UserID)
		switch {
		case err == nil && old.Confirmed():
			return fmt.Errorf("%s: %w", what, storage.ErrAlreadyExists)
		case err != nil && !errors.Is(err, storage.ErrNotFound):
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM second_factors WHERE tenant_id = ? AND user_id = ?`,
			f.TenantID, f.UserID); err != nil {
			return mapErr(err, what)
		}
		_, err = tx.ExecContext(ctx, secondFactorsTable.insertSQL(), f.TenantID, f.UserID, f.Secret, int64(0),
			f.LastUsedStep, list(f.RecoveryCodes), encTime(f.CreatedAt), encTime(f.UpdatedAt))
		return mapErr(err, what)
	})
}

// ConfirmSecondFactor confirms the pending factor with this secret.
func (s *Store) ConfirmSecondFactor(ctx context.Context, tenant, userID string, secret []byte, step int64, codes []string, at time.Time) error {
	what := secondFactorWhat(tenant, userID)
	return s.inTx(ctx, func(tx *sql.Tx) error {
		f, err := getSecondFactor(ctx, tx, tenant, userID)
		if err != nil {
			return err
		}
		if f.Confirmed() {
			return fmt.Errorf("%s: %w", what, storage.ErrAlreadyExists)
		}
		if !bytes.Equal(f.Secret, secret) {
			return fmt.Errorf("%s: set-up was restarted: %w", what, storage.ErrNotFound)
		}
		_, err = tx.ExecContext(ctx, `UPDATE second_factors SET confirmed_at = ?, last_used_step = ?,
			recovery_codes = ?, updated_at = ? WHERE tenant_id = ? AND user_id = ?`,
			encTime(at), step, list(codes), encTime(at), tenant, userID)
		return mapErr(err, what)
	})
}

// UseTOTPStep advances last_used_step in one conditional UPDATE: SQLite
// has one writer, so of two uses of one step the second finds the step
// taken.
func (s *Store) UseTOTPStep(ctx context.Context, tenant, userID string, step int64, at time.Time) error {
	what := secondFactorWhat(tenant, userID)
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE second_factors SET last_used_step = ?, updated_at = ?
			WHERE tenant_id = ? AND user_id = ? AND confirmed_at <> 0 AND last_used_step < ?`,
			step, encTime(at), tenant, userID, step)
		if err != nil {
			return mapErr(err, what)
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			return mapErr(err, what)
		}
		f, err := getSecondFactor(ctx, tx, tenant, userID)
		if err != nil {
			return err
		}
		if !f.Confirmed() {
			return fmt.Errorf("%s: not confirmed: %w", what, storage.ErrNotFound)
		}
		return fmt.Errorf("%s: time step: %w", what, storage.ErrAlreadyUsed)
	})
}

// UseRecoveryCode removes one code hash inside the write transaction.
func (s *Store) UseRecoveryCode(ctx context.Context, tenant, userID, codeHash string, at time.Time) (int, error) {
	what := secondFactorWhat(tenant, userID)
	remaining := 0
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		f, err := getSecondFactor(ctx, tx, tenant, userID)
		if err != nil {
			return err
		}
		i := storage.MatchHash(f.RecoveryCodes, codeHash)
		if !f.Confirmed() || i < 0 {
			return fmt.Errorf("%s: recovery code: %w", what, storage.ErrNotFound)
		}
		codes := slices.Delete(f.RecoveryCodes, i, i+1)
		remaining = len(codes)
		_, err = tx.ExecContext(ctx, `UPDATE second_factors SET recovery_codes = ?, updated_at = ?
			WHERE tenant_id = ? AND user_id = ?`, list(codes), encTime(at), tenant, userID)
		return mapErr(err, what)
	})
	return remaining, err
}

// ReplaceRecoveryCodes sets the confirmed factor's code hashes.
func (s *Store) ReplaceRecoveryCodes(ctx context.Context, tenant, userID string, codes []string, at time.Time) error {
	what := secondFactorWhat(tenant, userID)
	res, err := s.write.ExecContext(ctx, `UPDATE second_factors SET recovery_codes = ?, updated_at = ?
		WHERE tenant_id = ? AND user_id = ? AND confirmed_at <> 0`, list(codes), encTime(at), tenant, userID)
	if err != nil {
		return mapErr(err, what)
	}
	return requireAffected(res, what)
}

// DeleteSecondFactor removes the user's factor.
func (s *Store) DeleteSecondFactor(ctx context.Context, tenant, userID string) error {
	what := secondFactorWhat(tenant, userID)
	res, err := s.write.ExecContext(ctx, `DELETE FROM second_factors WHERE tenant_id = ? AND user_id = ?`, tenant, userID)
	if err != nil {
		return mapErr(err, what)
	}
	return requireAffected(res, what)
}

// ListSecondFactors returns the tenant's factors ordered by user ID.
func (s *Store) ListSecondFactors(ctx context.Context, tenant string) ([]*storage.SecondFactor, error) {
	what := fmt.Sprintf("tenant %q: list second factors", tenant)
	rows, err := s.read.QueryContext(ctx, secondFactorsTable.selectSQL()+` WHERE tenant_id = ? ORDER BY user_id`, tenant)
	if err != nil {
		return nil, mapErr(err, what)
	}
	defer rows.Close()
	var out []*storage.SecondFactor
	for rows.Next() {
		f, err := scanSecondFactor(rows)
		if err != nil {
			return nil, mapErr(err, what)
		}
		out = append(out, f)
	}
	return out, mapErr(rows.Err(), what)
}

// SwapSecondFactorSecret replaces the sealed secret if it is still old.
func (s *Store) SwapSecondFactorSecret(ctx context.Context, tenant, userID string, old, new []byte) (bool, error) {
	what := secondFactorWhat(tenant, userID)
	swapped := false
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		f, err := getSecondFactor(ctx, tx, tenant, userID)
		if err != nil || !bytes.Equal(f.Secret, old) {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE second_factors SET secret = ? WHERE tenant_id = ? AND user_id = ?`,
			new, tenant, userID); err != nil {
			return mapErr(err, what)
		}
		swapped = true
		return nil
	})
	return swapped, err
}

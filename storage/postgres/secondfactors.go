package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/herald-idp/herald/storage"
)

var _ storage.SecondFactors = (*Store)(nil)

// SecondFactors returns the users' second factors; *Store implements them.
func (s *Store) SecondFactors() storage.SecondFactors { return s }

var secondFactors = record[storage.SecondFactor]{
	table: table{name: "second_factors", keys: 2, cols: []string{
		"tenant_id", "user_id", "secret", "confirmed_at", "last_used_step", "recovery_codes",
		"created_at", "updated_at"}},
	scan: func(sc scanner) (*storage.SecondFactor, error) {
		var f storage.SecondFactor
		err := sc.Scan(&f.TenantID, &f.UserID, &f.Secret, timeCol{&f.ConfirmedAt}, &f.LastUsedStep,
			&f.RecoveryCodes, timeCol{&f.CreatedAt}, timeCol{&f.UpdatedAt})
		if err != nil {
			return nil, err
		}
		lists(&f.RecoveryCodes)
		return &f, nil
	},
	args: func(f *storage.SecondFactor) []any {
		return []any{f.TenantID, f.UserID, f.Secret, optTime(f.ConfirmedAt), f.LastUsedStep,
			list(f.RecoveryCodes), f.CreatedAt, f.UpdatedAt}
	},
}

func secondFactorWhat(tenant, userID string) string {
	return fmt.Sprintf("tenant %q: second factor of user %q", tenant, userID)
}

// lockSecondFactor reads the user's factor FOR UPDATE inside tx.
func lockSecondFactor(ctx context.Context, tx pgx.Tx, tenant, userID string) (*storage.SecondFactor, error) {
	f, err := secondFactors.scan(tx.QueryRow(ctx, secondFactors.table.selectForUpdateSQL(), tenant, userID))
	if err != nil {
		return nil, mapErr(err, secondFactorWhat(tenant, userID))
	}
	return f, nil
}

// SecondFactor returns the user's factor, confirmed or pending.
func (s *Store) SecondFactor(ctx context.Context, tenant, userID string) (*storage.SecondFactor, error) {
	return secondFactors.get(ctx, s, secondFactorWhat(tenant, userID),
		secondFactors.table.selectSQL()+` WHERE tenant_id = $1 AND user_id = $2`, tenant, userID)
}

// BeginSecondFactor stores a pending set-up unless a confirmed factor
// exists: one upsert whose DO UPDATE only replaces a pending row, so two
// concurrent calls cannot overwrite a confirmation between them.
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
	return s.run(ctx, what, func(ctx context.Context, q querier) error {
		tag, err := q.Exec(ctx, `INSERT INTO second_factors (`+secondFactors.table.columns()+`)
			VALUES ($1, $2, $3, NULL, $4, $5, $6, $7)
			ON CONFLICT (tenant_id, user_id) DO UPDATE SET secret = excluded.secret,
				last_used_step = excluded.last_used_step, recovery_codes = excluded.recovery_codes,
				created_at = excluded.created_at, updated_at = excluded.updated_at
			WHERE second_factors.confirmed_at IS NULL`,
			f.TenantID, f.UserID, f.Secret, f.LastUsedStep, list(f.RecoveryCodes), f.CreatedAt, f.UpdatedAt)
		if err != nil {
			return mapErr(err, what)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("%s: %w", what, storage.ErrAlreadyExists)
		}
		return nil
	})
}

// ConfirmSecondFactor confirms the pending factor with this secret.
func (s *Store) ConfirmSecondFactor(ctx context.Context, tenant, userID string, secret []byte, step int64, codes []string, at time.Time) error {
	what := secondFactorWhat(tenant, userID)
	return s.inTx(ctx, what, func(ctx context.Context, tx pgx.Tx) error {
		f, err := lockSecondFactor(ctx, tx, tenant, userID)
		if err != nil {
			return err
		}
		if f.Confirmed() {
			return fmt.Errorf("%s: %w", what, storage.ErrAlreadyExists)
		}
		if !bytes.Equal(f.Secret, secret) {
			return fmt.Errorf("%s: set-up was restarted: %w", what, storage.ErrNotFound)
		}
		_, err = tx.Exec(ctx, `UPDATE second_factors SET confirmed_at = $3, last_used_step = $4,
			recovery_codes = $5, updated_at = $3 WHERE tenant_id = $1 AND user_id = $2`,
			tenant, userID, at, step, list(codes))
		return mapErr(err, what)
	})
}

// UseTOTPStep advances last_used_step in one conditional UPDATE: under READ
// COMMITTED a second UPDATE of the row waits for the first and then
// re-checks its WHERE against the committed step, so it matches nothing.
func (s *Store) UseTOTPStep(ctx context.Context, tenant, userID string, step int64, at time.Time) error {
	what := secondFactorWhat(tenant, userID)
	return s.run(ctx, what, func(ctx context.Context, q querier) error {
		var used, confirmed bool
		err := q.QueryRow(ctx, `WITH used AS (
				UPDATE second_factors SET last_used_step = $3, updated_at = $4
				WHERE tenant_id = $1 AND user_id = $2 AND confirmed_at IS NOT NULL AND last_used_step < $3
				RETURNING 1)
			SELECT EXISTS (SELECT 1 FROM used), EXISTS (SELECT 1 FROM second_factors
				WHERE tenant_id = $1 AND user_id = $2 AND confirmed_at IS NOT NULL)`,
			tenant, userID, step, at).Scan(&used, &confirmed)
		switch {
		case err != nil:
			return mapErr(err, what)
		case used:
			return nil
		case !confirmed:
			return fmt.Errorf("%s: not confirmed: %w", what, storage.ErrNotFound)
		}
		return fmt.Errorf("%s: time step: %w", what, storage.ErrAlreadyUsed)
	})
}

// UseRecoveryCode removes one code hash under the row lock.
func (s *Store) UseRecoveryCode(ctx context.Context, tenant, userID, codeHash string, at time.Time) (int, error) {
	what := secondFactorWhat(tenant, userID)
	remaining := 0
	err := s.inTx(ctx, what, func(ctx context.Context, tx pgx.Tx) error {
		f, err := lockSecondFactor(ctx, tx, tenant, userID)
		if err != nil {
			return err
		}
		i := storage.MatchHash(f.RecoveryCodes, codeHash)
		if !f.Confirmed() || i < 0 {
			return fmt.Errorf("%s: recovery code: %w", what, storage.ErrNotFound)
		}
		codes := slices.Delete(f.RecoveryCodes, i, i+1)
		remaining = len(codes)
		_, err = tx.Exec(ctx, `UPDATE second_factors SET recovery_codes = $3, updated_at = $4
			WHERE tenant_id = $1 AND user_id = $2`, tenant, userID, list(codes), at)
		return mapErr(err, what)
	})
	return remaining, err
}

// ReplaceRecoveryCodes sets the confirmed factor's code hashes.
func (s *Store) ReplaceRecoveryCodes(ctx context.Context, tenant, userID string, codes []string, at time.Time) error {
	what := secondFactorWhat(tenant, userID)
	return s.run(ctx, what, func(ctx context.Context, q querier) error {
		tag, err := q.Exec(ctx, `UPDATE second_factors SET recovery_codes = $3, updated_at = $4
			WHERE tenant_id = $1 AND user_id = $2 AND confirmed_at IS NOT NULL`, tenant, userID, list(codes), at)
		if err != nil {
			return mapErr(err, what)
		}
		return requireAffected(tag, what)
	})
}

// DeleteSecondFactor removes the user's factor.
func (s *Store) DeleteSecondFactor(ctx context.Context, tenant, userID string) error {
	what := secondFactorWhat(tenant, userID)
	return s.run(ctx, what, func(ctx context.Context, q querier) error {
		tag, err := q.Exec(ctx, `DELETE FROM second_factors WHERE tenant_id = $1 AND user_id = $2`, tenant, userID)
		if err != nil {
			return mapErr(err, what)
		}
		return requireAffected(tag, what)
	})
}

// ListSecondFactors returns the tenant's factors ordered by user ID.
func (s *Store) ListSecondFactors(ctx context.Context, tenant string) ([]*storage.SecondFactor, error) {
	return secondFactors.list(ctx, s, fmt.Sprintf("tenant %q: list second factors", tenant),
		secondFactors.table.selectSQL()+` WHERE tenant_id = $1 ORDER BY user_id`, tenant)
}

// SwapSecondFactorSecret replaces the sealed secret if it is still old, in
// one conditional UPDATE.
func (s *Store) SwapSecondFactorSecret(ctx context.Context, tenant, userID string, old, new []byte) (bool, error) {
	what := secondFactorWhat(tenant, userID)
	swapped := false
	err := s.run(ctx, what, func(ctx context.Context, q querier) error {
		var exists bool
		err := q.QueryRow(ctx, `WITH swapped AS (
				UPDATE second_factors SET secret = $4 WHERE tenant_id = $1 AND user_id = $2 AND secret = $3 RETURNING 1)
			SELECT EXISTS (SELECT 1 FROM swapped), EXISTS (SELECT 1 FROM second_factors WHERE tenant_id = $1 AND user_id = $2)`,
			tenant, userID, old, new).Scan(&swapped, &exists)
		if err != nil {
			return mapErr(err, what)
		}
		if !exists {
			return fmt.Errorf("%s: %w", what, storage.ErrNotFound)
		}
		return nil
	})
	return swapped, err
}

package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/herald-idp/herald/storage"
)

var _ storage.LoginAttempts = (*Store)(nil)

// LoginAttempts returns the login throttle's counters; *Store implements
// them itself.
func (s *Store) LoginAttempts() storage.LoginAttempts { return s }

// Attempt reads and updates the counter in one write transaction: SQLite
// has one writer, so concurrent attempts queue and each sees the count of
// the one before.
func (s *Store) Attempt(ctx context.Context, tenant, key string, now time.Time, rule storage.ThrottleRule) (storage.ThrottleDecision, error) {
	what := fmt.Sprintf("tenant %q: login attempts", tenant)
	if err := requireKeys(what, tenant, key); err != nil {
		return storage.ThrottleDecision{}, err
	}
	var d storage.ThrottleDecision
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var count int
		var retryAt, expiresAt int64
		err := tx.QueryRowContext(ctx, `SELECT count, retry_at, expires_at FROM login_attempts
			WHERE tenant_id = ? AND key = ?`, tenant, key).Scan(&count, &retryAt, &expiresAt)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return mapErr(err, what)
		case expiresAt <= encTime(now):
			count = 0 // expired: a fresh start
		case now.Before(decTime(retryAt)):
			d = storage.ThrottleDecision{Count: count, RetryAt: decTime(retryAt)}
			return nil
		}
		count++
		next := now.Add(rule.Delay(count))
		_, err = tx.ExecContext(ctx, `INSERT INTO login_attempts (tenant_id, key, count, retry_at, expires_at)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (tenant_id, key) DO UPDATE SET
			count = excluded.count, retry_at = excluded.retry_at, expires_at = excluded.expires_at`,
			tenant, key, count, encTime(next), encTime(next.Add(rule.Window)))
		if err != nil {
			return mapErr(err, what)
		}
		d = storage.ThrottleDecision{Allowed: true, Count: count, RetryAt: next.UTC()}
		return nil
	})
	return d, err
}

// ResetAttempts forgets key.
func (s *Store) ResetAttempts(ctx context.Context, tenant, key string) error {
	_, err := s.write.ExecContext(ctx, `DELETE FROM login_attempts WHERE tenant_id = ? AND key = ?`, tenant, key)
	return mapErr(err, fmt.Sprintf("tenant %q: reset login attempts", tenant))
}

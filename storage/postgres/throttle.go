package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/herald-idp/herald/storage"
)

var _ storage.LoginAttempts = (*Store)(nil)

// LoginAttempts returns the login throttle's counters (used when no Redis
// is configured); *Store implements them itself.
func (s *Store) LoginAttempts() storage.LoginAttempts { return s }

// Attempt makes sure the row exists (ON CONFLICT DO NOTHING, so concurrent
// first attempts do not fail), then locks it, decides and updates it in one
// transaction: concurrent attempts on one key queue on the row lock.
func (s *Store) Attempt(ctx context.Context, tenant, key string, now time.Time, rule storage.ThrottleRule) (storage.ThrottleDecision, error) {
	what := fmt.Sprintf("tenant %q: login attempts", tenant)
	if err := requireKeys(what, tenant, key); err != nil {
		return storage.ThrottleDecision{}, err
	}
	now = now.Truncate(time.Microsecond) // timestamptz precision
	var d storage.ThrottleDecision
	err := s.inTx(ctx, what, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO login_attempts (tenant_id, key, count, retry_at, expires_at)
			VALUES ($1, $2, 0, $3, $3) ON CONFLICT DO NOTHING`, tenant, key, now); err != nil {
			return mapErr(err, what)
		}
		var count int
		var retryAt, expiresAt time.Time
		if err := tx.QueryRow(ctx, `SELECT count, retry_at, expires_at FROM login_attempts
			WHERE tenant_id = $1 AND key = $2 FOR UPDATE`, tenant, key).Scan(&count, &retryAt, &expiresAt); err != nil {
			return mapErr(err, what)
		}
		switch {
		case !expiresAt.After(now):
			count = 0
		case now.Before(retryAt):
			d = storage.ThrottleDecision{Count: count, RetryAt: retryAt.UTC()}
			return nil
		}
		count++
		next := now.Add(rule.Delay(count))
		if _, err := tx.Exec(ctx, `UPDATE login_attempts SET count = $3, retry_at = $4, expires_at = $5
			WHERE tenant_id = $1 AND key = $2`, tenant, key, count, next, next.Add(rule.Window)); err != nil {
			return mapErr(err, what)
		}
		d = storage.ThrottleDecision{Allowed: true, Count: count, RetryAt: next.UTC()}
		return nil
	})
	return d, err
}

// ResetAttempts forgets key.
func (s *Store) ResetAttempts(ctx context.Context, tenant, key string) error {
	what := fmt.Sprintf("tenant %q: reset login attempts", tenant)
	return s.run(ctx, what, func(ctx context.Context, q querier) error {
		_, err := q.Exec(ctx, `DELETE FROM login_attempts WHERE tenant_id = $1 AND key = $2`, tenant, key)
		return mapErr(err, what)
	})
}

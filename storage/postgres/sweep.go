package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// sweepBatch bounds how many rows one DELETE removes, so that a sweep after
// a long pause neither holds locks for long nor blows up the WAL in one
// transaction.
const sweepBatch = 1000

// sweeps lists the short-lived tables, their primary key and what expired
// means for them. Used authorization codes and rotated refresh tokens are
// kept until they expire so that their reuse is still detected (RFC 6749
// §4.1.2, RFC 9700 §4.14.2).
var sweeps = []struct{ table, key, expired string }{
	{"auth_requests", "tenant_id, id", "expires_at <= $1"},
	{"auth_codes", "tenant_id, code_hash", "expires_at <= $1"},
	{"sessions", "tenant_id, id", "idle_expires_at <= $1 OR absolute_expires_at <= $1"},
	{"access_tokens", "tenant_id, id", "expires_at <= $1"},
	{"refresh_tokens", "tenant_id, id", "expires_at <= $1"},
	{"grants", "tenant_id, id", "expires_at <= $1"},
	{"login_attempts", "tenant_id, key", "expires_at <= $1"},
	{"upstream_states", "tenant_id, state_hash", "expires_at <= $1"},
}

// Sweep deletes records expired at now, in batches of sweepBatch rows, each
// batch its own statement with its own OpTimeout. SKIP LOCKED lets
// concurrent sweepers (every replica runs one) share the work instead of
// waiting on each other's rows.
func (s *Store) Sweep(ctx context.Context, now time.Time) error {
	for _, sw := range sweeps {
		q := `DELETE FROM ` + sw.table + ` WHERE (` + sw.key + `) IN (SELECT ` + sw.key +
			` FROM ` + sw.table + ` WHERE ` + sw.expired + ` LIMIT $2 FOR UPDATE SKIP LOCKED)`
		what := "postgres: sweep " + sw.table
		for {
			var deleted int64
			err := s.withConn(ctx, what, func(ctx context.Context, c *pgxpool.Conn) error {
				tag, err := c.Exec(ctx, q, now, sweepBatch)
				deleted = tag.RowsAffected()
				return mapErr(err, what)
			})
			if err != nil {
				return err
			}
			if deleted < sweepBatch {
				break
			}
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("%s: %w", what, err)
			}
		}
	}
	return nil
}

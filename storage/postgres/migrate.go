package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// migrationLockID is the key of the session-level advisory lock that
// serialises Migrate across replicas. It is Herald's own rather than goose's
// default so that another goose-managed application sharing the database
// does not wait on Herald, or Herald on it. Advisory locks are scoped to
// one database.
const migrationLockID int64 = 0x6865_7261_6c64 // "herald"

// Lock polling: every second, for at most 5 minutes (a migration of a large
// table may take that long; a replica waiting longer should fail loudly).
const (
	lockPollSeconds = 1
	lockPolls       = 300
)

// Migrate applies the embedded migrations (migrations/postgres) that the
// database at url lacks, each in its own transaction. It holds a
// PostgreSQL advisory lock while doing so, so replicas that start at once
// apply every migration exactly once; the others wait and then find nothing
// to do. It uses ctx as is (no OpTimeout): migrations may be slow.
func Migrate(ctx context.Context, url string) error {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		// pgconn redacts the password from parse errors.
		return fmt.Errorf("postgres: invalid database URL: %w", err)
	}
	if _, ok := cfg.RuntimeParams["application_name"]; !ok {
		cfg.RuntimeParams["application_name"] = "herald-migrate"
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = DefaultOpTimeout
	}
	fsys, err := migrationsFS()
	if err != nil {
		return err
	}
	db := stdlib.OpenDB(*cfg)
	defer db.Close()
	// goose runs the lock and every migration on one connection.
	db.SetMaxOpenConns(2)
	db.SetConnMaxIdleTime(time.Minute)

	// A locker per call: its retry state must not be shared between runs.
	locker, err := lock.NewPostgresSessionLocker(
		lock.WithLockID(migrationLockID),
		lock.WithLockTimeout(lockPollSeconds, lockPolls),
	)
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, fsys,
		goose.WithDisableGlobalRegistry(true),
		goose.WithSessionLocker(locker))
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		if isConnectionFailure(err) && !errors.Is(err, context.Canceled) {
			return unavailable("postgres: migrate", err)
		}
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	return nil
}

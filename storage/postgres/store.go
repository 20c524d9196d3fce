package postgres

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/pressly/goose/v3"

	"github.com/herald-idp/herald/migrations"
	"github.com/herald-idp/herald/storage"
)

var _ storage.Store = (*Store)(nil)

// Defaults of Options.
const (
	DefaultMaxConns  = 10
	DefaultOpTimeout = 5 * time.Second
)

// maxPingTimeout caps Ping's deadline: /readyz must answer quickly even when
// OpTimeout is long.
const maxPingTimeout = 2 * time.Second

// Options tunes the connection pool. The zero value uses the defaults.
// They take precedence over pool settings in the URL (pool_max_conns).
type Options struct {
	// MaxConns bounds the pool (default 10). Callers beyond it wait for a
	// connection, within OpTimeout; size it so that replicas × MaxConns
	// stays below the server's max_connections.
	MaxConns int32
	// OpTimeout bounds every call (default 5s) unless the caller's context
	// ends earlier. A call that runs out of time returns an error matching
	// storage.ErrUnavailable.
	OpTimeout time.Duration
}

// Store is the PostgreSQL backend. Every method takes a pooled connection
// for the duration of one statement or transaction only; atomicity comes
// from single conditional statements and row locks, never from the process,
// so any number of replicas may share one database.
type Store struct {
	pool      *pgxpool.Pool
	opTimeout time.Duration
}

// Open connects to the database at url (a postgres:// URL or key=value
// DSN), pings it and checks that the schema is migrated (ErrNotMigrated
// otherwise). It does not migrate: see Migrate. Connection failures match
// storage.ErrUnavailable.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	if opts.MaxConns < 0 || opts.OpTimeout < 0 {
		return nil, errors.New("postgres: MaxConns and OpTimeout must not be negative")
	}
	if opts.MaxConns == 0 {
		opts.MaxConns = DefaultMaxConns
	}
	if opts.OpTimeout == 0 {
		opts.OpTimeout = DefaultOpTimeout
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgconn redacts the password from parse errors.
		return nil, fmt.Errorf("postgres: invalid database URL: %w", err)
	}
	cfg.MaxConns = opts.MaxConns
	cfg.MinConns = 0
	if cfg.ConnConfig.ConnectTimeout == 0 || cfg.ConnConfig.ConnectTimeout > opts.OpTimeout {
		cfg.ConnConfig.ConnectTimeout = opts.OpTimeout
	}
	if _, ok := cfg.ConnConfig.RuntimeParams["application_name"]; !ok {
		cfg.ConnConfig.RuntimeParams["application_name"] = "herald"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	s := &Store{pool: pool, opTimeout: opts.OpTimeout}
	if err := s.checkSchema(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// checkSchema compares goose's version table with the newest embedded
// migration. A newer database is accepted: during a rolling upgrade the
// new release migrates (forward-compatibly) while old replicas still run.
func (s *Store) checkSchema(ctx context.Context) error {
	want, err := latestMigration()
	if err != nil {
		return err
	}
	var have int64
	err = s.withConn(ctx, "postgres: open", func(ctx context.Context, c *pgxpool.Conn) error {
		var exists bool
		if err := c.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, goose.DefaultTablename).Scan(&exists); err != nil {
			return mapErr(err, "postgres: open: schema version")
		}
		if !exists {
			return nil
		}
		err := c.QueryRow(ctx, `SELECT COALESCE(max(version_id), 0) FROM `+
			pgx.Identifier{goose.DefaultTablename}.Sanitize()+` WHERE is_applied`).Scan(&have)
		return mapErr(err, "postgres: open: schema version")
	})
	if err != nil {
		return err
	}
	if have < want {
		return fmt.Errorf("%w (schema version %d, this build needs %d)", ErrNotMigrated, have, want)
	}
	return nil
}

// migrationsFS returns the embedded PostgreSQL migrations as goose wants them.
func migrationsFS() (fs.FS, error) {
	fsys, err := fs.Sub(migrations.Postgres, "postgres")
	if err != nil {
		return nil, fmt.Errorf("postgres: migrations: %w", err)
	}
	return fsys, nil
}

// latestMigration returns the highest embedded migration version.
func latestMigration() (int64, error) {
	fsys, err := migrationsFS()
	if err != nil {
		return 0, err
	}
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return 0, fmt.Errorf("postgres: migrations: %w", err)
	}
	var latest int64
	for _, name := range names {
		v, err := goose.NumericComponent(path.Base(name))
		if err != nil {
			return 0, fmt.Errorf("postgres: migration %s: %w", name, err)
		}
		latest = max(latest, v)
	}
	if latest == 0 {
		return 0, errors.New("postgres: no migrations embedded")
	}
	return latest, nil
}

// Accessors: *Store implements every per-record interface itself.

func (s *Store) Tenants() storage.Tenants           { return s }
func (s *Store) Clients() storage.Clients           { return s }
func (s *Store) Users() storage.Users               { return s }
func (s *Store) Keys() storage.Keys                 { return s }
func (s *Store) Secrets() storage.Secrets           { return s }
func (s *Store) AuthRequests() storage.AuthRequests { return s }
func (s *Store) AuthCodes() storage.AuthCodes       { return s }
func (s *Store) Sessions() storage.Sessions         { return s }
func (s *Store) Tokens() storage.Tokens             { return s }
func (s *Store) Grants() storage.Grants             { return s }
func (s *Store) Consents() storage.Consents         { return s }

// Ping checks that a pooled connection answers, within a short deadline.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, min(s.opTimeout, maxPingTimeout))
	defer cancel()
	if err := s.pool.Ping(ctx); err != nil {
		return mapUnavailable(err, "postgres: ping")
	}
	return nil
}

// Close closes the pool; calls on a closed Store fail with ErrUnavailable.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// withConn runs fn on a pooled connection under the operation deadline
// (OpTimeout, or the caller's deadline if earlier). fn maps its own errors;
// failing to get a connection (pool closed, server unreachable, every
// connection busy until the deadline) is ErrUnavailable.
func (s *Store) withConn(ctx context.Context, what string, fn func(ctx context.Context, c *pgxpool.Conn) error) error {
	ctx, cancel := context.WithTimeout(ctx, s.opTimeout)
	defer cancel()
	c, err := s.pool.Acquire(ctx)
	if err != nil {
		return mapUnavailable(err, what)
	}
	defer c.Release()
	return fn(ctx, c)
}

// run is withConn for functions that need only a querier.
func (s *Store) run(ctx context.Context, what string, fn func(ctx context.Context, q querier) error) error {
	return s.withConn(ctx, what, func(ctx context.Context, c *pgxpool.Conn) error { return fn(ctx, c) })
}

// inTx runs fn in a READ COMMITTED transaction and commits unless fn fails
// (or panics). fn's error is returned unchanged, so that an Update closure's
// error reaches the caller as it was.
func (s *Store) inTx(ctx context.Context, what string, fn func(ctx context.Context, tx pgx.Tx) error) error {
	return s.withConn(ctx, what, func(ctx context.Context, c *pgxpool.Conn) error {
		tx, err := c.Begin(ctx)
		if err != nil {
			return mapErr(err, what+": begin")
		}
		committed := false
		defer func() {
			if !committed {
				// With an expired ctx pgx closes the connection instead,
				// which also ends the transaction.
				_ = tx.Rollback(ctx)
			}
		}()
		if err := fn(ctx, tx); err != nil {
			return err
		}
		if err := tx.Commit(ctx); err != nil {
			return mapErr(err, what+": commit")
		}
		committed = true
		return nil
	})
}

// mapUnavailable maps a failure to reach the server. A caller that gave up
// (context.Canceled) is not an unavailable backend.
func mapUnavailable(err error, what string) error {
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("%s: %w", what, err)
	}
	return unavailable(what, err)
}

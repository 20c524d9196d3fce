package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/herald-idp/herald/storage"
	"github.com/herald-idp/herald/storage/postgres"
	redisstore "github.com/herald-idp/herald/storage/redis"
	"github.com/herald-idp/herald/storage/sqlite"
)

// This file is the only place that names concrete storage backends. The
// durable backend is chosen by the scheme of HERALD_DATABASE_URL; when
// HERALD_REDIS_URL is set, authorization requests, codes and SSO sessions
// live in Redis instead (storage.Combine).

// migrateTimeout bounds `herald migrate` and `serve --migrate`: long enough
// for a migration of a large table, short enough that a replica stuck
// behind another's advisory lock fails loudly.
const migrateTimeout = 5 * time.Minute

// backend opens and migrates one kind of durable store.
type backend struct {
	// name is what /readyz reports when the backend is down.
	name string
	// check validates the URL without connecting; raw is the whole URL,
	// rest what follows "scheme:". Errors never quote the URL.
	check func(raw, rest string) error
	// open returns the store and, when the backend can announce tenant
	// changes to other replicas (PostgreSQL NOTIFY), its notifier.
	open func(ctx context.Context, cfg *Config, raw, rest string) (storage.Store, storage.Notifier, error)
	// migrate brings the schema up to date (idempotent).
	migrate func(ctx context.Context, raw, rest string) error
	// kekDir returns where a generated key-encryption key may be kept next
	// to the data (ok=false: the backend has no local files, so a KEK must
	// be configured or keys stay unencrypted), or ephemeral=true for
	// throw-away in-memory data.
	kekDir func(rest string) (dir string, ephemeral, ok bool)
}

var postgresBackend = backend{name: "postgres", check: checkPostgresURL, open: openPostgres, migrate: migratePostgres}

var backends = map[string]backend{
	"sqlite":     {name: "sqlite", check: checkSQLiteURL, open: openSQLite, migrate: migrateSQLite, kekDir: sqliteKEKDir},
	"postgres":   postgresBackend,
	"postgresql": postgresBackend,
}

// splitDatabaseURL returns the backend for raw and the rest of the URL.
func splitDatabaseURL(raw string) (backend, string, error) {
	scheme, rest, found := strings.Cut(raw, ":")
	if !found || scheme == "" {
		return backend{}, "", errors.New("the URL has no scheme; want sqlite:PATH or postgres://USER:PASSWORD@HOST/DB")
	}
	b, ok := backends[strings.ToLower(scheme)]
	if !ok {
		return backend{}, "", fmt.Errorf("unknown database scheme %q (known: %s)", scheme, knownSchemes())
	}
	return b, rest, nil
}

func knownSchemes() string {
	var names []string
	for name := range backends {
		names = append(names, name)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// checkDatabaseURL is the validation part of openStore (for Config.Validate).
func checkDatabaseURL(raw string) error {
	b, rest, err := splitDatabaseURL(raw)
	if err != nil {
		return err
	}
	return b.check(raw, rest)
}

// checkRedisURL validates the scheme only; redisstore.Open parses the rest
// and its errors never contain the password.
func checkRedisURL(raw string) error {
	scheme, _, found := strings.Cut(raw, "://")
	if !found || !containsFold(redisstore.Schemes(), scheme) {
		return fmt.Errorf("must start with %s://", strings.Join(redisstore.Schemes(), "://, "))
	}
	return nil
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// openStore opens the durable store HERALD_DATABASE_URL names and, when
// HERALD_REDIS_URL is set, puts the short-lived records in Redis. Either
// way, Ping errors name the dependency that is down (for /readyz).
//
// It also chooses the notifier that carries tenant changes between
// replicas and command-line processes: Redis pub/sub when Redis is
// configured (it spares PostgreSQL a listening connection per replica),
// else PostgreSQL NOTIFY, else none (SQLite: one node, short cache TTLs).
// The notifier lives as long as the store; closing the store closes it.
func openStore(ctx context.Context, cfg *Config) (storage.Store, storage.Notifier, error) {
	b, rest, err := splitDatabaseURL(cfg.DatabaseURL)
	if err != nil {
		return nil, nil, fmt.Errorf("HERALD_DATABASE_URL (--database-url): %w", err)
	}
	durable, notifier, err := b.open(ctx, cfg, cfg.DatabaseURL, rest)
	if err != nil {
		return nil, nil, fmt.Errorf("HERALD_DATABASE_URL (--database-url): %w", err)
	}
	if cfg.RedisURL == "" {
		return namedStore{Store: durable, name: b.name}, notifier, nil
	}
	short, err := redisstore.Open(ctx, cfg.RedisURL, redisstore.Options{Prefix: cfg.RedisPrefix})
	if err != nil {
		_ = durable.Close()
		return nil, nil, fmt.Errorf("HERALD_REDIS_URL (--redis-url): %w", err)
	}
	return storage.Combine(durable, short, b.name, "redis"), short, nil
}

// migrateDatabase brings the schema of HERALD_DATABASE_URL up to date.
func migrateDatabase(ctx context.Context, raw string) error {
	b, rest, err := splitDatabaseURL(raw)
	if err != nil {
		return fmt.Errorf("HERALD_DATABASE_URL (--database-url): %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, migrateTimeout)
	defer cancel()
	if err := b.migrate(ctx, raw, rest); err != nil {
		return fmt.Errorf("HERALD_DATABASE_URL (--database-url): %w", err)
	}
	return nil
}

// namedStore makes a single-backend store's Ping name the backend, as
// storage.Combine does for two, so that /readyz says "postgres", not
// "storage".
type namedStore struct {
	storage.Store
	name string
}

func (s namedStore) Ping(ctx context.Context) error {
	if err := s.Store.Ping(ctx); err != nil {
		return &storage.DependencyError{Name: s.name, Err: err}
	}
	return nil
}

// localKEKDir says where a generated KEK is kept for this database URL (see
// backend.kekDir).
func localKEKDir(raw string) (dir string, ephemeral, ok bool) {
	b, rest, err := splitDatabaseURL(raw)
	if err != nil || b.kekDir == nil {
		return "", false, false
	}
	return b.kekDir(rest)
}

// --- SQLite ---

// sqlitePath turns the rest of "sqlite:PATH" into a file path. "sqlite:///abs"
// and "sqlite://./rel" are accepted as well as "sqlite:./rel" and
// "sqlite::memory:".
func sqlitePath(rest string) string {
	return strings.TrimPrefix(rest, "//")
}

func checkSQLiteURL(raw, rest string) error {
	if sqlitePath(rest) == "" {
		return fmt.Errorf("%q names no database file; want sqlite:PATH", raw)
	}
	return nil
}

func openSQLite(ctx context.Context, _ *Config, _, rest string) (storage.Store, storage.Notifier, error) {
	s, err := sqlite.Open(ctx, sqlitePath(rest))
	if err != nil {
		return nil, nil, err
	}
	return s, nil, nil // one process serves a SQLite file: nobody to tell
}

// migrateSQLite opens the database, which applies any missing migration.
func migrateSQLite(ctx context.Context, _, rest string) error {
	s, err := sqlite.Open(ctx, sqlitePath(rest))
	if err != nil {
		return err
	}
	return s.Close()
}

func sqliteKEKDir(rest string) (string, bool, bool) {
	p := sqlitePath(rest)
	switch p {
	case "":
		return "", false, false
	case sqlite.MemoryDSN:
		return "", true, true
	}
	return filepath.Dir(p), false, true
}

// --- PostgreSQL ---

func checkPostgresURL(_, rest string) error {
	if !strings.HasPrefix(rest, "//") {
		return errors.New("want postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=MODE")
	}
	if _, err := url.Parse("postgres:" + rest); err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error quotes the URL, password included
		}
		return fmt.Errorf("not a valid URL: %v", err)
	}
	return nil
}

func openPostgres(ctx context.Context, cfg *Config, raw, _ string) (storage.Store, storage.Notifier, error) {
	s, err := postgres.Open(ctx, raw, postgres.Options{MaxConns: cfg.DatabaseMaxConns, OpTimeout: cfg.DatabaseTimeout})
	if errors.Is(err, postgres.ErrNotMigrated) {
		return nil, nil, &notMigratedError{err}
	}
	if err != nil {
		return nil, nil, err
	}
	return s, s, nil // LISTEN/NOTIFY
}

func migratePostgres(ctx context.Context, raw, _ string) error {
	return postgres.Migrate(ctx, raw)
}

// notMigratedError tells the operator how to migrate.
type notMigratedError struct{ err error }

func (e *notMigratedError) Error() string {
	return e.err.Error() + "\nmigrate first: run `herald migrate` with the same HERALD_DATABASE_URL, " +
		"or start the server with `herald serve --migrate` (HERALD_MIGRATE=true)"
}

func (e *notMigratedError) Unwrap() error { return e.err }

// --- Redaction ---

// redactURL hides the password of a database or Redis URL for logs: the
// user info of scheme://user:pass@host becomes user:xxxxx. A lone user info
// is a password for Redis (redis://pass@host) and a user name for
// PostgreSQL. Anything unusual is redacted rather than risked: everything
// up to the last '@' goes.
func redactURL(raw string) string {
	scheme, rest, found := strings.Cut(raw, "://")
	if !found {
		return raw // sqlite:PATH has no credentials
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return raw
	}
	userinfo, host := rest[:at], rest[at+1:]
	user, _, hasPassword := strings.Cut(userinfo, ":")
	switch {
	case strings.ContainsAny(user, "/?#"):
		user = "xxxxx" // the '@' was not in the authority; be safe
	case !hasPassword && strings.HasPrefix(strings.ToLower(scheme), "redis"):
		return scheme + "://xxxxx@" + host
	case !hasPassword:
		return raw
	}
	return scheme + "://" + user + ":xxxxx@" + host
}

// routeDriverLogs sends what storage drivers log on their own (go-redis's
// pool and failover messages) into the JSON log, so that an outage does not
// interleave plain-text lines with the structured ones.
func routeDriverLogs(logger *slog.Logger) { redisstore.SetLogger(logger) }

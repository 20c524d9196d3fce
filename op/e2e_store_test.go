package op_test

// The store behind the end-to-end harness. HERALD_E2E_STORE picks it:
//
//	unset or "sqlite"  a fresh SQLite file per test (the default)
//	"postgres+redis"   a fresh PostgreSQL database per test (copied from a
//	                   template migrated once per process) with auth
//	                   requests, codes and sessions in Redis under a unique
//	                   key prefix — the production set-up
//
// `make test` runs the E2E tests both ways. An unreachable PostgreSQL or
// Redis fails the test: a silently skipped backend proves nothing.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/herald-idp/herald/storage"
	"github.com/herald-idp/herald/storage/postgres"
	redisstore "github.com/herald-idp/herald/storage/redis"
	"github.com/herald-idp/herald/storage/sqlite"
)

const (
	e2eStoreEnv          = "HERALD_E2E_STORE"
	e2eStorePostgresPlus = "postgres+redis"

	testPostgresEnv     = "HERALD_TEST_POSTGRES_URL"
	defaultPostgresURL  = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	testRedisEnv        = "HERALD_TEST_REDIS_URL"
	defaultTestRedisURL = "redis://127.0.0.1:6379/0"
)

// e2ePostgresOptions keeps each test's pool small: tests run in parallel
// and share the server's max_connections.
var e2ePostgresOptions = postgres.Options{MaxConns: 4}

// pgServer is the admin connection and the migrated template database,
// set up once per test process and dropped by TestMain.
var pgServer struct {
	once     sync.Once
	err      error
	url      string
	admin    *pgxpool.Pool
	template string
}

func TestMain(m *testing.M) {
	code := m.Run()
	if pgServer.admin != nil {
		if pgServer.template != "" {
			dropDatabase(pgServer.admin, pgServer.template)
		}
		pgServer.admin.Close()
	}
	os.Exit(code)
}

// newE2EStore returns the store for one test, closed (and its database and
// keys removed) when the test ends.
func newE2EStore(t *testing.T) storage.Store {
	t.Helper()
	switch kind := os.Getenv(e2eStoreEnv); kind {
	case "", "sqlite":
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "herald.db"))
		if err != nil {
			t.Fatalf("open sqlite: %v", err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	case e2eStorePostgresPlus:
		return newPostgresRedisStore(t)
	default:
		t.Fatalf("%s=%q: want sqlite or %s", e2eStoreEnv, kind, e2eStorePostgresPlus)
		return nil
	}
}

// newPostgresRedisStore combines a fresh PostgreSQL database with a fresh
// Redis key prefix, as cmd/herald does for HERALD_REDIS_URL.
func newPostgresRedisStore(t *testing.T) storage.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dbURL := newPostgresDatabase(t)
	pg, err := postgres.Open(ctx, dbURL, e2ePostgresOptions)
	if err != nil {
		t.Fatalf("open postgres test database: %v", err)
	}
	redisURL, prefix := newRedisPrefix(t)
	short, err := redisstore.Open(ctx, redisURL, redisstore.Options{Prefix: prefix})
	if err != nil {
		pg.Close()
		t.Fatalf("open redis: %v", err)
	}
	s := storage.Combine(pg, short, "postgres", "redis")
	// Registered after the database's and the prefix's cleanups, so it runs
	// before them (LIFO): the store lets go first.
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// newPostgresDatabase creates herald_e2e_<random> from the migrated
// template and drops it (WITH (FORCE)) when the test ends.
func newPostgresDatabase(t *testing.T) string {
	t.Helper()
	pgServer.once.Do(setupPostgresTemplate)
	if pgServer.err != nil {
		t.Fatal(pgServer.err)
	}
	name := "herald_e2e_" + randomHex(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := pgServer.admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()+
		" TEMPLATE "+pgx.Identifier{pgServer.template}.Sanitize())
	if err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() { dropDatabase(pgServer.admin, name) })
	return postgresDatabaseURL(pgServer.url, name)
}

// setupPostgresTemplate connects to the admin database and migrates a
// template once: CREATE DATABASE ... TEMPLATE is much faster than running
// every migration for every test.
func setupPostgresTemplate() {
	pgServer.url = os.Getenv(testPostgresEnv)
	if pgServer.url == "" {
		pgServer.url = defaultPostgresURL
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	admin, err := pgxpool.New(ctx, pgServer.url)
	if err == nil {
		err = admin.Ping(ctx)
	}
	if err != nil {
		pgServer.err = fmt.Errorf("PostgreSQL is unreachable at %s (set %s): %v", redactedURL(pgServer.url), testPostgresEnv, err)
		if admin != nil {
			admin.Close()
		}
		return
	}
	pgServer.admin = admin
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	name := "herald_e2e_tpl_" + hex.EncodeToString(b)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()+" TEMPLATE template0"); err != nil {
		pgServer.err = fmt.Errorf("create template database: %v", err)
		return
	}
	pgServer.template = name
	if err := postgres.Migrate(ctx, postgresDatabaseURL(pgServer.url, name)); err != nil {
		pgServer.err = fmt.Errorf("migrate template database: %v", err)
	}
}

func dropDatabase(admin *pgxpool.Pool, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		fmt.Fprintf(os.Stderr, "drop test database %s: %v\n", name, err)
	}
}

// postgresDatabaseURL is the admin URL pointed at database name.
func postgresDatabaseURL(admin, name string) string {
	if u, err := url.Parse(admin); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		u.Path = "/" + name
		return u.String()
	}
	return admin + " dbname=" + name // key=value DSN: the last setting wins
}

func redactedURL(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.Scheme != "" {
		return u.Redacted()
	}
	return "the configured DSN"
}

// newRedisPrefix returns the test Redis URL and a prefix no other test
// uses; the prefix's keys are deleted when the test ends.
func newRedisPrefix(t *testing.T) (string, string) {
	t.Helper()
	u := os.Getenv(testRedisEnv)
	if u == "" {
		u = defaultTestRedisURL
	}
	opts, err := redis.ParseURL(u)
	if err != nil {
		t.Fatalf("%s: %v (the E2E harness supports a single-node redis:// URL)", testRedisEnv, err)
	}
	c := redis.NewClient(opts)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		_ = c.Close()
		t.Fatalf("Redis is unreachable at %s (set %s): %v", redactedURL(u), testRedisEnv, err)
	}
	prefix := "herald-e2e-" + randomHex(t)
	t.Cleanup(func() {
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		iter := c.Scan(ctx, 0, prefix+":*", 1000).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		if err := iter.Err(); err != nil {
			t.Errorf("scan test keys: %v", err)
		}
		if len(keys) > 0 {
			if err := c.Unlink(ctx, keys...).Err(); err != nil {
				t.Errorf("delete test keys: %v", err)
			}
		}
	})
	return u, prefix
}

func randomHex(t *testing.T) string {
	t.Helper()
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

package op_test

// The store behind the end-to-end harness. HERALD_E2E_STORE picks it:
//
//	unset or "sqlite"  a fresh SQLite file per test (the default)
//	"postgres+redis"   a fresh PostgreSQL database per test (copied from a
//	                   template migrated once per process) with auth
//	                   requests, codes and sessions in Redis under a unique
//	                   key prefix — the production set-up
//	"postgres+rediscluster"  the same on a local three-master Redis Cluster
//	                   (3 masters, 3 replicas) the test process starts
//	"postgres+sentinel"      the same on a local Sentinel group (1 master,
//	                   1 replica, 3 sentinels) the test process starts
//
// `make test` runs the E2E tests on SQLite and on PostgreSQL + Redis. An unreachable PostgreSQL or
// Redis fails the test: a silently skipped backend proves nothing.

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/herald-idp/herald/storage"
	"github.com/herald-idp/herald/storage/postgres"
	redisstore "github.com/herald-idp/herald/storage/redis"
	"github.com/herald-idp/herald/storage/sqlite"
	"github.com/herald-idp/herald/storage/storagetest/backends"
)

const (
	e2eStoreEnv          = "HERALD_E2E_STORE"
	e2eStorePostgresPlus = "postgres+redis"
	e2eStoreCluster      = "postgres+rediscluster"
	e2eStoreSentinel     = "postgres+sentinel"
)

// e2ePostgresOptions keeps each test's pool small: tests run in parallel
// and share the server's max_connections.
var e2ePostgresOptions = postgres.Options{MaxConns: 4}

// TestMain drops the PostgreSQL template database, which outlives every
// single test, once they have all run.
func TestMain(m *testing.M) {
	code := m.Run()
	backends.Cleanup()
	os.Exit(code)
}

// newE2EStore returns the store for one test, closed (and its database and
// keys removed) when the test ends, and the notifier cmd/herald would
// choose for it (nil for SQLite).
func newE2EStore(t *testing.T) (storage.Store, storage.Notifier) {
	t.Helper()
	switch kind := os.Getenv(e2eStoreEnv); kind {
	case "", "sqlite":
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "herald.db"))
		if err != nil {
			t.Fatalf("open sqlite: %v", err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s, nil
	case e2eStorePostgresPlus, e2eStoreCluster, e2eStoreSentinel:
		return newPostgresRedisStore(t)
	default:
		t.Fatalf("%s=%q: want sqlite, %s, %s or %s", e2eStoreEnv, kind, e2eStorePostgresPlus, e2eStoreCluster, e2eStoreSentinel)
		return nil, nil
	}
}

// newPostgresRedisStore combines a fresh PostgreSQL database with a fresh
// Redis key prefix, as cmd/herald does for HERALD_REDIS_URL; Redis is the
// notifier.
func newPostgresRedisStore(t *testing.T) (storage.Store, storage.Notifier) {
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
	return s, short
}

// newPostgresDatabase creates a database from the migrated template and
// drops it (WITH (FORCE)) when the test ends.
func newPostgresDatabase(t *testing.T) string {
	t.Helper()
	return backends.PostgresDatabase(t)
}

// newRedisPrefix returns the test Redis URL and a prefix no other test
// uses; the prefix's keys are deleted when the test ends. The Redis is the
// Cluster or Sentinel group HERALD_E2E_STORE names, else the shared
// single-node test Redis (also for the tests that always run on PostgreSQL
// + Redis, such as the replica tests).
func newRedisPrefix(t *testing.T) (string, string) {
	t.Helper()
	switch os.Getenv(e2eStoreEnv) {
	case e2eStoreCluster:
		return backends.RedisClusterPrefix(t)
	case e2eStoreSentinel:
		return backends.RedisSentinelPrefix(t)
	}
	return backends.RedisPrefix(t)
}

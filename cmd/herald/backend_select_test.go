package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/herald-idp/herald/storage"
	"github.com/herald-idp/herald/storage/postgres"
	redisstore "github.com/herald-idp/herald/storage/redis"
	"github.com/herald-idp/herald/storage/sqlite"
)

// Backend selection by HERALD_DATABASE_URL and HERALD_REDIS_URL, run
// in-process against the machine's PostgreSQL and Redis.

const testKEK = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

// TestPostgresNeedsMigrate: an unmigrated database is refused with
// instructions; `herald migrate` (idempotent) fixes it.
func TestPostgresNeedsMigrate(t *testing.T) {
	testEnv(t)
	t.Setenv("HERALD_DATABASE_URL", testPostgresDatabase(t))
	t.Setenv("HERALD_KEY_ENCRYPTION_KEY", testKEK)

	r := herald(t, "", "tenant", "list")
	if r.code != 1 || !strings.Contains(r.stderr, "herald migrate") || !strings.Contains(r.stderr, "--migrate") {
		t.Fatalf("unmigrated database: exit %d, stderr %q; want exit 1 naming `herald migrate` and --migrate", r.code, r.stderr)
	}
	for range 2 { // migrating a migrated database is a no-op
		if out := mustJSON(t, "", "migrate"); out["status"] != "migrated" {
			t.Fatalf("migrate printed %v", out)
		}
	}
	mustJSON(t, "", "tenant", "create", "--name", "acme")
	list := mustJSON(t, "", "tenant", "list")
	if tenants, _ := list["tenants"].([]any); len(tenants) != 1 {
		t.Fatalf("tenant list after create: %v", list)
	}
}

// TestMigrateFlagOverridesEnvironment: --database-url picks the database.
func TestMigrateFlagOverridesEnvironment(t *testing.T) {
	dir := testEnv(t)
	db := filepath.Join(dir, "other.db")
	if out := mustJSON(t, "", "migrate", "--database-url", "sqlite:"+db); out["status"] != "migrated" {
		t.Fatalf("migrate printed %v", out)
	}
	if _, err := os.Stat(db); err != nil {
		t.Fatalf("migrate --database-url sqlite:%s created no database: %v", db, err)
	}
}

// TestPostgresRequiresKEK: with PostgreSQL no KEK file is generated
// (replicas could not share it), so a KEK is required; only the explicit
// development switch allows unencrypted keys, with a warning.
func TestPostgresRequiresKEK(t *testing.T) {
	dir := testEnv(t)
	t.Setenv("HERALD_DATABASE_URL", testPostgresDatabase(t))
	t.Setenv("HERALD_MIGRATE", "true") // honoured by serve only
	r := herald(t, "", "tenant", "create", "--name", "acme")
	if r.code != 1 || !strings.Contains(r.stderr, "HERALD_KEY_ENCRYPTION_KEY") || !strings.Contains(r.stderr, "HERALD_ALLOW_PLAINTEXT_KEYS") {
		t.Fatalf("exit %d, stderr %q; want a refusal naming HERALD_KEY_ENCRYPTION_KEY", r.code, r.stderr)
	}
	t.Setenv("HERALD_ALLOW_PLAINTEXT_KEYS", "true")
	r = herald(t, "", "tenant", "create", "--name", "acme")
	if r.code != 1 || !strings.Contains(r.stderr, "herald migrate") {
		t.Fatalf("HERALD_MIGRATE must not make tenant create migrate: exit %d, stderr %q", r.code, r.stderr)
	}
	mustJSON(t, "", "migrate")
	r = herald(t, "", "tenant", "create", "--name", "acme")
	if r.code != 0 || !strings.Contains(r.stderr, "DEVELOPMENT ONLY: signing keys are stored unencrypted") {
		t.Fatalf("exit %d, stderr %q; want success with the development-only warning", r.code, r.stderr)
	}
	cwd, _ := os.Getwd()
	for _, d := range []string{dir, cwd} {
		if _, err := os.Stat(filepath.Join(d, kekFileName)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("a KEK file was generated in %s with PostgreSQL (%v)", d, err)
		}
	}
}

// TestConnectionPasswordsNeverPrinted: failing to reach PostgreSQL or
// Redis names the problem without the password in the URL.
func TestConnectionPasswordsNeverPrinted(t *testing.T) {
	const secret = "Hunter2-very-secret"
	closed := freeAddr(t) // nothing listens there
	for _, tc := range []struct{ name, env, value string }{
		{"postgres", "HERALD_DATABASE_URL", "postgres://herald:" + secret + "@" + closed + "/herald?sslmode=disable"},
		{"redis", "HERALD_REDIS_URL", "redis://:" + secret + "@" + closed + "/0"},
		{"redis user", "HERALD_REDIS_URL", "redis://herald:" + secret + "@" + closed + "/0"},
		{"redis lone password", "HERALD_REDIS_URL", "redis://" + secret + "@" + closed + "/0"},
		{"redis sentinel", "HERALD_REDIS_URL", "redis-sentinel://:" + secret + "@" + closed + "/mymaster"},
		{"bad redis scheme", "HERALD_REDIS_URL", "memcached://:" + secret + "@" + closed},
		{"bad postgres URL", "HERALD_DATABASE_URL", "postgres://herald:" + secret + "@[::1/herald"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			testEnv(t)
			t.Setenv("HERALD_DATABASE_TIMEOUT", "2s")
			t.Setenv("HERALD_KEY_ENCRYPTION_KEY", testKEK) // PostgreSQL needs one before it connects
			t.Setenv(tc.env, tc.value)
			r := herald(t, "", "tenant", "list", "--log-level", "debug")
			if r.code != 1 || r.stderr == "" {
				t.Fatalf("exit %d, stderr %q; want exit 1 with a message", r.code, r.stderr)
			}
			if strings.Contains(r.stderr, secret) || strings.Contains(r.stdout, secret) {
				t.Fatalf("the password appears in the output: %q", r.stderr)
			}
			if !strings.Contains(r.stderr, tc.env) {
				t.Errorf("the message does not name %s: %q", tc.env, r.stderr)
			}
		})
	}
}

func TestRedactURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"sqlite:./data/herald.db", "sqlite:./data/herald.db"},
		{"postgres://herald:pw@db:5432/herald?sslmode=require", "postgres://herald:xxxxx@db:5432/herald?sslmode=require"},
		{"postgres://herald@db/herald", "postgres://herald@db/herald"},
		{"postgresql://u:p%40ss@db/h", "postgresql://u:xxxxx@db/h"},
		{"postgres://u:pa/ss@db/h", "postgres://u:xxxxx@db/h"},
		{"postgres://u:p@ss@db/h", "postgres://u:xxxxx@db/h"},
		{"redis://:pw@cache:6379/0", "redis://:xxxxx@cache:6379/0"},
		{"redis://pw@cache:6379/0", "redis://xxxxx@cache:6379/0"},
		{"rediss://user:pw@cache:6380", "rediss://user:xxxxx@cache:6380"},
		{"redis-cluster://:pw@a:7000,b:7001", "redis-cluster://:xxxxx@a:7000,b:7001"},
		{"redis-sentinel://:pw@s1:26379,s2/mymaster", "redis-sentinel://:xxxxx@s1:26379,s2/mymaster"},
		{"redis://cache:6379/0", "redis://cache:6379/0"},
		{"", ""},
	} {
		if got := redactURL(tc.in); got != tc.want {
			t.Errorf("redactURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestSQLiteWithRedis: Redis may hold the short-lived records of a SQLite
// installation too; /readyz then checks both.
func TestSQLiteWithRedis(t *testing.T) {
	testEnv(t)
	redisURL, prefix := testRedis(t)
	t.Setenv("HERALD_REDIS_URL", redisURL)
	t.Setenv("HERALD_REDIS_PREFIX", prefix)
	addr := freeAddr(t)
	s := startServe(t, addr)
	demo, _ := s.demoOutput(t)
	web := rpClient{issuer: demo.Issuer, id: demo.ConfidentialClient.ClientID,
		secret: demo.ConfidentialClient.ClientSecret, redirect: demo.ConfidentialClient.RedirectURI}
	if r := readyz(t, "http://"+addr); r.status != http.StatusOK {
		t.Fatalf("/readyz: %d %s", r.status, r.body)
	}
	code, ar := signIn(t, newBrowser(t, "http://"+addr), web, demo.User.Username, demo.User.Password, "openid")
	if r := exchange(t, web, code, ar); r.status != http.StatusOK {
		t.Fatalf("code exchange: %d %s", r.status, r.body)
	}
	if keys := redisKeys(t, redisClient(t, redisURL), prefix); len(keys) == 0 {
		t.Fatal("no key under the Redis prefix after a login: the session is not in Redis")
	}
	if code := s.stop(t); code != 0 {
		t.Fatalf("serve exit %d\nstderr: %s", code, s.stderr.String())
	}
}

// TestSingleStoreNamesItself: without Redis, a failing Ping still names the
// backend, so /readyz says which dependency is down.
func TestSingleStoreNamesItself(t *testing.T) {
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "h.db"))
	if err != nil {
		t.Fatal(err)
	}
	named := namedStore{Store: s, name: "sqlite"}
	if err := named.Ping(context.Background()); err != nil {
		t.Fatalf("Ping of an open store: %v", err)
	}
	_ = s.Close()
	var de *storage.DependencyError
	if err := named.Ping(context.Background()); !errors.As(err, &de) || de.Name != "sqlite" {
		t.Fatalf("Ping of a closed store = %v, want a DependencyError naming sqlite", err)
	}
}

// TestStoreChoosesNotifier: openStore chooses the notifier op and the
// CLI announce tenant changes through — Redis pub/sub when Redis is
// configured, else PostgreSQL NOTIFY, else none — and hands it over
// explicitly; the store itself is no Notifier for anyone to find by a type
// assertion.
func TestStoreChoosesNotifier(t *testing.T) {
	testEnv(t)
	dbURL := testPostgresDatabase(t)
	mustJSON(t, "", "migrate", "--database-url", dbURL)
	redisURL, prefix := testRedis(t)
	for _, tc := range []struct {
		name, dbURL, redisURL string
		want                  string // the notifier's type, "" for none
	}{
		{"postgres", dbURL, "", fmt.Sprintf("%T", &postgres.Store{})},
		{"postgres+redis", dbURL, redisURL, fmt.Sprintf("%T", &redisstore.Store{})},
		{"sqlite", "sqlite:" + filepath.Join(t.TempDir(), "h.db"), "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := defaultConfig()
			cfg.DatabaseURL, cfg.RedisURL, cfg.RedisPrefix = tc.dbURL, tc.redisURL, prefix
			s, n, err := openStore(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			got := ""
			if n != nil {
				got = fmt.Sprintf("%T", n)
			}
			if got != tc.want {
				t.Fatalf("notifier %q, want %q", got, tc.want)
			}
			if _, ok := s.(storage.Notifier); ok {
				t.Fatalf("the store (%T) is a storage.Notifier; the notifier must be passed explicitly", s)
			}
			if err := s.Ping(context.Background()); err != nil {
				t.Fatalf("Ping: %v", err)
			}
		})
	}
}

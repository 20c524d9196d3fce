package backends

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/herald-idp/herald/storage/postgres"
)

// PostgresURLEnv names the admin connection tests create and drop their
// databases through; DefaultPostgresURL is used when it is unset.
const (
	PostgresURLEnv     = "HERALD_TEST_POSTGRES_URL"
	DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
)

// server holds the admin pool and a migrated template database that every
// migrated test database is copied from (CREATE DATABASE ... TEMPLATE is
// much faster than migrating each one). Both live for the test process;
// Cleanup, run from TestMain, releases them.
var server struct {
	mu       sync.Mutex // guards the fields below against Cleanup
	admin    *pgxpool.Pool
	adminErr error
	template string
	tplErr   error
	adminSet bool
	tplSet   bool
}

// PostgresAdminURL is the admin URL from PostgresURLEnv, or the default.
func PostgresAdminURL() string {
	if u := os.Getenv(PostgresURLEnv); u != "" {
		return u
	}
	return DefaultPostgresURL
}

// PostgresDatabase creates a database for t, copied from a template that is
// migrated once per process, and drops it WITH (FORCE) when t ends. It
// returns the database's URL.
func PostgresDatabase(t testing.TB) string {
	t.Helper()
	return newDatabase(t, true)
}

// EmptyPostgresDatabase is PostgresDatabase without the migrations: the
// database is copied from template0.
func EmptyPostgresDatabase(t testing.TB) string {
	t.Helper()
	return newDatabase(t, false)
}

func newDatabase(t testing.TB, migrated bool) string {
	t.Helper()
	admin := adminPool(t)
	template := "template0"
	if migrated {
		template = migratedTemplate(t)
	}
	name := "herald_test_" + RandomHex(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()+
		" TEMPLATE "+pgx.Identifier{template}.Sanitize())
	if err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		if err := dropDatabase(admin, name); err != nil {
			t.Errorf("%v", err)
		}
	})
	return PostgresDatabaseURL(PostgresAdminURL(), name)
}

// adminPool connects to the admin database once per process.
func adminPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	server.mu.Lock()
	defer server.mu.Unlock()
	if !server.adminSet {
		server.adminSet = true
		raw := PostgresAdminURL()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		admin, err := pgxpool.New(ctx, raw)
		if err == nil {
			err = admin.Ping(ctx)
		}
		if err != nil {
			if admin != nil {
				admin.Close()
			}
			server.adminErr = fmt.Errorf("PostgreSQL is unreachable at %s (set %s): %v", RedactURL(raw), PostgresURLEnv, err)
		} else {
			server.admin = admin
		}
	}
	if server.adminErr != nil {
		t.Fatal(server.adminErr)
	}
	return server.admin
}

// migratedTemplate creates and migrates the template database once per
// process and returns its name.
func migratedTemplate(t testing.TB) string {
	t.Helper()
	admin := adminPool(t)
	server.mu.Lock()
	defer server.mu.Unlock()
	if !server.tplSet {
		server.tplSet = true
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		name := "herald_tpl_" + RandomHex(t)
		if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()+" TEMPLATE template0"); err != nil {
			server.tplErr = fmt.Errorf("create template database: %v", err)
		} else {
			// Recorded before migrating so that Cleanup drops it either way.
			server.template = name
			if err := postgres.Migrate(ctx, PostgresDatabaseURL(PostgresAdminURL(), name)); err != nil {
				server.tplErr = fmt.Errorf("migrate template database: %v", err)
			}
		}
	}
	if server.tplErr != nil {
		t.Fatal(server.tplErr)
	}
	return server.template
}

// Cleanup drops the template database, closes the admin pool and stops the
// shared Redis Cluster and Sentinel group. Call it from TestMain after
// m.Run: these outlive every single test, so no t.Cleanup can remove them,
// and a finalizer would not run at process exit.
func Cleanup() {
	stopSharedRedis()
	server.mu.Lock()
	defer server.mu.Unlock()
	if server.admin == nil {
		return
	}
	if server.template != "" {
		if err := dropDatabase(server.admin, server.template); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
	server.admin.Close()
}

func dropDatabase(admin *pgxpool.Pool, name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop test database %s: %v", name, err)
	}
	return nil
}

// PostgresDatabaseURL is the admin URL pointed at database name.
func PostgresDatabaseURL(admin, name string) string {
	if u, err := url.Parse(admin); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		u.Path = "/" + name
		return u.String()
	}
	return admin + " dbname=" + name // key=value DSN: the last setting wins
}

// RedactURL hides the password of a URL, and the whole of anything else
// (a key=value DSN may carry one too), for messages.
func RedactURL(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.Scheme != "" {
		return u.Redacted()
	}
	return "the configured DSN"
}

// RandomHex returns 16 random hex digits, for names no other test uses.
func RandomHex(t testing.TB) string {
	t.Helper()
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

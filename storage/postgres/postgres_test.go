package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/herald-idp/herald/storage"
	"github.com/herald-idp/herald/storage/postgres"
	"github.com/herald-idp/herald/storage/storagetest"
)

// urlEnv names the admin connection the tests use to create and drop their
// databases. The tests fail, never skip, when it is unreachable: CI relies
// on them running.
const (
	urlEnv     = "HERALD_TEST_POSTGRES_URL"
	defaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
)

// testOptions keeps the pool small: parallel subtests each open one, and
// the server's max_connections (100 by default) is shared by all of them.
var testOptions = postgres.Options{MaxConns: 4}

// server holds the admin pool and a migrated template database that every
// test database is copied from (CREATE DATABASE ... TEMPLATE is much faster
// than migrating each one).
var server struct {
	once     sync.Once
	err      error
	url      string
	admin    *pgxpool.Pool
	template string
}

func TestMain(m *testing.M) {
	code := m.Run()
	if server.admin != nil {
		if server.template != "" {
			dropDatabase(server.admin, server.template)
		}
		server.admin.Close()
	}
	os.Exit(code)
}

// setup connects to the admin database and builds the template, once.
func setup(t *testing.T) {
	t.Helper()
	server.once.Do(func() {
		server.url = os.Getenv(urlEnv)
		if server.url == "" {
			server.url = defaultURL
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		admin, err := pgxpool.New(ctx, server.url)
		if err == nil {
			err = admin.Ping(ctx)
		}
		if err != nil {
			server.err = fmt.Errorf("PostgreSQL is unreachable at %s (set %s): %v", redact(server.url), urlEnv, err)
			return
		}
		server.admin = admin
		name := "herald_tpl_" + randomHex()
		if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()+" TEMPLATE template0"); err != nil {
			server.err = fmt.Errorf("create template database: %v", err)
			return
		}
		server.template = name
		if err := postgres.Migrate(ctx, databaseURL(t, name)); err != nil {
			server.err = fmt.Errorf("migrate template database: %v", err)
		}
	})
	if server.err != nil {
		t.Fatal(server.err)
	}
}

// newDatabase creates a database for t, migrated unless empty is set, and
// drops it when t ends. It returns its URL.
func newDatabase(t *testing.T, empty bool) string {
	t.Helper()
	setup(t)
	name := "herald_test_" + randomHex()
	template := server.template
	if empty {
		template = "template0"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := server.admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()+
		" TEMPLATE "+pgx.Identifier{template}.Sanitize())
	if err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() { dropDatabase(server.admin, name) })
	return databaseURL(t, name)
}

func dropDatabase(admin *pgxpool.Pool, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	if err != nil {
		fmt.Fprintf(os.Stderr, "drop test database %s: %v\n", name, err)
	}
}

// databaseURL is the admin URL pointed at another database.
func databaseURL(t *testing.T, name string) string {
	t.Helper()
	if u, err := url.Parse(server.url); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		u.Path = "/" + name
		return u.String()
	}
	return server.url + " dbname=" + name // key=value DSN: the last setting wins
}

func redact(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.Scheme != "" {
		return u.Redacted()
	}
	return "the configured DSN"
}

func randomHex() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// openStore opens a store on a fresh migrated database.
func openStore(t *testing.T, opts postgres.Options) *postgres.Store {
	t.Helper()
	s, _ := openStoreURL(t, opts)
	return s
}

// openStoreURL is openStore that also returns the database's URL.
func openStoreURL(t *testing.T, opts postgres.Options) (*postgres.Store, string) {
	t.Helper()
	dbURL := newDatabase(t, false)
	// Migrating a migrated database is a no-op (every replica runs it).
	if err := postgres.Migrate(t.Context(), dbURL); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	s, err := postgres.Open(t.Context(), dbURL, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s, dbURL
}

func TestContract(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store { return openStore(t, testOptions) })
}

// Replicas starting at once all run Migrate: the advisory lock makes one
// apply the migrations while the other waits and then finds nothing to do.
func TestMigrateConcurrently(t *testing.T) {
	dbURL := newDatabase(t, true)
	const replicas = 4
	errs := make(chan error, replicas)
	start := make(chan struct{})
	for range replicas {
		go func() {
			<-start
			errs <- postgres.Migrate(t.Context(), dbURL)
		}()
	}
	close(start)
	for range replicas {
		if err := <-errs; err != nil {
			t.Errorf("concurrent Migrate: %v", err)
		}
	}
	s, err := postgres.Open(t.Context(), dbURL, testOptions)
	if err != nil {
		t.Fatalf("Open after Migrate: %v", err)
	}
	defer s.Close()
	if err := s.CreateTenant(t.Context(), &storage.Tenant{Name: "acme", CreatedAt: time.Now()}); err != nil {
		t.Fatalf("CreateTenant: %v", err)
	}
}

func TestOpenUnmigrated(t *testing.T) {
	s, err := postgres.Open(t.Context(), newDatabase(t, true), testOptions)
	if err == nil {
		s.Close()
		t.Fatal("Open of an unmigrated database succeeded")
	}
	if !errors.Is(err, postgres.ErrNotMigrated) || !strings.Contains(err.Error(), "herald migrate") {
		t.Fatalf("Open of an unmigrated database: %v, want ErrNotMigrated naming `herald migrate`", err)
	}
	if errors.Is(err, storage.ErrUnavailable) {
		t.Fatalf("an unmigrated schema is not an unavailable server: %v", err)
	}
}

func TestOpenRejectsBadInput(t *testing.T) {
	const password = "s3cr3t-pw"
	tests := []struct {
		name string
		url  string
		opts postgres.Options
	}{
		{"negative MaxConns", defaultURL, postgres.Options{MaxConns: -1}},
		{"negative OpTimeout", defaultURL, postgres.Options{OpTimeout: -time.Second}},
		{"malformed URL", "postgres://u:" + password + "@127.0.0.1:5432/db?sslmode=bogus", postgres.Options{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := postgres.Open(t.Context(), tc.url, tc.opts)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			if strings.Contains(err.Error(), password) {
				t.Fatalf("error reveals the password: %v", err)
			}
		})
	}
}

// Port 1 on the loopback interface refuses connections at once, so these
// fail fast and deterministically; OpTimeout bounds them in any case.
func TestUnreachableServerIsUnavailable(t *testing.T) {
	const unreachable = "postgres://postgres@127.0.0.1:1/postgres?sslmode=disable"
	opts := postgres.Options{OpTimeout: 2 * time.Second}
	s, err := postgres.Open(t.Context(), unreachable, opts)
	if err == nil {
		s.Close()
		t.Fatal("Open of an unreachable server succeeded")
	}
	if !errors.Is(err, storage.ErrUnavailable) {
		t.Errorf("Open: %v, want ErrUnavailable", err)
	}
	if err := postgres.Migrate(t.Context(), unreachable); !errors.Is(err, storage.ErrUnavailable) {
		t.Errorf("Migrate: %v, want ErrUnavailable", err)
	}
}

func TestClosedStoreIsUnavailable(t *testing.T) {
	s := openStore(t, testOptions)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	ctx := t.Context()
	calls := map[string]error{
		"Ping":         s.Ping(ctx),
		"Sweep":        s.Sweep(ctx, time.Now()),
		"CreateTenant": s.CreateTenant(ctx, &storage.Tenant{Name: "acme"}),
	}
	_, calls["Tenant"] = s.Tenant(ctx, "acme")
	_, calls["ConsumeAuthCode"] = s.ConsumeAuthCode(ctx, "acme", "hash", time.Now())
	_, calls["UpdateUser"] = s.UpdateUser(ctx, "acme", "u1", func(*storage.User) error { return nil })
	for name, err := range calls {
		if !errors.Is(err, storage.ErrUnavailable) {
			t.Errorf("%s on a closed store: %v, want ErrUnavailable", name, err)
		}
	}
}

// A call stuck behind a row lock gives up at OpTimeout with ErrUnavailable
// instead of hanging. The outer UpdateTenant holds the lock for as long as
// its closure runs, which is until the inner call has returned.
func TestOpTimeoutIsUnavailable(t *testing.T) {
	dbURL := newDatabase(t, false)
	holder, err := postgres.Open(t.Context(), dbURL, testOptions)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer holder.Close()
	impatient, err := postgres.Open(t.Context(), dbURL, postgres.Options{MaxConns: 2, OpTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer impatient.Close()

	ctx := t.Context()
	now := time.Now()
	if err := holder.CreateTenant(ctx, &storage.Tenant{Name: "acme", CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	var blocked error
	_, err = holder.UpdateTenant(ctx, "acme", func(*storage.Tenant) error {
		_, blocked = impatient.UpdateTenant(ctx, "acme", func(tn *storage.Tenant) error {
			tn.DisplayName = "must not be stored"
			return nil
		})
		return nil
	})
	if err != nil {
		t.Fatalf("outer UpdateTenant: %v", err)
	}
	if !errors.Is(blocked, storage.ErrUnavailable) || !errors.Is(blocked, context.DeadlineExceeded) {
		t.Fatalf("blocked UpdateTenant: %v, want ErrUnavailable wrapping context.DeadlineExceeded", blocked)
	}
	got, err := impatient.Tenant(ctx, "acme")
	if err != nil {
		t.Fatalf("the impatient store must work again once the lock is gone: %v", err)
	}
	if got.DisplayName == "must not be stored" {
		t.Fatal("the timed-out update was stored")
	}
}

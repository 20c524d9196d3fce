package postgres_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/herald-idp/herald/storage"
	"github.com/herald-idp/herald/storage/postgres"
	"github.com/herald-idp/herald/storage/storagetest"
	"github.com/herald-idp/herald/storage/storagetest/backends"
)

// testOptions keeps the pool small: parallel subtests each open one, and
// the server's max_connections (100 by default) is shared by all of them.
var testOptions = postgres.Options{MaxConns: 4}

// defaultURL is an admin URL that parses, for input-validation tests that
// never connect.
const defaultURL = backends.DefaultPostgresURL

func TestMain(m *testing.M) {
	code := m.Run()
	backends.Cleanup()
	os.Exit(code)
}

// newDatabase creates a database for t, migrated unless empty is set, and
// drops it when t ends. It returns its URL.
func newDatabase(t *testing.T, empty bool) string {
	t.Helper()
	if empty {
		return backends.EmptyPostgresDatabase(t)
	}
	return backends.PostgresDatabase(t)
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

package sqlite_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/herald-idp/herald/storage"
	"github.com/herald-idp/herald/storage/sqlite"
	"github.com/herald-idp/herald/storage/storagetest"
)

func TestContract(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store {
		s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "herald.db"))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	})
}

func TestContractMemory(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store {
		s, err := sqlite.Open(t.Context(), sqlite.MemoryDSN)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	})
}

func TestReopenKeepsData(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "nested", "dir", "herald.db")
	now := time.Now().UTC().Truncate(time.Millisecond)

	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := s.CreateTenant(ctx, &storage.Tenant{Name: "acme", CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateUser(ctx, &storage.User{TenantID: "acme", ID: "u1", Username: "ada", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	secret, err := s.Secret(ctx, "csrf", func() ([]byte, error) { return []byte("k1"), nil })
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	// Reopening applies no migration twice and finds everything.
	s, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	u, err := s.UserByUsername(ctx, "acme", "ada")
	if err != nil {
		t.Fatalf("user after reopen: %v", err)
	}
	if u.ID != "u1" || !u.CreatedAt.Equal(now) {
		t.Fatalf("user after reopen = %+v", u)
	}
	again, err := s.Secret(ctx, "csrf", func() ([]byte, error) { return []byte("k2"), nil })
	if err != nil || string(again) != string(secret) {
		t.Fatalf("secret after reopen = %q, %v; want %q", again, err, secret)
	}
}

func TestOpenCreatesPrivateFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	path := filepath.Join(dir, "herald.db")
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	for p, want := range map[string]os.FileMode{dir: 0o700, path: 0o600} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s mode = %v, want %v", filepath.Base(p), got, want)
		}
	}
}

func TestOpenRejectsBadPaths(t *testing.T) {
	for _, dsn := range []string{"", "herald.db?_pragma=foreign_keys(0)", "a#b"} {
		if s, err := sqlite.Open(t.Context(), dsn); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", dsn)
		}
	}
}

// A record of a tenant that does not exist is refused: the foreign key
// that makes DeleteTenant cascade also keeps orphans out.
func TestUnknownTenantRefused(t *testing.T) {
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "herald.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	err = s.CreateClient(t.Context(), &storage.Client{TenantID: "ghost", ID: "web"})
	if !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("CreateClient in unknown tenant: %v, want ErrNotFound", err)
	}
}

// SQLite serves a single node: it has no way to tell other replicas about
// changes, and must not pretend to.
func TestNotANotifier(t *testing.T) {
	s, err := sqlite.Open(t.Context(), sqlite.MemoryDSN)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	if _, ok := any(s).(storage.Notifier); ok {
		t.Fatal("*sqlite.Store implements storage.Notifier")
	}
}

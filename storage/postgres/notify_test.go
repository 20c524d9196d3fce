package postgres_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/herald-idp/herald/storage"
	"github.com/herald-idp/herald/storage/postgres"
	"github.com/herald-idp/herald/storage/storagetest"
)

// openOn opens another store (replica) on the database at dbURL.
func openOn(t *testing.T, dbURL string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(t.Context(), dbURL, testOptions)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestNotifier(t *testing.T) {
	dbURL := newDatabase(t, false)
	storagetest.RunNotifier(t, func(t *testing.T) storage.Notifier { return openOn(t, dbURL) })
}

// When the listening connection dies, Subscribe connects and LISTENs
// again, says so with fn(""), and then receives announcements again.
func TestNotifierReconnects(t *testing.T) {
	dbURL := newDatabase(t, false)
	listener, publisher := openOn(t, dbURL), openOn(t, dbURL)
	sub := storagetest.Subscribe(t.Context(), listener)
	sub.WaitFor(t, "")

	// Another connection to the database ends its listening backend.
	conn, err := pgx.Connect(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var killed int
	err = conn.QueryRow(t.Context(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND query ILIKE 'LISTEN%' AND pid <> pg_backend_pid()`).Scan(&killed)
	if err != nil {
		t.Fatal(err)
	}
	if killed != 1 {
		t.Fatalf("terminated %d listening connections, want 1", killed)
	}
	sub.WaitFor(t, "")
	if err := publisher.Publish(t.Context(), "acme"); err != nil {
		t.Fatal(err)
	}
	sub.WaitFor(t, "acme")
}

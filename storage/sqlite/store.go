package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/herald-idp/herald/migrations"
	"github.com/herald-idp/herald/storage"
)

var _ storage.Store = (*Store)(nil)

// MemoryDSN opens a private in-memory database (one connection, gone at
// Close). Tests should prefer a file in t.TempDir(), which exercises WAL and
// the separate read pool like production does.
const MemoryDSN = ":memory:"

// Pragmas every connection gets. busy_timeout makes a connection wait for a
// lock (another process, or a checkpoint) instead of failing with
// SQLITE_BUSY; foreign_keys enables ON DELETE CASCADE from tenants.
const commonParams = "_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)"

// Store is the SQLite backend. SQLite allows one writer at a time, so all
// writes go through a pool of exactly one connection (transactions never
// contend inside the process) while reads use a separate pool of read-only
// connections that WAL lets run alongside the writer.
type Store struct {
	write *sql.DB
	read  *sql.DB
	hot   *hotReads // prepared statements on read (stmts.go)
	hotW  *hotReads // prepared statements of hot write transactions (stmts.go)
}

// Open opens (creating if needed) the database file at path dsn and applies
// the schema migrations. The parent directory is created with mode 0700 and
// a new file with 0600: it holds password hashes and signing keys. dsn may be
// MemoryDSN.
func Open(ctx context.Context, dsn string) (*Store, error) {
	if dsn == "" {
		return nil, errors.New("sqlite: empty database path")
	}
	if dsn == MemoryDSN {
		return openMemory(ctx)
	}
	if strings.ContainsAny(dsn, "?#") {
		return nil, errors.New("sqlite: database path must not contain '?' or '#'")
	}
	if err := prepareFile(dsn); err != nil {
		return nil, err
	}
	// _txlock=immediate: a write transaction takes the write lock at BEGIN,
	// so a read-then-write transaction cannot fail half-way with SQLITE_BUSY
	// when another process holds the lock; it waits for busy_timeout instead.
	write, err := sql.Open("sqlite", dsn+"?"+commonParams+
		"&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)
	if err := migrate(ctx, write); err != nil {
		_ = write.Close()
		return nil, err
	}
	// query_only guards against a write slipping onto the read pool, where
	// it would contend with the writer connection.
	read, err := sql.Open("sqlite", dsn+"?"+commonParams+"&_query_only=1")
	if err != nil {
		_ = write.Close()
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	readers := max(4, runtime.NumCPU())
	read.SetMaxOpenConns(readers)
	read.SetMaxIdleConns(readers)
	s := &Store{write: write, read: read, hot: &hotReads{db: read}, hotW: &hotReads{db: write}}
	if err := s.Ping(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	if err := s.hotW.prepareAll(ctx, hotWriteSQL()); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

// openMemory uses one connection for reads and writes: every connection to
// ":memory:" would otherwise be a database of its own.
func openMemory(ctx context.Context) (*Store, error) {
	db, err := sql.Open("sqlite", MemoryDSN+"?"+commonParams)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	if err := migrate(ctx, db); err != nil {
		_ = db.Close()
		return nil, err
	}
	s := &Store{write: db, read: db, hot: &hotReads{db: db}, hotW: &hotReads{db: db}}
	if err := s.hotW.prepareAll(ctx, hotWriteSQL()); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

// prepareFile creates the parent directory (0700) and an empty database file
// (0600) so that SQLite, which copies the main file's mode to the -wal and
// -shm files, never creates them world-readable.
func prepareFile(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("sqlite: create directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("sqlite: create database file: %w", err)
	}
	return f.Close()
}

// migrate applies the embedded migrations with a goose Provider (no goose
// global state, so tests may open many stores in parallel).
func migrate(ctx context.Context, db *sql.DB) error {
	fsys, err := fs.Sub(migrations.SQLite, "sqlite")
	if err != nil {
		return fmt.Errorf("sqlite: migrations: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("sqlite: migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	return nil
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

// Ping checks both pools.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.write.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	if err := s.read.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	return nil
}

// Sweep deletes expired short-lived records in one transaction. Used
// authorization codes and rotated refresh tokens are kept until they expire
// so that their reuse is still detected (RFC 6749 §4.1.2, RFC 9700 §4.14.2).
func (s *Store) Sweep(ctx context.Context, now time.Time) error {
	n := encTime(now)
	stmts := []string{
		`DELETE FROM auth_requests WHERE expires_at <= ?`,
		`DELETE FROM auth_codes WHERE expires_at <= ?`,
		`DELETE FROM sessions WHERE idle_expires_at <= ?1 OR absolute_expires_at <= ?1`,
		`DELETE FROM access_tokens WHERE expires_at <= ?`,
		`DELETE FROM refresh_tokens WHERE expires_at <= ?`,
		`DELETE FROM grants WHERE expires_at <= ?`,
		`DELETE FROM login_attempts WHERE expires_at <= ?`,
		`DELETE FROM upstream_states WHERE expires_at <= ?`,
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		for _, q := range stmts {
			if _, err := tx.ExecContext(ctx, q, n); err != nil {
				return fmt.Errorf("sqlite: sweep: %w", err)
			}
		}
		return nil
	})
}

// Close closes both pools.
func (s *Store) Close() error {
	s.hot.close()
	s.hotW.close()
	var errRead error
	if s.read != s.write {
		errRead = s.read.Close()
	}
	return errors.Join(errRead, s.write.Close())
}

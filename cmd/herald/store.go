package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/herald-idp/herald/storage"
	"github.com/herald-idp/herald/storage/sqlite"
)

// This file is the only place that names concrete storage backends. A
// backend is chosen by the scheme of HERALD_DATABASE_URL.

// backend opens a store from the part of the database URL after "scheme:".
type backend struct {
	open func(ctx context.Context, rest string) (storage.Store, error)
	// kekDir returns where a generated key-encryption key may be kept next
	// to the data (ok=false: the backend has no local files, so the KEK must
	// be configured), or ephemeral=true for throw-away in-memory data.
	kekDir func(rest string) (dir string, ephemeral, ok bool)
	// unsupported, when set, is why the scheme is known but not usable yet.
	unsupported string
}

var backends = map[string]backend{
	"sqlite":     {open: openSQLite, kekDir: sqliteKEKDir},
	"postgres":   {unsupported: "PostgreSQL is not supported yet; use sqlite:PATH"},
	"postgresql": {unsupported: "PostgreSQL is not supported yet; use sqlite:PATH"},
}

// splitDatabaseURL returns the backend for raw and the rest of the URL.
func splitDatabaseURL(raw string) (backend, string, error) {
	scheme, rest, found := strings.Cut(raw, ":")
	if !found || scheme == "" {
		return backend{}, "", fmt.Errorf("%q has no scheme; want sqlite:PATH", raw)
	}
	b, ok := backends[strings.ToLower(scheme)]
	if !ok {
		return backend{}, "", fmt.Errorf("unknown database scheme %q (known: %s)", scheme, knownSchemes())
	}
	if b.unsupported != "" {
		return backend{}, "", errors.New(b.unsupported)
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
	if b.kekDir != nil {
		if _, _, ok := b.kekDir(rest); !ok {
			return fmt.Errorf("%q names no database", raw)
		}
	}
	return nil
}

// openStore opens the store HERALD_DATABASE_URL names.
func openStore(ctx context.Context, raw string) (storage.Store, error) {
	b, rest, err := splitDatabaseURL(raw)
	if err != nil {
		return nil, err
	}
	return b.open(ctx, rest)
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

// sqlitePath turns the rest of "sqlite:PATH" into a file path. "sqlite:///abs"
// and "sqlite://./rel" are accepted as well as "sqlite:./rel" and
// "sqlite::memory:".
func sqlitePath(rest string) string {
	return strings.TrimPrefix(rest, "//")
}

func openSQLite(ctx context.Context, rest string) (storage.Store, error) {
	s, err := sqlite.Open(ctx, sqlitePath(rest))
	if err != nil {
		return nil, err
	}
	return s, nil
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

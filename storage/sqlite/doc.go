// Package sqlite is Herald's embedded default storage backend: one SQLite
// file (pure-Go driver modernc.org/sqlite), schema from package migrations
// applied with goose at Open. It implements storage.Store and must pass
// storage/storagetest. It must not import net/http, zitadel/oidc or op/...;
// only cmd/herald (and tests) import it.
package sqlite

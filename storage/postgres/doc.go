// Package postgres is Herald's production storage backend on PostgreSQL
// (pgx v5 with a bounded pgxpool). Migrate applies the schema from package
// migrations with goose under an advisory lock; Open never migrates. It
// implements storage.Store and storage.Notifier (LISTEN/NOTIFY) and must
// pass storage/storagetest. It must not
// import net/http, zitadel/oidc or op/...; only cmd/herald (and tests) import it.
package postgres

package migrations

import "embed"

// SQLite holds the migrations of the SQLite backend under "sqlite/"; use
// fs.Sub(SQLite, "sqlite") to hand them to goose.
//
//go:embed sqlite/*.sql
var SQLite embed.FS

// Postgres holds the migrations of the PostgreSQL backend under "postgres/";
// use fs.Sub(Postgres, "postgres") to hand them to goose.
//
//go:embed postgres/*.sql
var Postgres embed.FS

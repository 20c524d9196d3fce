package main

import (
	"context"
	"errors"
)

// runMigrate applies the migrations the database lacks. PostgreSQL
// migrations run under an advisory lock, so replicas (or a migrate job and
// replicas started with --migrate) may run it at once; SQLite migrates
// whenever it is opened, so this only creates or upgrades the file.
func runMigrate(ctx context.Context, c *cli, args []string) error {
	cfg, envErr := loadConfig()
	fs := newFlagSet(c, "migrate", "[--database-url URL]",
		"Brings the schema of HERALD_DATABASE_URL up to date (forward-only, each migration in a\n"+
			"transaction; safe to run from several replicas at once) and prints {\"status\":\"migrated\"}.\n"+
			"Gives up after 5 minutes. `herald serve --migrate` does the same before serving.")
	cfg.registerDatabaseFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := errors.Join(envErr, cfg.Validate()); err != nil {
		return err
	}
	log := newLogger(c.stderr, cfg)
	log.Info("migrating the database", "database", redactURL(cfg.DatabaseURL))
	if err := migrateDatabase(ctx, cfg.DatabaseURL); err != nil {
		return err
	}
	return writeJSON(c.stdout, struct {
		Status string `json:"status"`
	}{"migrated"})
}

package main

import (
	"context"
	"errors"
	"flag"

	"github.com/herald-idp/herald/op/admin"
)

// appCommand is the frame of a command that opens the app (store, keys,
// registry): its flag set, the configuration the flags complete, the flags
// that must be given and the checks of flags that exclude each other. All
// of them are made before anything is opened, so that a usage error never
// opens the store.
type appCommand struct {
	c        *cli
	fs       *flag.FlagSet
	cfg      *Config
	envErr   error // the environment's; reported once the flags are parsed
	required map[string]*string
	checks   []func() error
	// beforeOpen, when set, runs once the flags and configuration are
	// valid and before anything is opened, migrated or created: serve
	// binds its port there, so that a second `herald serve` on a taken
	// port changes nothing (the demo credentials in particular).
	beforeOpen func() error
}

// newAppCommand reads the environment and starts the flag set of the
// command "herald name"; the usage shows synopsis and description.
func newAppCommand(c *cli, name, synopsis, description string) *appCommand {
	cfg, envErr := loadConfig()
	return &appCommand{c: c, fs: newFlagSet(c, name, synopsis, description), cfg: cfg, envErr: envErr,
		required: map[string]*string{}}
}

// requiredString registers a string flag that must not be empty.
func (d *appCommand) requiredString(p *string, name, usage string) {
	d.fs.StringVar(p, name, "", usage)
	d.required[name] = p
}

// tenantFlag registers --tenant, required: the tenant the command acts in.
func (d *appCommand) tenantFlag(p *string) {
	d.requiredString(p, "tenant", "tenant `name` (required)")
}

// check adds a check of the parsed flags; checks run in the order added,
// after the required flags are found present.
func (d *appCommand) check(f func() error) { d.checks = append(d.checks, f) }

// open parses args (plus the common flags), makes the checks, validates the
// configuration and opens the app. The caller must Close it.
func (d *appCommand) open(ctx context.Context, args []string) (*app, error) {
	d.cfg.registerCommonFlags(d.fs)
	if err := parseFlags(d.fs, args); err != nil {
		return nil, err
	}
	if err := requireFlags(d.fs, d.required); err != nil {
		return nil, err
	}
	for _, check := range d.checks {
		if err := check(); err != nil {
			return nil, err
		}
	}
	if err := errors.Join(d.envErr, d.cfg.Validate()); err != nil {
		return nil, err
	}
	if d.beforeOpen != nil {
		if err := d.beforeOpen(); err != nil {
			return nil, err
		}
	}
	logger := newLogger(d.c.stderr, d.cfg)
	// Only commands that offer --migrate (serve) honour HERALD_MIGRATE: an
	// environment shared with `herald tenant create` must not make every
	// admin command a migration.
	if d.cfg.Migrate && d.fs.Lookup("migrate") != nil {
		logger.Info("migrating the database", "database", redactURL(d.cfg.DatabaseURL))
		if err := migrateDatabase(ctx, d.cfg.DatabaseURL); err != nil {
			return nil, err
		}
	}
	return openApp(ctx, d.cfg, logger)
}

// run opens the app, lets act do the command's work and prints what act
// returns as one line of JSON.
func (d *appCommand) run(ctx context.Context, args []string, act func(a *app) (any, error)) error {
	a, err := d.open(ctx, args)
	if err != nil {
		return err
	}
	defer a.Close()
	out, err := act(a)
	if err != nil {
		return err
	}
	if _, ok := out.(jsonLines); ok {
		return nil // act wrote its output itself
	}
	return writeJSON(d.c.stdout, out)
}

// rendered is what act returns for the result of a registry call: v as
// render shows it, or the call's error.
func rendered[T, J any](v T, err error, render func(T) J) (any, error) {
	if err != nil {
		return nil, err
	}
	return render(v), nil
}

// renderedList is rendered for a list: {"<key>":[...]}, as the admin API
// lists.
func renderedList[T, J any](key string, items []T, err error, render func(T) J) (any, error) {
	if err != nil {
		return nil, err
	}
	return admin.RenderList(key, items, render), nil
}

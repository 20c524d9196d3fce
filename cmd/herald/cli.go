package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"

	"github.com/herald-idp/herald/keys"
	"github.com/herald-idp/herald/op/password"
	"github.com/herald-idp/herald/op/registry"
	"github.com/herald-idp/herald/storage"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1 // the command ran and failed (bad input, storage, ...)
	exitUsage = 2 // the command line itself is wrong
)

// cli carries the process's standard streams to every command.
type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

// command runs one (sub-)command with the arguments after its name.
type command struct {
	summary string
	run     func(ctx context.Context, c *cli, args []string) error
}

func topCommands() map[string]command {
	return map[string]command{
		"serve":   {"run the OpenID Provider", runServe},
		"migrate": {"bring the database schema up to date", runMigrate},
		"tenant":  {"create, change, disable and delete tenants (issuers)", group("tenant", tenantCommands())},
		"client":  {"register and manage clients (relying parties)", group("client", clientCommands())},
		"user":    {"create and manage users, set passwords", group("user", userCommands())},
		"keys":    {"list a tenant's signing keys", group("keys", keysCommands())},
		"audit":   {"read the audit log", group("audit", auditCommands())},
		"admin":   {"set up the admin API", group("admin", adminCommands())},
		"version": {"print the version, commit and Go version", runVersion},
		"connector": {"add and manage upstream identity providers (sign in with Google, GitHub, ...)",
			group("connector", connectorCommands())},
	}
}

// run is the whole program: it returns the exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := &cli{stdin: stdin, stdout: stdout, stderr: stderr}
	err := group("", topCommands())(ctx, c, args)
	var ue *usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ue):
		if !ue.printed {
			fmt.Fprintf(stderr, "herald: %s\n", withoutProgramName(ue.err.Error()))
		}
		return exitUsage
	default:
		printError(stderr, err)
		return exitError
	}
}

// usageError is a mistake on the command line (exit 2). printed says the
// flag package has already shown the message and the usage.
type usageError struct {
	err     error
	printed bool
}

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return &usageError{err: fmt.Errorf(format, args...)}
}

// group dispatches to a sub-command; name is the path so far ("" for the
// top level).
func group(name string, cmds map[string]command) func(context.Context, *cli, []string) error {
	return func(ctx context.Context, c *cli, args []string) error {
		prefix := strings.TrimSpace("herald " + name)
		usage := func() {
			fmt.Fprintf(c.stderr, "Usage: %s COMMAND [flags]\n\nCommands:\n", prefix)
			for _, n := range sortedKeys(cmds) {
				fmt.Fprintf(c.stderr, "  %-14s %s\n", n, cmds[n].summary)
			}
			fmt.Fprintf(c.stderr, "\nRun '%s COMMAND --help' for the flags of a command.\n", prefix)
		}
		if len(args) == 0 {
			usage()
			return &usageError{err: errors.New("missing command"), printed: false}
		}
		switch args[0] {
		case "-h", "-help", "--help", "help":
			usage()
			return flag.ErrHelp
		case "-version", "--version":
			if name == "" {
				return runVersion(ctx, c, args[1:])
			}
		}
		cmd, ok := cmds[args[0]]
		if !ok {
			if strings.HasPrefix(args[0], "-") {
				if name == "" {
					return usagef("unknown flag %q (flags go after the command; run 'herald --help')", args[0])
				}
				return usagef("%s: unknown flag %q (flags go after the command)", name, args[0])
			}
			return usagef("unknown command %q; run '%s --help'", strings.TrimSpace(name+" "+args[0]), prefix)
		}
		return cmd.run(ctx, c, args[1:])
	}
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

// newFlagSet returns a flag set whose usage (on stderr) shows synopsis and
// description before the flags.
func newFlagSet(c *cli, name, synopsis, description string) *flag.FlagSet {
	fs := flag.NewFlagSet("herald "+name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.Usage = func() {
		fmt.Fprintf(c.stderr, "Usage: herald %s %s\n\n%s\n\nFlags:\n", name, synopsis, description)
		fs.PrintDefaults()
	}
	return fs
}

// withoutProgramName drops a leading "herald " from a message that
// names its command by its flag set ("herald client create: ..."), so that
// the "herald: " run prints before it is not doubled.
func withoutProgramName(msg string) string { return strings.TrimPrefix(msg, "herald ") }

// parseFlags parses args; help → the usage and flag.ErrHelp, anything else
// wrong → a usage error of one line that names the flag and the forms it
// accepts (flagError) — not the whole usage, which buries the one line
// that matters. Positional arguments are refused: every input is a flag.
func parseFlags(fs *flag.FlagSet, args []string) error {
	usage, out := fs.Usage, fs.Output()
	fs.Usage = func() {}
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	fs.Usage = usage
	fs.SetOutput(out)
	if errors.Is(err, flag.ErrHelp) {
		usage()
		return err
	}
	if err != nil {
		return &usageError{err: flagError(fs, err)}
	}
	if fs.NArg() > 0 {
		return &usageError{err: unexpectedArgument(fs, args)}
	}
	return nil
}

// requireFlags reports every empty required flag (name → value) as one
// usage error.
func requireFlags(fs *flag.FlagSet, required map[string]*string) error {
	var missing []string
	for _, name := range sortedKeys(required) {
		if *required[name] == "" {
			missing = append(missing, "--"+name)
		}
	}
	if len(missing) > 0 {
		return usagef("%s: missing required flag %s", fs.Name(), strings.Join(missing, ", "))
	}
	return nil
}

// writeJSON prints one JSON object on a line of stdout.
func writeJSON(w io.Writer, v any) error {
	return json.NewEncoder(w).Encode(v)
}

// deletedJSON is what a delete command prints: the API answers 204 with no
// body, but a script reading stdout deserves a line saying what went.
type deletedJSON struct {
	Deleted  bool   `json:"deleted"`
	Tenant   string `json:"tenant"`
	ClientID string `json:"client_id,omitempty"`
	UserID   string `json:"id,omitempty"`
	Username string `json:"username,omitempty"`
}

// printError writes err to stderr; validation errors become one line per
// problem, naming the flag.
func printError(w io.Writer, err error) {
	if ves := registry.ValidationErrors(err); len(ves) > 0 {
		for _, ve := range ves {
			fmt.Fprintf(w, "herald: %s: %s\n", flagFor(ve.Field), ve.Message)
		}
		return
	}
	// A taken value (a hostname another tenant claims) names its field,
	// hence the flag. Other not-found and conflict errors name their record
	// already (storage.NotFoundError, storage.ConflictError).
	var conflict *storage.ConflictError
	if errors.As(err, &conflict) && conflict.Field != "" {
		fmt.Fprintf(w, "herald: %s: %s\n", flagFor(conflict.Field), conflict.Message)
		return
	}
	for _, line := range strings.Split(err.Error(), "\n") {
		fmt.Fprintf(w, "herald: %s\n", withoutProgramName(strings.TrimPrefix(line, "herald: ")))
	}
}

// app is what every command that touches data needs, built from Config.
// openApp is Herald's one composition root: the store, notifier, key
// manager, password hasher and registry are built there once; the CLI
// commands use them, and serve hands the registry (which holds the store,
// keys and hasher) and the notifier to op.New.
type app struct {
	cfg      *Config
	log      *slog.Logger
	store    storage.Store
	notifier storage.Notifier // nil: none (SQLite)
	keys     *keys.Manager
	registry *registry.Registry
}

// openApp opens the store and builds the key manager, password hasher and
// registry. cfg must have passed Validate.
func openApp(ctx context.Context, cfg *Config, logger *slog.Logger) (*app, error) {
	cfg.kekCreated = warnKEKGenerated(logger)
	routeDriverLogs(logger)
	kek, err := cfg.keyEncryptionKey()
	if err != nil {
		return nil, err
	}
	store, notifier, err := openStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	km, err := newKeyManager(ctx, cfg, store, kek, logger, !cfg.skipKEKCheck)
	if err != nil {
		_ = store.Close()
		return nil, err
	}
	hasher := password.NewHasher(cfg.passwordParams(), cfg.HashConcurrency, cfg.HashMaxWait)
	return &app{
		cfg:      cfg,
		log:      logger,
		store:    store,
		notifier: notifier,
		keys:     km,
		registry: &registry.Registry{
			Store:     store,
			Keys:      km,
			Passwords: hasher,
			PublicURL: cfg.PublicURL,
			// The audit actor stays the registry's default, registry.CLI.
			// A server's admin API reports to its caches instead (op.New).
			OnChange: publishChanges(notifier, logger),
		},
	}, nil
}

func (a *app) Close() error { return a.store.Close() }

// newLogger returns the JSON logger on stderr at cfg's level.
func newLogger(w io.Writer, cfg *Config) *slog.Logger {
	level, err := parseLogLevel(cfg.LogLevel)
	if err != nil {
		level = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}

package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/herald-idp/herald/op/registry"
)

// maxStdinLine bounds what is read as a password or hash: far above any
// password policy maximum, so that policy, not truncation, rejects long
// input, yet small enough that a stray pipe cannot exhaust memory.
const maxStdinLine = 64 << 10

func userCommands() map[string]command {
	return map[string]command{
		"create":       {"create a user", runUserCreate},
		"set-password": {"set a user's password (ends their sessions)", runUserSetPassword},
	}
}

type userJSON struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	Tenant   string `json:"tenant"`
}

func runUserCreate(ctx context.Context, c *cli, args []string) error {
	cfg, envErr := loadConfig()
	fs := newFlagSet(c, "user create", "--tenant TENANT --username NAME (--password-stdin | --password-hash-stdin) [flags]",
		"Creates a user. The password (or an imported bcrypt hash) is read from the first line\n"+
			"of standard input, so it never appears in the process list or shell history:\n"+
			"  printf '%s\\n' \"$PASSWORD\" | herald user create --tenant acme --username alice --password-stdin\n"+
			"Prints {\"id\",\"username\",\"tenant\"}.")
	var (
		tenant                   string
		spec                     registry.UserSpec
		fromStdin, hashFromStdin bool
	)
	fs.StringVar(&tenant, "tenant", "", "tenant `name` (required)")
	fs.StringVar(&spec.Username, "username", "", "login `name`; stored trimmed, NFKC-normalised and lower-cased (required)")
	fs.StringVar(&spec.Email, "email", "", "e-mail `address`")
	fs.BoolVar(&spec.EmailVerified, "email-verified", false, "mark the e-mail address as verified")
	fs.StringVar(&spec.Name, "name", "", "full `name`")
	fs.StringVar(&spec.GivenName, "given-name", "", "given `name`")
	fs.StringVar(&spec.FamilyName, "family-name", "", "family `name`")
	fs.BoolVar(&fromStdin, "password-stdin", false, "read the password (at least 12 characters) from stdin")
	fs.BoolVar(&hashFromStdin, "password-hash-stdin", false, "read a bcrypt hash ($2a$/$2b$/$2y$, cost ≥ 10) from stdin")
	a, err := setup(ctx, c, fs, cfg, envErr, args, map[string]*string{"tenant": &tenant, "username": &spec.Username})
	if err != nil {
		return err
	}
	defer a.Close()
	switch {
	case fromStdin == hashFromStdin:
		return usagef("user create: give exactly one of --password-stdin and --password-hash-stdin")
	case fromStdin:
		if spec.Password, err = readStdinLine(c.stdin, "--password-stdin"); err != nil {
			return err
		}
	default:
		if spec.PasswordHash, err = readStdinLine(c.stdin, "--password-hash-stdin"); err != nil {
			return err
		}
	}
	u, err := a.registry.CreateUser(ctx, tenant, spec)
	if err != nil {
		return err
	}
	return writeJSON(c.stdout, userJSON{ID: u.ID, Username: u.Username, Tenant: tenant})
}

func runUserSetPassword(ctx context.Context, c *cli, args []string) error {
	cfg, envErr := loadConfig()
	fs := newFlagSet(c, "user set-password", "--tenant TENANT --username NAME --password-stdin [flags]",
		"Sets a user's password from the first line of standard input and ends the user's\n"+
			"sessions. Prints {\"id\",\"username\",\"tenant\"}.")
	var (
		tenant, username string
		fromStdin        bool
	)
	fs.StringVar(&tenant, "tenant", "", "tenant `name` (required)")
	fs.StringVar(&username, "username", "", "login `name` (required)")
	fs.BoolVar(&fromStdin, "password-stdin", false, "read the password from stdin (required)")
	a, err := setup(ctx, c, fs, cfg, envErr, args, map[string]*string{"tenant": &tenant, "username": &username})
	if err != nil {
		return err
	}
	defer a.Close()
	if !fromStdin {
		return usagef("user set-password: --password-stdin is required")
	}
	pw, err := readStdinLine(c.stdin, "--password-stdin")
	if err != nil {
		return err
	}
	u, err := a.store.Users().UserByUsername(ctx, tenant, registry.NormalizeUsername(username))
	if err != nil {
		return fmt.Errorf("user %q in tenant %q: %w", registry.NormalizeUsername(username), tenant, err)
	}
	if err := a.registry.SetPassword(ctx, tenant, u.ID, pw); err != nil {
		return err
	}
	return writeJSON(c.stdout, userJSON{ID: u.ID, Username: u.Username, Tenant: tenant})
}

// readStdinLine reads the first line of r without its line ending. An empty
// line or empty input is an error naming flag.
func readStdinLine(r io.Reader, flag string) (string, error) {
	if r == nil {
		return "", fmt.Errorf("%s: standard input is empty", flag)
	}
	br := bufio.NewReaderSize(io.LimitReader(r, maxStdinLine+1), 4096)
	line, err := br.ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("%s: read standard input: %w", flag, err)
	}
	if len(line) > maxStdinLine {
		return "", fmt.Errorf("%s: the first line of standard input is longer than %d bytes", flag, maxStdinLine)
	}
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	if line == "" {
		return "", fmt.Errorf("%s: standard input is empty; pipe the value in, e.g. printf '%%s\\n' \"$VALUE\" | herald ...", flag)
	}
	return line, nil
}

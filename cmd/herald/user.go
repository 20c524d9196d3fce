package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/herald-idp/herald/op/admin"
	"github.com/herald-idp/herald/op/registry"
	"github.com/herald-idp/herald/storage"
)

// maxStdinLine bounds what is read as a password or hash: far above any
// password policy maximum, so that policy, not truncation, rejects long
// input, yet small enough that a stray pipe cannot exhaust memory.
const maxStdinLine = 64 << 10

func userCommands() map[string]command {
	return map[string]command{
		"create":       {"create a user", runUserCreate},
		"list":         {"list a tenant's users", runUserList},
		"get":          {"show a user", runUserGet},
		"update":       {"change a user's e-mail, name or attributes", runUserUpdate},
		"disable":      {"stop a user from signing in (ends their sessions)", userSwitch(true)},
		"enable":       {"let a disabled user sign in again", userSwitch(false)},
		"delete":       {"delete a user (ends their sessions)", runUserDelete},
		"set-password": {"set a user's password (ends their sessions)", runUserSetPassword},
		"mfa":          {"show or reset a user's second factor (status | reset)", group("user mfa", userMFACommands())},
	}
}

const attributeHelp = "--attribute KEY=VALUE sets a user attribute that tenant custom claims can map into\n" +
	"tokens. VALUE is JSON if it parses as JSON, a plain string otherwise:\n" +
	"  --attribute tenant_id=t-42 --attribute plan_level=gold --attribute 'groups=[\"admins\",\"dev\"]'\n" +
	"  --attribute seats=10 (a number)   --attribute 'code=\"10\"' (the string \"10\")"

func runUserCreate(ctx context.Context, c *cli, args []string) error {
	d := newAppCommand(c, "user create", "--tenant TENANT --username NAME (--password-stdin | --password-hash-stdin) [flags]",
		"Creates a user. The password (or an imported bcrypt hash) is read from the first line\n"+
			"of standard input, so it never appears in the process list or shell history:\n"+
			"  printf '%s\\n' \"$PASSWORD\" | herald user create --tenant acme --username alice --password-stdin\n"+
			"Prints the user as the admin API shows it (never the password or its hash).\n\n"+attributeHelp)
	var (
		tenant                   string
		spec                     registry.UserSpec
		attrs                    attributeMap
		fromStdin, hashFromStdin bool
	)
	fs := d.fs
	d.tenantFlag(&tenant)
	d.requiredString(&spec.Username, "username", "login `name`; stored trimmed, NFKC-normalised and lower-cased (required)")
	fs.StringVar(&spec.Email, "email", "", "e-mail `address`")
	fs.BoolVar(&spec.EmailVerified, "email-verified", false, "mark the e-mail address as verified")
	fs.StringVar(&spec.Name, "name", "", "full `name`")
	fs.StringVar(&spec.GivenName, "given-name", "", "given `name`")
	fs.StringVar(&spec.FamilyName, "family-name", "", "family `name`")
	fs.Var(&attrs, "attribute", "user attribute `KEY=VALUE` (repeatable; VALUE JSON or a plain string)")
	fs.BoolVar(&fromStdin, "password-stdin", false, "read the password (at least the tenant's minimum, 12 by default) from stdin")
	fs.BoolVar(&hashFromStdin, "password-hash-stdin", false, "read a bcrypt hash ($2a$/$2b$/$2y$, cost ≥ 10) from stdin")
	d.check(func() error {
		if fromStdin == hashFromStdin {
			return usagef("user create: give exactly one of --password-stdin and --password-hash-stdin")
		}
		return nil
	})
	return d.run(ctx, args, func(a *app) (any, error) {
		var err error
		if fromStdin {
			if spec.Password, err = readStdinLine(c.stdin, "--password-stdin"); err != nil {
				return nil, err
			}
		} else if spec.PasswordHash, err = readStdinLine(c.stdin, "--password-hash-stdin"); err != nil {
			return nil, err
		}
		spec.Attributes = attrs
		u, err := a.registry.CreateUser(ctx, tenant, spec)
		return rendered(u, err, admin.RenderUser)
	})
}

func runUserList(ctx context.Context, c *cli, args []string) error {
	d := newAppCommand(c, "user list", "--tenant TENANT [flags]", "Lists the users of a tenant as {\"users\":[...]}.")
	var tenant string
	d.tenantFlag(&tenant)
	return d.run(ctx, args, func(a *app) (any, error) {
		us, err := a.registry.ListUsers(ctx, tenant)
		return renderedList("users", us, err, admin.RenderUser)
	})
}

// userTargetSynopsis is the synopsis of the commands acting on one user.
const userTargetSynopsis = "--tenant TENANT (--id ID | --username NAME) [flags]"

// userTarget holds the flags naming one user: --tenant and one of --id
// (the OIDC sub) and --username.
type userTarget struct{ tenant, id, username string }

// newUserTarget registers --tenant (required), --id and --username, and
// the rule that exactly one of the last two names the user.
func newUserTarget(d *appCommand) *userTarget {
	t := &userTarget{}
	d.tenantFlag(&t.tenant)
	d.fs.StringVar(&t.id, "id", "", "user `ID` (the OIDC sub); or give --username")
	d.fs.StringVar(&t.username, "username", "", "login `name`; or give --id")
	d.check(func() error {
		if (t.id == "") == (t.username == "") {
			return usagef("%s: give exactly one of --id and --username", d.fs.Name())
		}
		return nil
	})
	return t
}

// resolve returns the user's ID, looking a username up in the tenant. The
// tenant is checked first, so that an unknown tenant is reported as such.
func (t *userTarget) resolve(ctx context.Context, a *app) (string, error) {
	if _, err := a.registry.GetTenant(ctx, t.tenant); err != nil {
		return "", err
	}
	if t.id != "" {
		return t.id, nil
	}
	username := registry.NormalizeUsername(t.username)
	u, err := a.store.Users().UserByUsername(ctx, t.tenant, username)
	if errors.Is(err, storage.ErrNotFound) {
		return "", &storage.NotFoundError{Record: storage.Record{Kind: storage.KindUser, Tenant: t.tenant, ID: username}}
	}
	if err != nil {
		return "", fmt.Errorf("user %q in tenant %q: %w", username, t.tenant, err)
	}
	return u.ID, nil
}

// run is d.run for the user t names: act gets the user's ID, resolved once
// the app is open.
func (t *userTarget) run(ctx context.Context, d *appCommand, args []string, act func(a *app, id string) (any, error)) error {
	return d.run(ctx, args, func(a *app) (any, error) {
		id, err := t.resolve(ctx, a)
		if err != nil {
			return nil, err
		}
		return act(a, id)
	})
}

func runUserGet(ctx context.Context, c *cli, args []string) error {
	d := newAppCommand(c, "user get", userTargetSynopsis, "Shows a user (never the password or its hash).")
	t := newUserTarget(d)
	return t.run(ctx, d, args, func(a *app, id string) (any, error) {
		u, err := a.registry.GetUser(ctx, t.tenant, id)
		return rendered(u, err, admin.RenderUser)
	})
}

func runUserUpdate(ctx context.Context, c *cli, args []string) error {
	d := newAppCommand(c, "user update", userTargetSynopsis,
		"Changes a user. Only the flags given change anything. The --attribute flags replace\n"+
			"all of the user's attributes (give every attribute the user should keep);\n"+
			"--clear-attributes removes them. Prints the user.\n\n"+attributeHelp)
	var (
		email, name, givenName, familyName string
		verified, clearAttrs               bool
		attrs                              attributeMap
	)
	fs := d.fs
	t := newUserTarget(d)
	fs.StringVar(&email, "email", "", "e-mail `address` (\"\": none); unverified unless --email-verified=true")
	fs.BoolVar(&verified, "email-verified", false, "whether the e-mail address is verified: --email-verified=true or =false")
	fs.StringVar(&name, "name", "", "full `name`")
	fs.StringVar(&givenName, "given-name", "", "given `name`")
	fs.StringVar(&familyName, "family-name", "", "family `name`")
	fs.Var(&attrs, "attribute", "user attribute `KEY=VALUE` (repeatable; replaces all attributes)")
	fs.BoolVar(&clearAttrs, "clear-attributes", false, "remove every attribute")
	d.check(func() error {
		if len(attrs) > 0 && clearAttrs {
			return usagef("%s: give --attribute or --clear-attributes, not both", fs.Name())
		}
		return nil
	})
	return t.run(ctx, d, args, func(a *app, id string) (any, error) {
		given := givenFlags(fs)
		update := registry.UserUpdate{
			Email:         ptrIf(given, "email", email),
			EmailVerified: ptrIf(given, "email-verified", verified),
			Name:          ptrIf(given, "name", name),
			GivenName:     ptrIf(given, "given-name", givenName),
			FamilyName:    ptrIf(given, "family-name", familyName),
		}
		switch {
		case clearAttrs:
			update.Attributes = &map[string]any{}
		case len(attrs) > 0:
			m := map[string]any(attrs)
			update.Attributes = &m
		}
		u, err := a.registry.UpdateUser(ctx, t.tenant, id, update)
		return rendered(u, err, admin.RenderUser)
	})
}

// userSwitch is user disable (disable=true) or user enable.
func userSwitch(disable bool) func(context.Context, *cli, []string) error {
	verb, description := "enable", "Lets a disabled user sign in again. Prints the user."
	if disable {
		verb, description = "disable",
			"Stops a user from signing in and ends their SSO sessions; nothing is deleted.\n"+
				"Prints the user."
	}
	return func(ctx context.Context, c *cli, args []string) error {
		d := newAppCommand(c, "user "+verb, userTargetSynopsis, description)
		t := newUserTarget(d)
		return t.run(ctx, d, args, func(a *app, id string) (any, error) {
			u, err := a.registry.UpdateUser(ctx, t.tenant, id, registry.UserUpdate{Disabled: &disable})
			return rendered(u, err, admin.RenderUser)
		})
	}
}

func runUserDelete(ctx context.Context, c *cli, args []string) error {
	d := newAppCommand(c, "user delete", userTargetSynopsis,
		"Deletes a user and ends their SSO sessions. Prints {\"deleted\":true,\"tenant\",\"id\"}.")
	t := newUserTarget(d)
	return t.run(ctx, d, args, func(a *app, id string) (any, error) {
		if err := a.registry.DeleteUser(ctx, t.tenant, id); err != nil {
			return nil, err
		}
		return deletedJSON{Deleted: true, Tenant: t.tenant, UserID: id,
			Username: registry.NormalizeUsername(t.username)}, nil
	})
}

func runUserSetPassword(ctx context.Context, c *cli, args []string) error {
	d := newAppCommand(c, "user set-password", userTargetSynopsis,
		"Sets a user's password from the first line of standard input and ends the user's\n"+
			"sessions:\n"+
			"  printf '%s\\n' \"$PASSWORD\" | herald user set-password --tenant acme --username alice --password-stdin\n"+
			"Prints the user.")
	t := newUserTarget(d)
	var fromStdin bool
	d.fs.BoolVar(&fromStdin, "password-stdin", false, "read the password from stdin (required)")
	d.check(func() error {
		if !fromStdin {
			return usagef("user set-password: --password-stdin is required")
		}
		return nil
	})
	return t.run(ctx, d, args, func(a *app, id string) (any, error) {
		pw, err := readStdinLine(c.stdin, "--password-stdin")
		if err != nil {
			return nil, err
		}
		if err := a.registry.SetPassword(ctx, t.tenant, id, pw); err != nil {
			return nil, err
		}
		u, err := a.registry.GetUser(ctx, t.tenant, id)
		return rendered(u, err, admin.RenderUser)
	})
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
		return "", fmt.Errorf("%s: standard input is empty; pipe the value in, e.g. printf '%%s\\n' \"$VALUE\" | herald COMMAND %s", flag, flag)
	}
	return line, nil
}

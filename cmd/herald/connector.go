package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/herald-idp/herald/keys"
	"github.com/herald-idp/herald/op/admin"
	"github.com/herald-idp/herald/op/registry"
	"github.com/herald-idp/herald/storage"
)

func connectorCommands() map[string]command {
	return map[string]command{
		"create": {"add an upstream identity provider (oidc or github) to a tenant", runConnectorCreate},
		"list":   {"list a tenant's connectors", runConnectorList},
		"get":    {"show a connector", runConnectorGet},
		"update": {"change a connector", runConnectorUpdate},
		"delete": {"delete a connector and its account links", runConnectorDelete},
		"links":  {"list the upstream accounts linked to a user", runConnectorLinks},
		"unlink": {"unlink a user's account at a connector", runConnectorUnlink},
	}
}

const connectorOutputHelp = "Prints the connector as the admin API shows it; the client secret is never\n" +
	"printed (client_secret_set says whether one is stored)."

// claimMap is the repeatable --claim FIELD=CLAIM flag.
type claimMap map[string]string

func (m claimMap) String() string { return "" }
func (m claimMap) Set(v string) error {
	field, claim, ok := strings.Cut(v, "=")
	if !ok || field == "" || claim == "" {
		return usagef("--claim wants FIELD=CLAIM, e.g. username=preferred_username")
	}
	m[field] = claim
	return nil
}

// connectorFlags are the flags create and update share.
type connectorFlags struct {
	displayName, issuer, clientID string
	secretStdin                   bool
	scopes                        *replaceableList
	claims                        claimMap
	clearClaims                   bool
	jit, link, disabled           bool
}

func newConnectorFlags(fs *flag.FlagSet, update bool) *connectorFlags {
	f := &connectorFlags{claims: claimMap{}}
	fs.StringVar(&f.displayName, "display-name", "", "`label` of the login page's button (default: the ID)")
	fs.StringVar(&f.issuer, "issuer", "", "upstream issuer `URL` (oidc), or API base URL (github; default https://api.github.com)")
	fs.StringVar(&f.clientID, "client-id", "", "the `ID` Herald is registered under at the upstream provider")
	fs.BoolVar(&f.secretStdin, "client-secret-stdin", false, "read the upstream client secret from stdin (sealed at rest, never printed)")
	clear := ""
	if update {
		clear = "clear-scopes"
		fs.BoolVar(&f.clearClaims, "clear-claims", false, "remove the whole claim mapping")
	}
	f.scopes = newReplaceableList(fs, "scope", clear, "upstream `scope` to request (repeatable; default openid email profile, or read:user user:email for github)",
		"request the default scopes")
	fs.Var(f.claims, "claim", "`FIELD=CLAIM`: read a local field (username, email, email_verified, name, given_name, family_name) from this upstream claim (repeatable)")
	fs.BoolVar(&f.jit, "jit", false, "create a local user on the first sign-in (just in time)")
	fs.BoolVar(&f.link, "link-by-email", false, "let a first sign-in with a verified e-mail join the existing user with that e-mail")
	fs.BoolVar(&f.disabled, "disabled", false, "hide the connector from the login page and refuse it")
	return f
}

func runConnectorCreate(ctx context.Context, c *cli, args []string) error {
	d := newAppCommand(c, "connector create", "--tenant TENANT --id ID --type oidc|github --client-id ID [flags]",
		"Adds an upstream identity provider. Register Herald at the provider with the\n"+
			"redirect URI {issuer}/upstream/{id}/callback. The client secret is read from stdin:\n"+
			"  printf '%s\\n' \"$SECRET\" | herald connector create --tenant acme --id google \\\n"+
			"    --type oidc --issuer https://accounts.google.com --client-id ... --client-secret-stdin --jit\n"+
			connectorOutputHelp)
	var tenant, id, typ string
	d.tenantFlag(&tenant)
	d.requiredString(&id, "id", "connector `ID` (required): a-z 0-9 _ -; the value of idp_hint")
	d.requiredString(&typ, "type", "oidc or github (required)")
	f := newConnectorFlags(d.fs, false)
	return d.run(ctx, args, func(a *app) (any, error) {
		spec := registry.ConnectorSpec{ID: id, Type: typ, DisplayName: f.displayName, Issuer: f.issuer,
			ClientID: f.clientID, ClaimMapping: f.claims, JITCreate: f.jit, LinkByEmail: f.link, Disabled: f.disabled}
		if s := f.scopes.update(); s != nil {
			spec.Scopes = *s
		}
		if len(spec.ClaimMapping) == 0 {
			spec.ClaimMapping = nil
		}
		if f.secretStdin {
			var err error
			if spec.ClientSecret, err = readStdinLine(c.stdin, "--client-secret-stdin"); err != nil {
				return nil, err
			}
		}
		cn, err := a.registry.CreateConnector(ctx, tenant, spec)
		return rendered(cn, err, admin.RenderConnector)
	})
}

func runConnectorList(ctx context.Context, c *cli, args []string) error {
	d := newAppCommand(c, "connector list", "--tenant TENANT [flags]",
		"Lists the connectors of a tenant as {\"connectors\":[...]}, without secrets.")
	var tenant string
	d.tenantFlag(&tenant)
	return d.run(ctx, args, func(a *app) (any, error) {
		cs, err := a.registry.ListConnectors(ctx, tenant)
		return renderedList("connectors", cs, err, admin.RenderConnector)
	})
}

func runConnectorGet(ctx context.Context, c *cli, args []string) error {
	d := newAppCommand(c, "connector get", "--tenant TENANT --id ID [flags]", "Shows a connector. "+connectorOutputHelp)
	var tenant, id string
	d.tenantFlag(&tenant)
	d.requiredString(&id, "id", "connector `ID` (required)")
	return d.run(ctx, args, func(a *app) (any, error) {
		cn, err := a.registry.GetConnector(ctx, tenant, id)
		return rendered(cn, err, admin.RenderConnector)
	})
}

func runConnectorUpdate(ctx context.Context, c *cli, args []string) error {
	d := newAppCommand(c, "connector update", "--tenant TENANT --id ID [flags]",
		"Changes a connector; only the flags given change anything (--claim replaces the\n"+
			"whole mapping). --client-secret-stdin replaces the secret. "+connectorOutputHelp)
	var tenant, id string
	d.tenantFlag(&tenant)
	d.requiredString(&id, "id", "connector `ID` (required)")
	f := newConnectorFlags(d.fs, true)
	d.check(func() error { return f.scopes.check(d.fs.Name()) })
	return d.run(ctx, args, func(a *app) (any, error) {
		given := givenFlags(d.fs)
		u := registry.ConnectorUpdate{
			DisplayName: ptrIf(given, "display-name", f.displayName),
			Issuer:      ptrIf(given, "issuer", f.issuer),
			ClientID:    ptrIf(given, "client-id", f.clientID),
			Scopes:      f.scopes.update(),
			JITCreate:   ptrIf(given, "jit", f.jit),
			LinkByEmail: ptrIf(given, "link-by-email", f.link),
			Disabled:    ptrIf(given, "disabled", f.disabled),
		}
		switch {
		case f.clearClaims && len(f.claims) > 0:
			return nil, usagef("connector update: give --claim or --clear-claims, not both")
		case f.clearClaims:
			u.ClaimMapping = &map[string]string{}
		case len(f.claims) > 0:
			m := map[string]string(f.claims)
			u.ClaimMapping = &m
		}
		if f.secretStdin {
			secret, err := readStdinLine(c.stdin, "--client-secret-stdin")
			if err != nil {
				return nil, err
			}
			u.ClientSecret = &secret
		}
		cn, err := a.registry.UpdateConnector(ctx, tenant, id, u)
		return rendered(cn, err, admin.RenderConnector)
	})
}

type connectorDeletedJSON struct {
	Deleted bool   `json:"deleted"`
	Tenant  string `json:"tenant"`
	ID      string `json:"id"`
}

func runConnectorDelete(ctx context.Context, c *cli, args []string) error {
	d := newAppCommand(c, "connector delete", "--tenant TENANT --id ID [flags]",
		"Deletes a connector and the links of upstream accounts to it. Prints\n"+
			"{\"deleted\":true,\"tenant\",\"id\"}.")
	var tenant, id string
	d.tenantFlag(&tenant)
	d.requiredString(&id, "id", "connector `ID` (required)")
	return d.run(ctx, args, func(a *app) (any, error) {
		if err := a.registry.DeleteConnector(ctx, tenant, id); err != nil {
			return nil, err
		}
		return connectorDeletedJSON{Deleted: true, Tenant: tenant, ID: id}, nil
	})
}

// rewrapConnectorSecrets re-seals every connector's client secret under
// km's KEK (herald keys rewrap), each in its own update; safe to repeat.
func rewrapConnectorSecrets(ctx context.Context, store storage.Store, km *keys.Manager, tenants []string) (int, error) {
	n := 0
	for _, tenant := range tenants {
		cs, err := store.Connectors().ListConnectors(ctx, tenant)
		if err != nil {
			return n, err
		}
		for _, c := range cs {
			changed := false
			_, err := store.Connectors().UpdateConnector(ctx, tenant, c.ID, func(c *storage.Connector) error {
				sealed, ch, err := km.RewrapConnectorSecret(tenant, c.ID, c.ClientSecret)
				if err != nil {
					return err
				}
				c.ClientSecret, changed = sealed, ch
				return nil
			})
			if err != nil {
				return n, fmt.Errorf("connector %q of tenant %q: %w", c.ID, tenant, err)
			}
			if changed {
				n++
			}
		}
	}
	return n, nil
}

func runConnectorLinks(ctx context.Context, c *cli, args []string) error {
	d := newAppCommand(c, "connector links", userTargetSynopsis,
		"Lists the upstream accounts linked to a user as {\"links\":[{\"connector\",\"subject\",\"created_at\"}]}.")
	u := newUserTarget(d)
	return u.run(ctx, d, args, func(a *app, id string) (any, error) {
		links, err := a.registry.UserLinks(ctx, u.tenant, id)
		return renderedList("links", links, err, admin.RenderUserLink)
	})
}

func runConnectorUnlink(ctx context.Context, c *cli, args []string) error {
	d := newAppCommand(c, "connector unlink", "--tenant TENANT (--id ID | --username NAME) --connector ID [flags]",
		"Removes the user's links to the connector; refused when it would leave the user no\n"+
			"way to sign in (no password and no other link). Prints {\"unlinked\":N}.")
	u := newUserTarget(d)
	var connector string
	d.requiredString(&connector, "connector", "connector `ID` (required)")
	return u.run(ctx, d, args, func(a *app, id string) (any, error) {
		n, err := a.registry.UnlinkConnector(ctx, u.tenant, id, connector)
		if err != nil {
			return nil, err
		}
		return struct {
			Unlinked int `json:"unlinked"`
		}{n}, nil
	})
}

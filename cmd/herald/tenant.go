package main

import (
	"context"
	"flag"
	"time"

	"github.com/herald-idp/herald/keys"
	"github.com/herald-idp/herald/op/admin"
	"github.com/herald-idp/herald/op/registry"
	"github.com/herald-idp/herald/storage"
)

func tenantCommands() map[string]command {
	return map[string]command{
		"create":  {"create a tenant with its signing keys", runTenantCreate},
		"list":    {"list tenants", runTenantList},
		"get":     {"show a tenant and its settings", runTenantGet},
		"update":  {"change a tenant's name, hostnames or settings", runTenantUpdate},
		"disable": {"stop serving a tenant (nothing is deleted)", tenantSwitch(true)},
		"enable":  {"serve a disabled tenant again", tenantSwitch(false)},
		"delete":  {"delete a tenant and everything in it", runTenantDelete},
	}
}

// customClaimHelp documents --custom-claim in the usage of create and update.
const customClaimHelp = `Custom claims put user attributes (herald user update --attribute) into tokens:
  --custom-claim CLAIM=ATTRIBUTE[:SCOPE[:TARGET,TARGET...]]
CLAIM is the claim name, ATTRIBUTE the user attribute; SCOPE, if given, must have been
granted; TARGETs are id_token, access_token and userinfo (default: all three).
  --custom-claim tenant_id=tenant_id              always, everywhere
  --custom-claim plan=plan_level::id_token        always, ID token only
  --custom-claim groups=groups:groups              when the scope "groups" was granted
  --custom-claim perms=perms:api:read:access_token a scope containing ':' needs the TARGET
                                                   part (end with ':' for all three)
An attribute whose name contains ':' needs the JSON form:
  --custom-claim '{"claim":"plan","attribute":"acme:plan","scope":"profile"}'
The list replaces all of the tenant's custom claims.`

// tenantFlags are the flags that describe a tenant, shared by create and
// update. Update registers the --clear-... companions too.
type tenantFlags struct {
	displayName, signingAlg, logoURL, accentColor string
	accessTL, idTL, refreshTL, idle, absolute     time.Duration
	passwordMinLength                             int
	mfaPolicy                                     string
	mfaClients                                    *replaceableList
	connectorsOnly                                bool
	hostnames, allowedAlgs                        *replaceableList
	claims                                        claimList
	clearClaims                                   bool
}

func registerTenantFlags(fs *flag.FlagSet, update bool) *tenantFlags {
	f := &tenantFlags{}
	fs.StringVar(&f.displayName, "display-name", "", "name shown on the login pages (default: the name)")
	algDefault := keys.DefaultAlgorithm
	if update {
		algDefault = ""
	}
	fs.StringVar(&f.signingAlg, "signing-alg", algDefault, "token signing `alg`: RS256, ES256 or EdDSA (an RS256 key is always published too)")
	clearName := func(name string) string {
		if update {
			return name
		}
		return "" // create has nothing to clear
	}
	f.hostnames = newReplaceableList(fs, "hostname", clearName("clear-hostnames"),
		"`host` the tenant is also served at, as the issuer https://HOST (repeatable; replaces the list)",
		"remove every hostname: serve the tenant at {public_url}/t/NAME only")
	fs.StringVar(&f.logoURL, "logo-url", "", "logo on the login pages: an https `URL`, or a /path on Herald's host (\"\": none)")
	fs.StringVar(&f.accentColor, "accent-color", "", "accent `colour` of the login pages (buttons, top bar), #rrggbb or #rgb (\"\": default blue)")
	fs.DurationVar(&f.accessTL, "access-token-lifetime", 0, "access token `lifetime`, e.g. 5m (0: server default)")
	fs.DurationVar(&f.idTL, "id-token-lifetime", 0, "ID token `lifetime` (0: server default)")
	fs.DurationVar(&f.refreshTL, "refresh-token-lifetime", 0, "refresh token `lifetime`, e.g. 720h (0: server default)")
	fs.DurationVar(&f.idle, "session-idle-timeout", 0, "SSO session ends after this `duration` unused (0: server default)")
	fs.DurationVar(&f.absolute, "session-absolute-lifetime", 0, "SSO session ends this `duration` after login (0: server default)")
	f.allowedAlgs = newReplaceableList(fs, "allowed-signing-alg", clearName("clear-allowed-signing-algs"),
		"`alg` the tenant may switch to: RS256, ES256, EdDSA (repeatable; must include --signing-alg; default all)",
		"allow every signing algorithm again")
	fs.IntVar(&f.passwordMinLength, "password-min-length", 0, "minimum password `length`, 8-128 (0: 12)")
	fs.StringVar(&f.mfaPolicy, "mfa-policy", "", "second-factor `policy`: off, optional, required, clients (docs/mfa.md)")
	f.mfaClients = newReplaceableList(fs, "mfa-client", "",
		"client `ID` that requires a second factor under --mfa-policy clients (repeatable; replaces the list)", "")
	fs.BoolVar(&f.connectorsOnly, "connectors-only", false, "sign in through the tenant's connectors only: no password form (docs/federation.md)")
	fs.Var(&f.claims, "custom-claim", "custom claim `CLAIM=ATTRIBUTE[:SCOPE[:TARGETS]]` mapping a user attribute into tokens (repeatable; see above)")
	if update {
		fs.BoolVar(&f.clearClaims, "clear-custom-claims", false, "remove every custom claim")
	}
	return f
}

// check refuses flags that exclude each other (usage errors).
func (f *tenantFlags) check(cmd string) error {
	if err := f.hostnames.check(cmd); err != nil {
		return err
	}
	if err := f.allowedAlgs.check(cmd); err != nil {
		return err
	}
	if len(f.claims) > 0 && f.clearClaims {
		return usagef("%s: give --custom-claim or --clear-custom-claims, not both", cmd)
	}
	return nil
}

// settings returns the settings given on the command line (nil if none).
func (f *tenantFlags) settings(given map[string]bool) *registry.SettingsUpdate {
	u := &registry.SettingsUpdate{
		LogoURL:                  ptrIf(given, "logo-url", f.logoURL),
		AccentColor:              ptrIf(given, "accent-color", f.accentColor),
		AccessTokenLifetime:      ptrIf(given, "access-token-lifetime", f.accessTL),
		IDTokenLifetime:          ptrIf(given, "id-token-lifetime", f.idTL),
		RefreshTokenLifetime:     ptrIf(given, "refresh-token-lifetime", f.refreshTL),
		SessionIdleTimeout:       ptrIf(given, "session-idle-timeout", f.idle),
		SessionAbsoluteLifetime:  ptrIf(given, "session-absolute-lifetime", f.absolute),
		AllowedSigningAlgorithms: f.allowedAlgs.update(),
		PasswordMinLength:        ptrIf(given, "password-min-length", f.passwordMinLength),
		ConnectorsOnly:           ptrIf(given, "connectors-only", f.connectorsOnly),
	}
	if given["mfa-policy"] || given["mfa-client"] {
		m := storage.MFASettings{Policy: f.mfaPolicy}
		if l := f.mfaClients.update(); l != nil {
			m.Clients = *l
		}
		u.MFA = &m
	}
	switch {
	case f.clearClaims:
		u.CustomClaims = &[]storage.ClaimMapping{}
	case len(f.claims) > 0:
		claims := []storage.ClaimMapping(f.claims)
		u.CustomClaims = &claims
	}
	if *u == (registry.SettingsUpdate{}) {
		return nil
	}
	return u
}

// renderTenant shows t as the admin API does, with the issuer under a's
// public URL.
func (a *app) renderTenant(t *storage.Tenant) admin.TenantJSON {
	return admin.RenderTenant(a.cfg.PublicURL, t)
}

// tenantNameFlag registers --name, required: the tenant the command acts on.
func tenantNameFlag(d *appCommand, usage string) *string {
	var name string
	d.requiredString(&name, "name", usage)
	return &name
}

func runTenantCreate(ctx context.Context, c *cli, args []string) error {
	d := newAppCommand(c, "tenant create", "--name NAME [flags]",
		"Creates a tenant: an issuer at {public_url}/t/NAME (and https://HOST for each\n"+
			"--hostname) with its own clients, users, signing keys and settings. Prints the\n"+
			"tenant as the admin API shows it (lifetimes in seconds).\n\n"+customClaimHelp)
	name := tenantNameFlag(d, "tenant `name`: 1-63 of a-z, 0-9 and inner '-' (required)")
	f := registerTenantFlags(d.fs, false)
	return d.run(ctx, args, func(a *app) (any, error) {
		spec := registry.TenantSpec{Name: *name, DisplayName: f.displayName, SigningAlgorithm: f.signingAlg, Hostnames: f.hostnames.values}
		if u := f.settings(givenFlags(d.fs)); u != nil {
			u.Apply(&spec.Settings)
		}
		t, err := a.registry.CreateTenant(ctx, spec)
		return rendered(t, err, a.renderTenant)
	})
}

func runTenantList(ctx context.Context, c *cli, args []string) error {
	d := newAppCommand(c, "tenant list", "[flags]", "Lists every tenant as {\"tenants\":[...]}, ordered by name.")
	return d.run(ctx, args, func(a *app) (any, error) {
		tenants, err := a.registry.ListTenants(ctx)
		return renderedList("tenants", tenants, err, a.renderTenant)
	})
}

func runTenantGet(ctx context.Context, c *cli, args []string) error {
	d := newAppCommand(c, "tenant get", "--name NAME [flags]", "Prints a tenant and its settings (lifetimes in seconds; 0: the server default).")
	name := tenantNameFlag(d, "tenant `name` (required)")
	return d.run(ctx, args, func(a *app) (any, error) {
		t, err := a.registry.GetTenant(ctx, *name)
		return rendered(t, err, a.renderTenant)
	})
}

func runTenantUpdate(ctx context.Context, c *cli, args []string) error {
	d := newAppCommand(c, "tenant update", "--name NAME [flags]",
		"Changes a tenant. Only the flags given change anything; a list flag replaces the\n"+
			"whole list (--clear-... empties it); \"\" or 0 restores a setting's default.\n"+
			"Running servers see the change at once when they share PostgreSQL or Redis\n"+
			"with this command, within a second otherwise. Prints the tenant.\n"+
			"--name only picks the tenant: a tenant's name (its issuer, /t/NAME) cannot be\n"+
			"changed; --display-name changes the name its pages show.\n\n"+customClaimHelp)
	name := tenantNameFlag(d, "`name` of the tenant to change, which stays as it is (required)")
	f := registerTenantFlags(d.fs, true)
	d.check(func() error { return f.check(d.fs.Name()) })
	return d.run(ctx, args, func(a *app) (any, error) {
		given := givenFlags(d.fs)
		t, err := a.registry.UpdateTenant(ctx, *name, registry.TenantUpdate{
			DisplayName:      ptrIf(given, "display-name", f.displayName),
			SigningAlgorithm: ptrIf(given, "signing-alg", f.signingAlg),
			Hostnames:        f.hostnames.update(),
			Settings:         f.settings(given),
		})
		return rendered(t, err, a.renderTenant)
	})
}

// tenantSwitch is tenant disable (disable=true) or tenant enable.
func tenantSwitch(disable bool) func(context.Context, *cli, []string) error {
	verb, description := "enable", "Serves a disabled tenant again. Prints the tenant."
	if disable {
		verb, description = "disable",
			"Stops serving a tenant: its discovery answers 404 and every token it issued is\n"+
				"refused. Nothing is deleted; 'herald tenant enable' undoes it. Prints the tenant."
	}
	return func(ctx context.Context, c *cli, args []string) error {
		d := newAppCommand(c, "tenant "+verb, "--name NAME [flags]", description)
		name := tenantNameFlag(d, "tenant `name` (required)")
		return d.run(ctx, args, func(a *app) (any, error) {
			op := a.registry.EnableTenant
			if disable {
				op = a.registry.DisableTenant
			}
			t, err := op(ctx, *name)
			return rendered(t, err, a.renderTenant)
		})
	}
}

func runTenantDelete(ctx context.Context, c *cli, args []string) error {
	d := newAppCommand(c, "tenant delete", "--name NAME [flags]",
		"Deletes a tenant and everything in it: clients, users, signing keys, sessions and\n"+
			"tokens. It cannot be undone (the audit log keeps its events); 'herald tenant\n"+
			"disable' is the reversible alternative. Prints {\"deleted\":true,\"tenant\"}.")
	name := tenantNameFlag(d, "tenant `name` (required)")
	return d.run(ctx, args, func(a *app) (any, error) {
		if err := a.registry.DeleteTenant(ctx, *name); err != nil {
			return nil, err
		}
		return deletedJSON{Deleted: true, Tenant: *name}, nil
	})
}

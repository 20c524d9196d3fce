package main

import (
	"context"
	"time"

	"github.com/herald-idp/herald/op/admin"
	"github.com/herald-idp/herald/op/registry"
	"github.com/herald-idp/herald/storage"
)

func clientCommands() map[string]command {
	return map[string]command{
		"create":        {"register a client in a tenant", runClientCreate},
		"list":          {"list a tenant's clients", runClientList},
		"get":           {"show a client", runClientGet},
		"update":        {"change a client's URIs, grants, scopes or lifetimes", runClientUpdate},
		"delete":        {"delete a client", runClientDelete},
		"rotate-secret": {"give a confidential client a new secret", runClientRotateSecret},
	}
}

const clientOutputHelp = "Prints the client as the admin API shows it (RFC 7591 names, lifetimes in\n" +
	"seconds)."

// renderClient shows a client without a secret: one is shown only when it
// has just been generated.
func renderClient(cl *storage.Client) admin.ClientJSON { return admin.RenderClient(cl, "") }

func runClientCreate(ctx context.Context, c *cli, args []string) error {
	d := newAppCommand(c, "client create", "--tenant TENANT --redirect-uri URI [flags]",
		"Registers a client. A confidential client gets a generated secret, printed once as\n"+
			"client_secret: only its hash is stored. Public clients (SPAs, --native apps) use\n"+
			"PKCE instead. "+clientOutputHelp)
	var (
		tenant                                         string
		spec                                           registry.ClientSpec
		redirects, postLogout, origins, grants, scopes stringList
		accessLifetime, idLifetime, refreshLifetime    time.Duration
	)
	fs := d.fs
	d.tenantFlag(&tenant)
	fs.StringVar(&spec.ID, "id", "", "client `ID`: 3-64 of A-Z a-z 0-9 . _ - (default: random)")
	fs.StringVar(&spec.Name, "name", "", "display `name` shown on the consent page (default: the ID)")
	fs.BoolVar(&spec.Public, "public", false, "public client (SPA): no secret, PKCE only")
	fs.BoolVar(&spec.Native, "native", false, "native app (implies --public; allows reverse-domain custom schemes)")
	fs.StringVar(&spec.AuthMethod, "auth-method", "", "client_secret_basic (default) or client_secret_post")
	fs.Var(&redirects, "redirect-uri", "redirect `URI`, matched exactly (repeatable; required for authorization_code)")
	fs.Var(&postLogout, "post-logout-redirect-uri", "`URI` allowed after logout (repeatable)")
	fs.Var(&origins, "cors-origin", "browser `origin` scheme://host[:port] allowed to call the token endpoint (repeatable)")
	fs.Var(&grants, "grant", "grant `type`: authorization_code, refresh_token, client_credentials (repeatable; default the first two)")
	fs.Var(&scopes, "scope", "allowed `scope` (repeatable; default all of openid profile email offline_access address phone)")
	fs.BoolVar(&spec.FirstParty, "first-party", false, "skip the consent page for this client")
	fs.StringVar(&spec.AccessTokenFormat, "access-token-format", "jwt", "`format` of access tokens: jwt or opaque")
	fs.DurationVar(&accessLifetime, "access-token-lifetime", 0, "access token `lifetime` (0: the tenant's or server's default)")
	fs.DurationVar(&idLifetime, "id-token-lifetime", 0, "ID token `lifetime` (0: the tenant's or server's default)")
	fs.DurationVar(&refreshLifetime, "refresh-token-lifetime", 0, "refresh token `lifetime` (0: the tenant's or server's default)")
	return d.run(ctx, args, func(a *app) (any, error) {
		spec.RedirectURIs, spec.PostLogoutRedirectURIs, spec.CORSOrigins = redirects, postLogout, origins
		spec.GrantTypes, spec.Scopes = grants, scopes
		spec.AccessTokenLifetime, spec.IDTokenLifetime, spec.RefreshTokenLifetime = accessLifetime, idLifetime, refreshLifetime
		cl, secret, err := a.registry.CreateClient(ctx, tenant, spec)
		if err != nil {
			return nil, err
		}
		return admin.RenderClient(cl, secret), nil
	})
}

func runClientList(ctx context.Context, c *cli, args []string) error {
	d := newAppCommand(c, "client list", "--tenant TENANT [flags]",
		"Lists the clients of a tenant as {\"clients\":[...]}, without secrets.")
	var tenant string
	d.tenantFlag(&tenant)
	return d.run(ctx, args, func(a *app) (any, error) {
		cs, err := a.registry.ListClients(ctx, tenant)
		return renderedList("clients", cs, err, renderClient)
	})
}

// clientTarget holds --tenant and --id, the flags naming one client.
type clientTarget struct{ tenant, id string }

// newClientTarget registers --tenant and --id, both required.
func newClientTarget(d *appCommand) *clientTarget {
	t := &clientTarget{}
	d.tenantFlag(&t.tenant)
	d.requiredString(&t.id, "id", "client `ID` (required)")
	return t
}

func runClientGet(ctx context.Context, c *cli, args []string) error {
	d := newAppCommand(c, "client get", "--tenant TENANT --id CLIENT_ID [flags]",
		"Shows a client (never its secret). "+clientOutputHelp)
	t := newClientTarget(d)
	return d.run(ctx, args, func(a *app) (any, error) {
		cl, err := a.registry.GetClient(ctx, t.tenant, t.id)
		return rendered(cl, err, renderClient)
	})
}

func runClientUpdate(ctx context.Context, c *cli, args []string) error {
	d := newAppCommand(c, "client update", "--tenant TENANT --id CLIENT_ID [flags]",
		"Changes a client, validated by the rules of 'client create'. Only the flags given\n"+
			"change anything; a list flag replaces the whole list (--clear-... empties it: no\n"+
			"grants means the default authorization_code and refresh_token, no scopes the\n"+
			"standard OIDC scopes). The secret is kept (see rotate-secret); a client cannot\n"+
			"switch between public and confidential. "+clientOutputHelp)
	var (
		name, authMethod, appType, format           string
		firstParty                                  bool
		accessLifetime, idLifetime, refreshLifetime time.Duration
	)
	fs := d.fs
	t := newClientTarget(d)
	fs.StringVar(&name, "name", "", "display `name` shown on the consent page")
	fs.StringVar(&authMethod, "auth-method", "", "client_secret_basic or client_secret_post (confidential clients)")
	fs.StringVar(&appType, "application-type", "", "native or user_agent (public clients only)")
	redirects := newReplaceableList(fs, "redirect-uri", "clear-redirect-uris",
		"redirect `URI`, matched exactly (repeatable)", "remove every redirect URI (client_credentials-only clients)")
	postLogout := newReplaceableList(fs, "post-logout-redirect-uri", "clear-post-logout-redirect-uris",
		"`URI` allowed after logout (repeatable)", "remove every post-logout redirect URI")
	origins := newReplaceableList(fs, "cors-origin", "clear-cors-origins",
		"browser `origin` scheme://host[:port] (repeatable)", "remove every CORS origin")
	grants := newReplaceableList(fs, "grant", "clear-grants",
		"grant `type`: authorization_code, refresh_token, client_credentials (repeatable)",
		"restore the default grants (authorization_code, refresh_token)")
	scopes := newReplaceableList(fs, "scope", "clear-scopes",
		"allowed `scope` (repeatable)", "allow the standard scopes (openid profile email offline_access address phone)")
	fs.BoolVar(&firstParty, "first-party", false, "skip the consent page: --first-party=true or --first-party=false")
	fs.StringVar(&format, "access-token-format", "", "`format` of access tokens: jwt or opaque")
	fs.DurationVar(&accessLifetime, "access-token-lifetime", 0, "access token `lifetime` (0: the tenant's or server's default)")
	fs.DurationVar(&idLifetime, "id-token-lifetime", 0, "ID token `lifetime` (0: the tenant's or server's default)")
	fs.DurationVar(&refreshLifetime, "refresh-token-lifetime", 0, "refresh token `lifetime` (0: the tenant's or server's default)")
	for _, l := range []*replaceableList{redirects, postLogout, origins, grants, scopes} {
		d.check(func() error { return l.check(fs.Name()) })
	}
	return d.run(ctx, args, func(a *app) (any, error) {
		given := givenFlags(fs)
		cl, err := a.registry.UpdateClient(ctx, t.tenant, t.id, registry.ClientUpdate{
			Name:                   ptrIf(given, "name", name),
			AuthMethod:             ptrIf(given, "auth-method", authMethod),
			ApplicationType:        ptrIf(given, "application-type", appType),
			RedirectURIs:           redirects.update(),
			PostLogoutRedirectURIs: postLogout.update(),
			CORSOrigins:            origins.update(),
			GrantTypes:             grants.update(),
			Scopes:                 scopes.update(),
			FirstParty:             ptrIf(given, "first-party", firstParty),
			AccessTokenFormat:      ptrIf(given, "access-token-format", format),
			AccessTokenLifetime:    ptrIf(given, "access-token-lifetime", accessLifetime),
			IDTokenLifetime:        ptrIf(given, "id-token-lifetime", idLifetime),
			RefreshTokenLifetime:   ptrIf(given, "refresh-token-lifetime", refreshLifetime),
		})
		return rendered(cl, err, renderClient)
	})
}

func runClientDelete(ctx context.Context, c *cli, args []string) error {
	d := newAppCommand(c, "client delete", "--tenant TENANT --id CLIENT_ID [flags]",
		"Deletes a client: it can no longer authenticate (no refresh, no client_credentials);\n"+
			"access tokens it already holds expire on their own. Prints\n"+
			"{\"deleted\":true,\"tenant\",\"client_id\"}.")
	t := newClientTarget(d)
	return d.run(ctx, args, func(a *app) (any, error) {
		if err := a.registry.DeleteClient(ctx, t.tenant, t.id); err != nil {
			return nil, err
		}
		return deletedJSON{Deleted: true, Tenant: t.tenant, ClientID: t.id}, nil
	})
}

func runClientRotateSecret(ctx context.Context, c *cli, args []string) error {
	d := newAppCommand(c, "client rotate-secret", "--tenant TENANT --id CLIENT_ID [flags]",
		"Replaces a confidential client's secret; the old one stops working at once. The new\n"+
			"one is printed once, as client_secret. "+clientOutputHelp)
	t := newClientTarget(d)
	return d.run(ctx, args, func(a *app) (any, error) {
		secret, err := a.registry.RotateClientSecret(ctx, t.tenant, t.id)
		if err != nil {
			return nil, err
		}
		cl, err := a.registry.GetClient(ctx, t.tenant, t.id)
		if err != nil {
			// The new secret is in force and exists nowhere else: print it
			// whatever else failed.
			a.log.Warn("secret rotated, but the client could not be read back", "tenant", t.tenant, "client_id", t.id, "error", err)
			cl = &storage.Client{TenantID: t.tenant, ID: t.id}
		}
		return admin.RenderClient(cl, secret), nil
	})
}

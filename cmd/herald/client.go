package main

import (
	"context"
	"flag"
	"time"

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
	"seconds) plus the tenant's issuer."

func runClientCreate(ctx context.Context, c *cli, args []string) error {
	cfg, envErr := loadConfig()
	fs := newFlagSet(c, "client create", "--tenant TENANT --redirect-uri URI [flags]",
		"Registers a client. A confidential client gets a generated secret, printed once as\n"+
			"client_secret: only its hash is stored. Public clients (SPAs, --native apps) use\n"+
			"PKCE instead. "+clientOutputHelp)
	var (
		tenant                                         string
		spec                                           registry.ClientSpec
		redirects, postLogout, origins, grants, scopes stringList
		accessLifetime, idLifetime, refreshLifetime    time.Duration
	)
	fs.StringVar(&tenant, "tenant", "", "tenant `name` (required)")
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
	a, err := setup(ctx, c, fs, cfg, envErr, args, map[string]*string{"tenant": &tenant})
	if err != nil {
		return err
	}
	defer a.Close()
	spec.RedirectURIs, spec.PostLogoutRedirectURIs, spec.CORSOrigins = redirects, postLogout, origins
	spec.GrantTypes, spec.Scopes = grants, scopes
	spec.AccessTokenLifetime, spec.IDTokenLifetime, spec.RefreshTokenLifetime = accessLifetime, idLifetime, refreshLifetime
	cl, secret, err := a.registry.CreateClient(ctx, tenant, spec)
	if err != nil {
		return err
	}
	return writeJSON(c.stdout, renderClient(cfg.PublicURL, cl, secret))
}

func runClientList(ctx context.Context, c *cli, args []string) error {
	cfg, envErr := loadConfig()
	fs := newFlagSet(c, "client list", "--tenant TENANT [flags]",
		"Lists the clients of a tenant as {\"clients\":[...]}, without secrets.")
	var tenant string
	fs.StringVar(&tenant, "tenant", "", "tenant `name` (required)")
	a, err := setup(ctx, c, fs, cfg, envErr, args, map[string]*string{"tenant": &tenant})
	if err != nil {
		return err
	}
	defer a.Close()
	cs, err := a.registry.ListClients(ctx, tenant)
	if err != nil {
		return err
	}
	out := struct {
		Clients []clientJSON `json:"clients"`
	}{Clients: []clientJSON{}}
	for _, cl := range cs {
		out.Clients = append(out.Clients, renderClient(cfg.PublicURL, cl, ""))
	}
	return writeJSON(c.stdout, out)
}

// clientTarget registers --tenant and --id, the flags naming one client.
type clientTarget struct{ tenant, id string }

func (t *clientTarget) register(fs *flag.FlagSet) map[string]*string {
	fs.StringVar(&t.tenant, "tenant", "", "tenant `name` (required)")
	fs.StringVar(&t.id, "id", "", "client `ID` (required)")
	return map[string]*string{"tenant": &t.tenant, "id": &t.id}
}

func runClientGet(ctx context.Context, c *cli, args []string) error {
	cfg, envErr := loadConfig()
	fs := newFlagSet(c, "client get", "--tenant TENANT --id CLIENT_ID [flags]",
		"Shows a client (never its secret). "+clientOutputHelp)
	var t clientTarget
	a, err := setup(ctx, c, fs, cfg, envErr, args, t.register(fs))
	if err != nil {
		return err
	}
	defer a.Close()
	cl, err := a.registry.GetClient(ctx, t.tenant, t.id)
	if err != nil {
		return err
	}
	return writeJSON(c.stdout, renderClient(cfg.PublicURL, cl, ""))
}

func runClientUpdate(ctx context.Context, c *cli, args []string) error {
	cfg, envErr := loadConfig()
	fs := newFlagSet(c, "client update", "--tenant TENANT --id CLIENT_ID [flags]",
		"Changes a client, validated by the rules of 'client create'. Only the flags given\n"+
			"change anything; a list flag replaces the whole list (--clear-... empties it: no\n"+
			"grants means the default authorization_code and refresh_token, no scopes the\n"+
			"standard OIDC scopes). The secret is kept (see rotate-secret); a client cannot\n"+
			"switch between public and confidential. "+clientOutputHelp)
	var (
		t                                           clientTarget
		name, authMethod, appType, format           string
		firstParty                                  bool
		accessLifetime, idLifetime, refreshLifetime time.Duration
	)
	required := t.register(fs)
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
	if err := parseArgs(fs, cfg, args, required); err != nil {
		return err
	}
	for _, l := range []*replaceableList{redirects, postLogout, origins, grants, scopes} {
		if err := l.check(fs.Name()); err != nil {
			return err
		}
	}
	given := givenFlags(fs)
	a, err := openFor(ctx, c, fs, cfg, envErr)
	if err != nil {
		return err
	}
	defer a.Close()
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
	if err != nil {
		return err
	}
	return writeJSON(c.stdout, renderClient(cfg.PublicURL, cl, ""))
}

func runClientDelete(ctx context.Context, c *cli, args []string) error {
	cfg, envErr := loadConfig()
	fs := newFlagSet(c, "client delete", "--tenant TENANT --id CLIENT_ID [flags]",
		"Deletes a client: it can no longer authenticate (no refresh, no client_credentials);\n"+
			"access tokens it already holds expire on their own. Prints\n"+
			"{\"deleted\":true,\"tenant\",\"client_id\"}.")
	var t clientTarget
	a, err := setup(ctx, c, fs, cfg, envErr, args, t.register(fs))
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.registry.DeleteClient(ctx, t.tenant, t.id); err != nil {
		return err
	}
	return writeJSON(c.stdout, deletedJSON{Deleted: true, Tenant: t.tenant, ClientID: t.id})
}

func runClientRotateSecret(ctx context.Context, c *cli, args []string) error {
	cfg, envErr := loadConfig()
	fs := newFlagSet(c, "client rotate-secret", "--tenant TENANT --id CLIENT_ID [flags]",
		"Replaces a confidential client's secret; the old one stops working at once. The new\n"+
			"one is printed once, as client_secret. "+clientOutputHelp)
	var t clientTarget
	a, err := setup(ctx, c, fs, cfg, envErr, args, t.register(fs))
	if err != nil {
		return err
	}
	defer a.Close()
	secret, err := a.registry.RotateClientSecret(ctx, t.tenant, t.id)
	if err != nil {
		return err
	}
	cl, err := a.registry.GetClient(ctx, t.tenant, t.id)
	if err != nil {
		// The new secret is in force and exists nowhere else: print it
		// whatever else failed.
		a.log.Warn("secret rotated, but the client could not be read back", "tenant", t.tenant, "client_id", t.id, "error", err)
		cl = &storage.Client{TenantID: t.tenant, ID: t.id}
	}
	return writeJSON(c.stdout, renderClient(cfg.PublicURL, cl, secret))
}

package main

import (
	"context"
	"time"

	"github.com/herald-idp/herald/op/registry"
)

func clientCommands() map[string]command {
	return map[string]command{
		"create":        {"register a client in a tenant", runClientCreate},
		"rotate-secret": {"give a confidential client a new secret", runClientRotateSecret},
	}
}

type clientSecretJSON struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret,omitempty"`
	Tenant       string `json:"tenant"`
	Issuer       string `json:"issuer"`
}

func runClientCreate(ctx context.Context, c *cli, args []string) error {
	cfg, envErr := loadConfig()
	fs := newFlagSet(c, "client create", "--tenant TENANT --redirect-uri URI [flags]",
		"Registers a client. A confidential client gets a generated secret, printed once:\n"+
			"only its hash is stored. Public clients (SPAs, --native apps) use PKCE instead.\n"+
			"Prints {\"client_id\",\"client_secret\",\"tenant\",\"issuer\"}.")
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
	fs.DurationVar(&accessLifetime, "access-token-lifetime", 0, "access token `lifetime` (0: server default)")
	fs.DurationVar(&idLifetime, "id-token-lifetime", 0, "ID token `lifetime` (0: server default)")
	fs.DurationVar(&refreshLifetime, "refresh-token-lifetime", 0, "refresh token `lifetime` (0: server default)")
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
	return writeJSON(c.stdout, clientSecretJSON{
		ClientID:     cl.ID,
		ClientSecret: secret,
		Tenant:       tenant,
		Issuer:       registry.IssuerURL(cfg.PublicURL, tenant),
	})
}

func runClientRotateSecret(ctx context.Context, c *cli, args []string) error {
	cfg, envErr := loadConfig()
	fs := newFlagSet(c, "client rotate-secret", "--tenant TENANT --id CLIENT_ID [flags]",
		"Replaces a confidential client's secret; the old one stops working at once.\n"+
			"Prints {\"client_id\",\"client_secret\",\"tenant\",\"issuer\"}.")
	var tenant, id string
	fs.StringVar(&tenant, "tenant", "", "tenant `name` (required)")
	fs.StringVar(&id, "id", "", "client `ID` (required)")
	a, err := setup(ctx, c, fs, cfg, envErr, args, map[string]*string{"tenant": &tenant, "id": &id})
	if err != nil {
		return err
	}
	defer a.Close()
	secret, err := a.registry.RotateClientSecret(ctx, tenant, id)
	if err != nil {
		return err
	}
	return writeJSON(c.stdout, clientSecretJSON{
		ClientID:     id,
		ClientSecret: secret,
		Tenant:       tenant,
		Issuer:       registry.IssuerURL(cfg.PublicURL, tenant),
	})
}

package main

import (
	"context"

	"github.com/herald-idp/herald/op/registry"
)

func adminCommands() map[string]command {
	return map[string]command{
		"bootstrap": {"create the system tenant and an admin API client", runAdminBootstrap},
	}
}

// bootstrapJSON is everything needed to call the admin API: the client's
// credentials (the secret shown this once) and where and how to get a
// token for it (client_credentials, RFC 6749 §4.4).
type bootstrapJSON struct {
	ClientID      string `json:"client_id"`
	ClientSecret  string `json:"client_secret"`
	Issuer        string `json:"issuer"`
	TokenEndpoint string `json:"token_endpoint"`
	Scope         string `json:"scope"`
	Audience      string `json:"audience"`
}

func runAdminBootstrap(ctx context.Context, c *cli, args []string) error {
	d := newAppCommand(c, "admin bootstrap", "[--public-url URL] [flags]",
		"Prepares the admin API (/admin/v1): creates the system tenant (issuer\n"+
			"{public_url}/t/system) if it is missing and registers a new admin client there,\n"+
			"allowed client_credentials with the scope herald:admin only. Every run makes\n"+
			"another client. Prints {\"client_id\",\"client_secret\",\"issuer\",\"token_endpoint\",\n"+
			"\"scope\",\"audience\"}; the secret is shown this once. Then:\n"+
			"  curl -u \"$CLIENT_ID:$CLIENT_SECRET\" -d grant_type=client_credentials \\\n"+
			"    -d scope=herald:admin \"$TOKEN_ENDPOINT\"\n"+
			"--public-url must be the one the server runs with: it is in the issuer and audience.")
	return d.run(ctx, args, func(a *app) (any, error) {
		id, secret, issuer, err := a.registry.Bootstrap(ctx, a.cfg.PublicURL)
		if err != nil {
			return nil, err
		}
		return bootstrapJSON{
			ClientID: id, ClientSecret: secret, Issuer: issuer,
			TokenEndpoint: issuer + "/token",
			Scope:         registry.AdminScope,
			Audience:      a.cfg.PublicURL + "/admin/v1",
		}, nil
	})
}

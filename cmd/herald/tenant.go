package main

import (
	"context"

	"github.com/herald-idp/herald/op/registry"
)

func tenantCommands() map[string]command {
	return map[string]command{
		"create": {"create a tenant with its signing keys", runTenantCreate},
		"list":   {"list tenants", runTenantList},
	}
}

type tenantJSON struct {
	Name        string `json:"name"`
	Issuer      string `json:"issuer"`
	DisplayName string `json:"display_name"`
	SigningAlg  string `json:"signing_alg"`
	Disabled    bool   `json:"disabled"`
}

func runTenantCreate(ctx context.Context, c *cli, args []string) error {
	cfg, envErr := loadConfig()
	fs := newFlagSet(c, "tenant create", "--name NAME [flags]",
		"Creates a tenant: an issuer at {public_url}/t/NAME with its own clients, users and\n"+
			"signing keys. Prints {\"name\",\"issuer\"}.")
	var spec registry.TenantSpec
	fs.StringVar(&spec.Name, "name", "", "tenant `name`: 1-63 of a-z, 0-9 and inner '-' (required)")
	fs.StringVar(&spec.DisplayName, "display-name", "", "name shown on the login pages (default: the name)")
	fs.StringVar(&spec.SigningAlgorithm, "signing-alg", "RS256", "token signing `alg`: RS256, ES256 or EdDSA (an RS256 key is always published too)")
	a, err := setup(ctx, c, fs, cfg, envErr, args, map[string]*string{"name": &spec.Name})
	if err != nil {
		return err
	}
	defer a.Close()
	t, err := a.registry.CreateTenant(ctx, spec)
	if err != nil {
		return err
	}
	return writeJSON(c.stdout, struct {
		Name   string `json:"name"`
		Issuer string `json:"issuer"`
	}{t.Name, registry.IssuerURL(cfg.PublicURL, t.Name)})
}

func runTenantList(ctx context.Context, c *cli, args []string) error {
	cfg, envErr := loadConfig()
	fs := newFlagSet(c, "tenant list", "[flags]", "Lists every tenant as {\"tenants\":[...]}.")
	a, err := setup(ctx, c, fs, cfg, envErr, args, nil)
	if err != nil {
		return err
	}
	defer a.Close()
	tenants, err := a.registry.ListTenants(ctx)
	if err != nil {
		return err
	}
	out := struct {
		Tenants []tenantJSON `json:"tenants"`
	}{Tenants: []tenantJSON{}}
	for _, t := range tenants {
		out.Tenants = append(out.Tenants, tenantJSON{
			Name:        t.Name,
			Issuer:      registry.IssuerURL(cfg.PublicURL, t.Name),
			DisplayName: t.DisplayName,
			SigningAlg:  t.SigningAlgorithm,
			Disabled:    t.Disabled,
		})
	}
	return writeJSON(c.stdout, out)
}

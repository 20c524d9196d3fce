package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
)

// The data set every backend is seeded with through the herald CLI.
const (
	tenantRS256 = "bench" // W1, W2, W3-RS256, W4, W5, W6
	tenantES256 = "bench-es256"
	tenantEdDSA = "bench-eddsa"

	webClientID   = "bench-web" // confidential, first party, all three grants
	webRedirect   = "https://rp.bench.example/cb"
	spaClientID   = "bench-spa" // public, first party, PKCE
	spaRedirect   = "https://spa.bench.example/cb"
	m2mClientID   = "bench-m2m" // confidential, client_credentials only (ES256 and EdDSA tenants)
	benchUsername = "bench-user"

	loginScope = "openid profile email offline_access"
)

// dataset is what the seeding created, as the relying parties know it.
type dataset struct {
	web, spa rpClient
	m2m      map[string]rpClient // tenant → its client_credentials client
	username string
	password string
}

// seed creates the three tenants, the clients and the user.
func seed(ctx context.Context, bin string, env []string, publicURL string) (*dataset, error) {
	issuer := func(t string) string { return publicURL + "/t/" + t }
	for _, t := range []struct{ name, alg string }{
		{tenantRS256, "RS256"}, {tenantES256, "ES256"}, {tenantEdDSA, "EdDSA"},
	} {
		if _, err := runCLI(ctx, bin, env, "", "tenant", "create", "--name", t.name, "--signing-alg", t.alg); err != nil {
			return nil, err
		}
	}
	d := &dataset{m2m: map[string]rpClient{}, username: benchUsername, password: "bench-" + randomString(18)}
	var err error
	d.web, err = createClient(ctx, bin, env, issuer(tenantRS256), webRedirect,
		"client", "create", "--tenant", tenantRS256, "--id", webClientID, "--name", "Bench Web", "--first-party",
		"--redirect-uri", webRedirect,
		"--grant", "authorization_code", "--grant", "refresh_token", "--grant", "client_credentials")
	if err != nil {
		return nil, err
	}
	d.m2m[tenantRS256] = d.web
	d.spa, err = createClient(ctx, bin, env, issuer(tenantRS256), spaRedirect,
		"client", "create", "--tenant", tenantRS256, "--id", spaClientID, "--name", "Bench SPA", "--public", "--first-party",
		"--redirect-uri", spaRedirect, "--grant", "authorization_code", "--grant", "refresh_token")
	if err != nil {
		return nil, err
	}
	for _, t := range []string{tenantES256, tenantEdDSA} {
		c, err := createClient(ctx, bin, env, issuer(t), "",
			"client", "create", "--tenant", t, "--id", m2mClientID, "--grant", "client_credentials")
		if err != nil {
			return nil, err
		}
		d.m2m[t] = c
	}
	if _, err := runCLI(ctx, bin, env, d.password+"\n", "user", "create", "--tenant", tenantRS256,
		"--username", d.username, "--email", "bench@bench.example", "--email-verified", "--name", "Bench User",
		"--password-stdin"); err != nil {
		return nil, err
	}
	return d, nil
}

// createClient runs `herald client create` and reads the client's ID and
// secret from its JSON line (RFC 7591 names). The issuer is the one the
// driver configured; only the fields the driver needs are checked, so the
// rest of the output may evolve.
func createClient(ctx context.Context, bin string, env []string, issuer, redirect string, args ...string) (rpClient, error) {
	out, err := runCLI(ctx, bin, env, "", args...)
	if err != nil {
		return rpClient{}, err
	}
	var c struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	if err := json.Unmarshal(out, &c); err != nil {
		return rpClient{}, fmt.Errorf("client create: unexpected output: %w", err)
	}
	public := slices.Contains(args, "--public")
	if c.ClientID == "" || (c.ClientSecret == "") != public {
		return rpClient{}, fmt.Errorf("client create: output lacks client_id or (for a confidential client) client_secret")
	}
	return rpClient{issuer: issuer, id: c.ClientID, secret: c.ClientSecret, redirectURI: redirect}, nil
}

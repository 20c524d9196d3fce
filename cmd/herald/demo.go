package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/herald-idp/herald/op/registry"
	"github.com/herald-idp/herald/storage"
)

// The demo set-up of `herald serve --demo`: a tenant, a confidential web
// client, a public SPA client and a user, for the README walkthrough.
const (
	demoTenant      = "demo"
	demoWebClient   = "demo-web"
	demoWebRedirect = "http://localhost:9999/callback"
	demoWebLogout   = "http://localhost:9999/"
	demoSPAClient   = "demo-spa"
	demoSPARedirect = "http://localhost:5173/callback"
	demoSPAOrigin   = "http://localhost:5173"
	demoSPALogout   = "http://localhost:5173/"
	demoUser        = "demo"
	demoEmail       = "demo@example.com"
	demoName        = "Demo User"
)

type demoCredentials struct {
	Issuer             string         `json:"issuer"`
	Discovery          string         `json:"discovery"`
	ConfidentialClient demoClientJSON `json:"confidential_client"`
	SPAClient          demoClientJSON `json:"spa_client"`
	User               demoUserJSON   `json:"user"`
}

type demoClientJSON struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret,omitempty"`
	RedirectURI  string `json:"redirect_uri"`
}

type demoUserJSON struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// ensureDemo creates whatever part of the demo set-up is missing. Only
// hashes are stored, so every start sets a fresh client secret and user
// password and returns them.
func ensureDemo(ctx context.Context, a *app) (*demoCredentials, error) {
	reg := a.registry
	if _, err := a.store.Tenants().Tenant(ctx, demoTenant); errors.Is(err, storage.ErrNotFound) {
		if _, err := reg.CreateTenant(ctx, registry.TenantSpec{Name: demoTenant, DisplayName: "Herald demo"}); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	} else if err := a.keys.EnsureKeys(ctx, demoTenant); err != nil {
		return nil, err
	}

	secret, err := ensureDemoClient(ctx, a, registry.ClientSpec{
		ID:                     demoWebClient,
		Name:                   "Demo web app",
		RedirectURIs:           []string{demoWebRedirect},
		PostLogoutRedirectURIs: []string{demoWebLogout},
		GrantTypes:             []string{registry.GrantAuthorizationCode, registry.GrantRefreshToken, registry.GrantClientCredentials},
		FirstParty:             true,
	})
	if err != nil {
		return nil, err
	}
	if _, err := ensureDemoClient(ctx, a, registry.ClientSpec{
		ID:                     demoSPAClient,
		Name:                   "Demo single-page app",
		Public:                 true,
		RedirectURIs:           []string{demoSPARedirect},
		PostLogoutRedirectURIs: []string{demoSPALogout},
		CORSOrigins:            []string{demoSPAOrigin},
	}); err != nil {
		return nil, err
	}

	pw, err := demoPassword()
	if err != nil {
		return nil, err
	}
	u, err := a.store.Users().UserByUsername(ctx, demoTenant, demoUser)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		if _, err := reg.CreateUser(ctx, demoTenant, registry.UserSpec{
			Username: demoUser, Email: demoEmail, EmailVerified: true,
			Name: demoName, GivenName: "Demo", FamilyName: "User", Password: pw,
		}); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, err
	default:
		if err := reg.SetPassword(ctx, demoTenant, u.ID, pw); err != nil {
			return nil, err
		}
	}

	issuer := registry.IssuerURL(a.cfg.PublicURL, demoTenant)
	a.log.Info("demo tenant ready", "issuer", issuer)
	return &demoCredentials{
		Issuer:             issuer,
		Discovery:          issuer + "/.well-known/openid-configuration",
		ConfidentialClient: demoClientJSON{ClientID: demoWebClient, ClientSecret: secret, RedirectURI: demoWebRedirect},
		SPAClient:          demoClientJSON{ClientID: demoSPAClient, RedirectURI: demoSPARedirect},
		User:               demoUserJSON{Username: demoUser, Password: pw},
	}, nil
}

// ensureDemoClient creates the client if it is missing and, for a
// confidential one, returns a fresh secret (rotating it if the client
// existed already).
func ensureDemoClient(ctx context.Context, a *app, spec registry.ClientSpec) (string, error) {
	existing, err := a.store.Clients().Client(ctx, demoTenant, spec.ID)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		_, secret, err := a.registry.CreateClient(ctx, demoTenant, spec)
		return secret, err
	case err != nil:
		return "", err
	case existing.IsPublic():
		return "", nil
	}
	return a.registry.RotateClientSecret(ctx, demoTenant, spec.ID)
}

// demoPassword is 16 base64url characters (96 random bits): long enough for
// the policy and easy to paste.
func demoPassword() (string, error) {
	b, err := randomBytes(12)
	if err != nil {
		return "", fmt.Errorf("demo password: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

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

// demoSecretsFile holds the demo client secret and user password between
// starts (mode 0600), next to the SQLite database (./data with the
// defaults, as `make run` uses). Only their hashes are in the database, so
// without this file every start would have to set new ones, and a
// walkthrough begun before a restart would stop working. A database that
// is not a local file (PostgreSQL) has no such directory: there each start
// prints new ones, as before.
const demoSecretsFile = "demo-credentials.json"

// demoSecrets is the content of demoSecretsFile.
type demoSecrets struct {
	ClientSecret string `json:"client_secret"`
	Password     string `json:"password"`
}

// demoSecretsPath is where the demo secrets are kept; "" (not kept) for an
// in-memory database, whose demo set-up is new at every start anyway, and
// for one that is not a local file.
func demoSecretsPath(cfg *Config) string {
	dir, ephemeral, ok := localKEKDir(cfg.DatabaseURL)
	if !ok || ephemeral {
		return ""
	}
	return filepath.Join(dir, demoSecretsFile)
}

// ensureDemo creates whatever part of the demo set-up is missing and
// returns its credentials: those kept at secretsPath when they still work,
// new ones (then kept there) otherwise — the first start, a database reset,
// a secret rotated by hand.
func ensureDemo(ctx context.Context, a *app, secretsPath string) (*demoCredentials, error) {
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
	kept, err := readDemoSecrets(secretsPath)
	if err != nil {
		return nil, err
	}

	secret, err := ensureDemoClient(ctx, a, registry.ClientSpec{
		ID:                     demoWebClient,
		Name:                   "Demo web app",
		RedirectURIs:           []string{demoWebRedirect},
		PostLogoutRedirectURIs: []string{demoWebLogout},
		GrantTypes:             []string{registry.GrantAuthorizationCode, registry.GrantRefreshToken, registry.GrantClientCredentials},
		FirstParty:             true,
	}, kept.ClientSecret)
	if err != nil {
		return nil, err
	}
	if _, err := ensureDemoClient(ctx, a, demoSPASpec(), ""); err != nil {
		return nil, err
	}
	pw, err := ensureDemoUser(ctx, a, kept.Password)
	if err != nil {
		return nil, err
	}
	if secretsPath != "" && (secret != kept.ClientSecret || pw != kept.Password) {
		if err := writeDemoSecrets(secretsPath, demoSecrets{ClientSecret: secret, Password: pw}); err != nil {
			return nil, err
		}
	}

	issuer := registry.IssuerURL(a.cfg.PublicURL, demoTenant)
	a.log.Info("demo tenant ready", "issuer", issuer, "credentials_file", secretsPath)
	return &demoCredentials{
		Issuer:             issuer,
		Discovery:          issuer + "/.well-known/openid-configuration",
		ConfidentialClient: demoClientJSON{ClientID: demoWebClient, ClientSecret: secret, RedirectURI: demoWebRedirect},
		SPAClient:          demoClientJSON{ClientID: demoSPAClient, RedirectURI: demoSPARedirect},
		User:               demoUserJSON{Username: demoUser, Password: pw},
	}, nil
}

// demoSPASpec is the public client of docs/examples/spa: the code flow with
// PKCE, and refresh tokens (rotated at every use) for its silent refresh.
func demoSPASpec() registry.ClientSpec {
	return registry.ClientSpec{
		ID:                     demoSPAClient,
		Name:                   "Demo single-page app",
		Public:                 true,
		FirstParty:             true,
		RedirectURIs:           []string{demoSPARedirect},
		PostLogoutRedirectURIs: []string{demoSPALogout},
		CORSOrigins:            []string{demoSPAOrigin},
		GrantTypes:             []string{registry.GrantAuthorizationCode, registry.GrantRefreshToken},
	}
}

// ensureDemoClient creates the client if it is missing and, for a
// confidential one, returns its secret: kept when it still verifies,
// otherwise a new one (rotating it if the client existed already).
func ensureDemoClient(ctx context.Context, a *app, spec registry.ClientSpec, kept string) (string, error) {
	existing, err := a.store.Clients().Client(ctx, demoTenant, spec.ID)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		_, secret, err := a.registry.CreateClient(ctx, demoTenant, spec)
		return secret, err
	case err != nil:
		return "", err
	case existing.IsPublic():
		// Demo databases from before the SPA example lack its grants.
		if !slices.Equal(existing.GrantTypes, spec.GrantTypes) || existing.FirstParty != spec.FirstParty {
			_, err := a.registry.UpdateClient(ctx, demoTenant, spec.ID, registry.ClientUpdate{
				GrantTypes: &spec.GrantTypes, FirstParty: &spec.FirstParty})
			return "", err
		}
		return "", nil
	case kept != "" && registry.VerifyClientSecret(kept, existing.SecretHash):
		return kept, nil
	}
	return a.registry.RotateClientSecret(ctx, demoTenant, spec.ID)
}

// ensureDemoUser creates the demo user if it is missing and returns its
// password: kept when it still verifies, otherwise kept (or a new one) set
// again.
func ensureDemoUser(ctx context.Context, a *app, kept string) (string, error) {
	pw := kept
	if pw == "" {
		var err error
		if pw, err = demoPassword(); err != nil {
			return "", err
		}
	}
	u, err := a.store.Users().UserByUsername(ctx, demoTenant, demoUser)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		_, err := a.registry.CreateUser(ctx, demoTenant, registry.UserSpec{
			Username: demoUser, Email: demoEmail, EmailVerified: true,
			Name: demoName, GivenName: "Demo", FamilyName: "User", Password: pw,
		})
		return pw, err
	case err != nil:
		return "", err
	}
	if kept != "" && u.PasswordHash != "" {
		if ok, _, err := a.registry.Passwords.Verify(ctx, kept, u.PasswordHash); err == nil && ok {
			return kept, nil
		}
	}
	return pw, a.registry.SetPassword(ctx, demoTenant, u.ID, pw)
}

// readDemoSecrets reads the kept secrets; none when path is "" or the file
// does not exist.
func readDemoSecrets(path string) (demoSecrets, error) {
	var s demoSecrets
	if path == "" {
		return s, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("demo credentials: %w", err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return demoSecrets{}, fmt.Errorf("demo credentials %s: %w (delete the file for new ones)", path, err)
	}
	return s, nil
}

// writeDemoSecrets replaces the file at path (mode 0600) atomically.
func writeDemoSecrets(path string, s demoSecrets) error {
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("demo credentials: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".demo-credentials-*")
	if err != nil {
		return fmt.Errorf("demo credentials: %w", err)
	}
	defer os.Remove(tmp.Name())
	_ = tmp.Chmod(0o600)
	_, werr := tmp.Write(append(b, '\n'))
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		return fmt.Errorf("demo credentials: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("demo credentials: %w", err)
	}
	return nil
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

package registry

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/herald-idp/herald/storage"
)

func TestConnectorValidation(t *testing.T) {
	r := newTenant(t)
	ctx := t.Context()
	ok := ConnectorSpec{ID: "corp", Type: "oidc", Issuer: "https://idp.example.com", ClientID: "herald"}
	tests := []struct {
		name  string
		edit  func(*ConnectorSpec)
		field string
	}{
		{"bad id", func(s *ConnectorSpec) { s.ID = "Corp/../x" }, "id"},
		{"bad type", func(s *ConnectorSpec) { s.Type = "saml" }, "type"},
		{"no issuer", func(s *ConnectorSpec) { s.Issuer = "" }, "issuer"},
		{"http issuer", func(s *ConnectorSpec) { s.Issuer = "http://idp.example.com" }, "issuer"},
		{"issuer with query", func(s *ConnectorSpec) { s.Issuer = "https://idp.example.com/?a=b" }, "issuer"},
		{"no client id", func(s *ConnectorSpec) { s.ClientID = "" }, "client_id"},
		{"no openid", func(s *ConnectorSpec) { s.Scopes = []string{"email"} }, "scopes"},
		{"unknown mapping", func(s *ConnectorSpec) { s.ClaimMapping = map[string]string{"password_hash": "x"} }, "claim_mapping"},
		{"github without secret", func(s *ConnectorSpec) { s.Type, s.Issuer = "github", "" }, "client_secret"},
	}
	for _, tc := range tests {
		spec := ok
		tc.edit(&spec)
		_, err := r.CreateConnector(ctx, "acme", spec)
		wantFieldError(t, err, tc.field)
	}
	// Loopback http is fine (development, tests).
	spec := ok
	spec.Issuer = "http://127.0.0.1:5556/dex"
	if _, err := r.CreateConnector(ctx, "acme", spec); err != nil {
		t.Fatal(err)
	}
	_, err := r.CreateConnector(ctx, "acme", spec)
	if !errors.Is(err, storage.ErrAlreadyExists) {
		t.Fatalf("duplicate: %v", err)
	}
	_, err = r.CreateConnector(ctx, "nope", ok)
	if !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("unknown tenant: %v", err)
	}
}

// The client secret is sealed at rest, never returned and never audited.
func TestConnectorSecretNeverLeaves(t *testing.T) {
	r := newTenant(t).As(admin)
	ctx := t.Context()
	const secret = "s3cret-upstream-value"
	c, err := r.CreateConnector(ctx, "acme", ConnectorSpec{ID: "gh", Type: "github", ClientID: "Iv1.abc",
		ClientSecret: secret, JITCreate: true})
	if err != nil {
		t.Fatal(err)
	}
	if c.Issuer != DefaultGitHubAPI || len(c.Scopes) != 2 || bytes.Contains(c.ClientSecret, []byte(secret)) {
		t.Fatalf("created %+v", c)
	}
	stored, err := r.Store.Connectors().Connector(ctx, "acme", "gh")
	if err != nil {
		t.Fatal(err)
	}
	if len(stored.ClientSecret) == 0 || bytes.Contains(stored.ClientSecret, []byte(secret)) {
		t.Fatalf("secret not sealed at rest: %x", stored.ClientSecret)
	}
	plain, err := r.Keys.OpenConnectorSecret("acme", "gh", stored.ClientSecret)
	if err != nil || string(plain) != secret {
		t.Fatalf("open = %q, %v", plain, err)
	}
	got, err := r.GetConnector(ctx, "acme", "gh")
	if err != nil || bytes.Contains(got.ClientSecret, []byte(secret)) || len(got.ClientSecret) == 0 {
		t.Fatalf("GetConnector = %+v, %v", got, err)
	}

	name := "GitHub"
	newSecret := "rotated-upstream-secret"
	u, err := r.UpdateConnector(ctx, "acme", "gh", ConnectorUpdate{DisplayName: &name, ClientSecret: &newSecret})
	if err != nil || u.DisplayName != "GitHub" {
		t.Fatalf("update = %+v, %v", u, err)
	}
	stored, _ = r.Store.Connectors().Connector(ctx, "acme", "gh")
	plain, _ = r.Keys.OpenConnectorSecret("acme", "gh", stored.ClientSecret)
	if string(plain) != newSecret {
		t.Fatal("secret not replaced")
	}
	bad := "ftp://x"
	_, err = r.UpdateConnector(ctx, "acme", "gh", ConnectorUpdate{Issuer: &bad})
	wantFieldError(t, err, "issuer")

	events, err := r.ListAudit(ctx, "acme", 0)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(events)
	if !strings.Contains(string(raw), ActionConnectorUpdate) {
		t.Fatal("update not audited")
	}
	for _, s := range []string{secret, newSecret} {
		if strings.Contains(string(raw), s) {
			t.Fatal("audit log leaks a connector secret")
		}
	}
	if err := r.DeleteConnector(ctx, "acme", "gh"); err != nil {
		t.Fatal(err)
	}
	if err := r.DeleteConnector(ctx, "acme", "gh"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
}

// A just-in-time user keeps at least one way to sign in: the last link of a
// user without a password cannot be removed.
func TestUnlinkKeepsASignInMethod(t *testing.T) {
	r := newTenant(t)
	ctx := t.Context()
	for _, id := range []string{"corp", "gh"} {
		typ, secret := "oidc", ""
		if id == "gh" {
			typ, secret = "github", "s"
		}
		if _, err := r.CreateConnector(ctx, "acme", ConnectorSpec{ID: id, Type: typ, Issuer: map[string]string{"corp": "https://sso.example.com", "gh": ""}[id], ClientID: "x", ClientSecret: secret}); err != nil {
			t.Fatal(err)
		}
	}
	u, err := r.CreateFederatedUser(ctx, "acme", FederatedUserSpec{Connector: "corp", Username: "Bad Name!", Email: "not-an-email"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(u.Username, "corp-") || u.Email != "" || u.PasswordHash != "" {
		t.Fatalf("federated user %+v", u)
	}
	if err := r.LinkUser(ctx, "acme", "corp", "sub-1", u.ID); err != nil {
		t.Fatal(err)
	}
	if err := r.LinkUser(ctx, "acme", "corp", "sub-1", u.ID); !errors.Is(err, storage.ErrAlreadyExists) {
		t.Fatalf("second link: %v", err)
	}
	wantFieldError(t, r.UnlinkUser(ctx, "acme", u.ID, "corp", "sub-1"), "connector")
	if err := r.LinkUser(ctx, "acme", "gh", "42", u.ID); err != nil {
		t.Fatal(err)
	}
	if err := r.UnlinkUser(ctx, "acme", u.ID, "corp", "sub-1"); err != nil {
		t.Fatal(err)
	}
	links, err := r.UserLinks(ctx, "acme", u.ID)
	if err != nil || len(links) != 1 || links[0].ConnectorID != "gh" {
		t.Fatalf("links %+v, %v", links, err)
	}
	if err := r.UnlinkUser(ctx, "acme", u.ID, "corp", "sub-1"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("unlink twice: %v", err)
	}
	// With a password, the last link can go.
	if err := r.SetPassword(ctx, "acme", u.ID, "a long enough passphrase 9"); err != nil {
		t.Fatal(err)
	}
	if err := r.UnlinkUser(ctx, "acme", u.ID, "gh", "42"); err != nil {
		t.Fatal(err)
	}
	// A taken username falls back to connector-random.
	if _, err := r.CreateUser(ctx, "acme", UserSpec{Username: "octocat", Password: goodPassword}); err != nil {
		t.Fatal(err)
	}
	v, err := r.CreateFederatedUser(ctx, "acme", FederatedUserSpec{Connector: "gh", Username: "octocat", Email: "o@example.com", EmailVerified: true})
	if err != nil || !strings.HasPrefix(v.Username, "gh-") || v.Email != "o@example.com" || !v.EmailVerified {
		t.Fatalf("fallback username: %+v, %v", v, err)
	}
}

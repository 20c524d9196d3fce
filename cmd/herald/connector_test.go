package main

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/herald-idp/herald/keys"
	"github.com/herald-idp/herald/storage"
	"github.com/herald-idp/herald/storage/sqlite"
)

// The connector commands: the secret goes in through stdin, is never
// printed back, and every command's output is the admin API's JSON.
func TestConnectorCommands(t *testing.T) {
	testEnv(t)
	mustJSON(t, "", "tenant", "create", "--name", "acme")
	const secret = "upstream-secret-from-stdin"
	r := herald(t, secret+"\n", "connector", "create", "--tenant", "acme", "--id", "google", "--type", "oidc",
		"--issuer", "https://accounts.google.com", "--client-id", "123.apps.googleusercontent.com",
		"--client-secret-stdin", "--jit", "--claim", "username=email", "--display-name", "Google")
	if r.code != 0 || strings.Contains(r.stdout, secret) || !strings.Contains(r.stdout, `"client_secret_set": true`) &&
		!strings.Contains(r.stdout, `"client_secret_set":true`) {
		t.Fatalf("create: exit %d, stdout %s, stderr %s", r.code, r.stdout, r.stderr)
	}
	got := mustJSON(t, "", "connector", "get", "--tenant", "acme", "--id", "google")
	if got["display_name"] != "Google" || got["jit_create"] != true || got["link_by_email"] != false ||
		got["claim_mapping"].(map[string]any)["username"] != "email" {
		t.Fatalf("get: %v", got)
	}
	mustJSON(t, "gh-secret\n", "connector", "create", "--tenant", "acme", "--id", "gh", "--type", "github",
		"--client-id", "Iv1.x", "--client-secret-stdin")
	list := mustJSON(t, "", "connector", "list", "--tenant", "acme")["connectors"].([]any)
	if len(list) != 2 || list[0].(map[string]any)["issuer"] != "https://api.github.com" {
		t.Fatalf("list: %v", list)
	}
	up := mustJSON(t, "", "connector", "update", "--tenant", "acme", "--id", "google", "--link-by-email", "--jit=false", "--clear-claims")
	if up["link_by_email"] != true || up["jit_create"] != false || up["claim_mapping"] != nil {
		t.Fatalf("update: %v", up)
	}
	if r := herald(t, "", "connector", "create", "--tenant", "acme", "--id", "bad", "--type", "saml", "--client-id", "x"); r.code == 0 ||
		!strings.Contains(r.stderr, "type") {
		t.Fatalf("bad type: exit %d, stderr %s", r.code, r.stderr)
	}
	tn := mustJSON(t, "", "tenant", "update", "--name", "acme", "--connectors-only")
	if tn["settings"].(map[string]any)["connectors_only"] != true {
		t.Fatalf("tenant update --connectors-only: %v", tn["settings"])
	}
	// Links: a password user linked to google can be unlinked.
	mustJSON(t, "a long and unusual passphrase\n", "user", "create", "--tenant", "acme", "--username", "alice", "--password-stdin")
	linkAlice(t, "acme", "google", "alice")
	links := mustJSON(t, "", "connector", "links", "--tenant", "acme", "--username", "alice")["links"].([]any)
	if len(links) != 1 || links[0].(map[string]any)["connector"] != "google" {
		t.Fatalf("links: %v", links)
	}
	if out := mustJSON(t, "", "connector", "unlink", "--tenant", "acme", "--username", "alice", "--connector", "google"); out["unlinked"] != 1.0 {
		t.Fatalf("unlink: %v", out)
	}
	if r := herald(t, "", "connector", "unlink", "--tenant", "acme", "--username", "alice", "--connector", "google"); r.code == 0 {
		t.Fatal("second unlink succeeded")
	}
	mustJSON(t, "", "connector", "delete", "--tenant", "acme", "--id", "google")
	if r := herald(t, "", "connector", "get", "--tenant", "acme", "--id", "google"); r.code == 0 {
		t.Fatal("deleted connector still there")
	}
}

// herald keys rewrap re-seals connector secrets under the new KEK.
func TestKeysRewrapConnectorSecrets(t *testing.T) {
	dir := testEnv(t)
	oldKEK, newKEK := newKEKString(t), newKEKString(t)
	t.Setenv("HERALD_KEY_ENCRYPTION_KEY", oldKEK)
	mustJSON(t, "", "tenant", "create", "--name", "acme")
	mustJSON(t, "gh-secret\n", "connector", "create", "--tenant", "acme", "--id", "gh", "--type", "github",
		"--client-id", "Iv1.x", "--client-secret-stdin")
	file := filepath.Join(t.TempDir(), "new.kek")
	if err := os.WriteFile(file, []byte(newKEK+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := mustJSON(t, "", "keys", "rewrap", "--new-key-file", file)
	if out["connector_secrets_resealed"] != 1.0 {
		t.Fatalf("rewrap: %v", out)
	}
	s, err := sqlite.Open(context.Background(), filepath.Join(dir, "herald.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c, err := s.Connectors().Connector(context.Background(), "acme", "gh")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.StdEncoding.DecodeString(newKEK)
	km, err := keys.NewManager(s.Keys(), raw)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := km.OpenConnectorSecret("acme", "gh", c.ClientSecret); err != nil || string(got) != "gh-secret" {
		t.Fatalf("open under the new KEK: %q, %v", got, err)
	}
	t.Setenv("HERALD_KEY_ENCRYPTION_KEY", newKEK)
	if out := mustJSON(t, "", "keys", "rewrap"); out["connector_secrets_resealed"] != 0.0 {
		t.Fatalf("second rewrap: %v", out)
	}
}

// linkAlice links username to connector in the database directly (links
// are made by signing in, which the CLI cannot do).
func linkAlice(t *testing.T, tenant, connector, username string) {
	t.Helper()
	s, err := sqlite.Open(context.Background(), strings.TrimPrefix(os.Getenv("HERALD_DATABASE_URL"), "sqlite:"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	u, err := s.Users().UserByUsername(context.Background(), tenant, username)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Connectors().CreateUserLink(context.Background(), &storage.UserLink{TenantID: tenant,
		ConnectorID: connector, Subject: "up-" + username, UserID: u.ID, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
}

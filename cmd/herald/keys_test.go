package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/herald-idp/herald/storage"
	"github.com/herald-idp/herald/storage/sqlite"
)

func newKEKString(t *testing.T) string {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// backdateKeys moves every key of the tenant an hour into the past, as if
// the next key had been published long enough (the CLI has no clock to
// move).
func backdateKeys(t *testing.T, dbPath, tenant string) {
	t.Helper()
	s, err := sqlite.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, alg := range []string{"RS256", "ES256", "EdDSA"} {
		err := s.Keys().UpdateKeySet(context.Background(), tenant, alg, func(ks []*storage.SigningKey) (*storage.KeySetChange, error) {
			for _, k := range ks {
				k.CreatedAt = k.CreatedAt.Add(-time.Hour)
			}
			return &storage.KeySetChange{Update: ks}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func keyStates(t *testing.T, tenant string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, k := range mustJSON(t, "", "keys", "list", "--tenant", tenant)["keys"].([]any) {
		m := k.(map[string]any)
		if m["alg"] == "ES256" {
			out[m["kid"].(string)] = m["status"].(string)
		}
	}
	return out
}

func TestKeysRotateAndRevoke(t *testing.T) {
	dir := testEnv(t)
	mustJSON(t, "", "tenant", "create", "--name", "acme", "--signing-alg", "ES256")
	r := herald(t, "", "keys", "rotate", "--tenant", "acme")
	if r.code != 1 || !strings.Contains(r.stderr, "may sign from") {
		t.Fatalf("rotation right after creation: exit %d, stderr %q; want a refusal (pre-publication window)", r.code, r.stderr)
	}
	before := keyStates(t, "acme")
	backdateKeys(t, filepath.Join(dir, "herald.db"), "acme")
	out := mustJSON(t, "", "keys", "rotate", "--tenant", "acme")
	active, next := out["active"].(string), out["next"].(string)
	requireAll(t, "keys rotate",
		field("alg", out["alg"], "ES256"),
		field("state before of the key now active", before[active], "next"),
		field("next is set", next != "", true))
	after := keyStates(t, "acme")
	requireAll(t, "keys after rotation",
		field("state of "+active, after[active], "active"),
		field("state of "+next, after[next], "next"),
		field("number of keys", len(after), 3))

	rev := mustJSON(t, "", "keys", "revoke", "--tenant", "acme", "--kid", active)
	if rev["promoted"] != true || rev["active"] != next || !strings.Contains(rev["message"].(string), "fails verification") {
		t.Fatalf("keys revoke printed %v", rev)
	}
	if keyStates(t, "acme")[active] != "revoked" {
		t.Fatal("key not revoked")
	}
	if r := herald(t, "", "keys", "revoke", "--tenant", "acme", "--kid", "nope"); r.code != 1 || !strings.Contains(r.stderr, "not found") {
		t.Fatalf("revoking an unknown kid: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := herald(t, "", "keys", "revoke", "--tenant", "acme"); r.code != 2 {
		t.Fatalf("keys revoke without --kid: exit %d, want the usage error 2", r.code)
	}
}

// TestKEKChecks: on PostgreSQL (the production set-up) a missing or wrong
// KEK refuses to start; rewrap moves every key to a new KEK, after which
// only the new one (or both, mid-change) is accepted.
func TestKEKChecks(t *testing.T) {
	testEnv(t)
	t.Setenv("HERALD_DATABASE_URL", testPostgresDatabase(t))
	mustJSON(t, "", "migrate")
	oldKEK, newKEK := newKEKString(t), newKEKString(t)
	t.Setenv("HERALD_KEY_ENCRYPTION_KEY", oldKEK)
	mustJSON(t, "", "tenant", "create", "--name", "acme")

	t.Setenv("HERALD_KEY_ENCRYPTION_KEY", newKEK)
	if r := herald(t, "", "keys", "list", "--tenant", "acme"); r.code != 1 || !strings.Contains(r.stderr, "does not match") {
		t.Fatalf("wrong KEK: exit %d, stderr %q; want a refusal", r.code, r.stderr)
	}
	// herald serve refuses too, before it listens.
	done := make(chan result, 1)
	go func() { done <- herald(t, "", "serve", "--addr", "127.0.0.1:0") }()
	select {
	case r := <-done:
		if r.code != 1 || !strings.Contains(r.stderr, "does not match") {
			t.Fatalf("serve with the wrong KEK: exit %d, stderr %q; want a refusal", r.code, r.stderr)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("herald serve with the wrong KEK is still running")
	}
	t.Setenv("HERALD_KEY_ENCRYPTION_KEY", "")
	t.Setenv("HERALD_ALLOW_PLAINTEXT_KEYS", "true")
	if r := herald(t, "", "keys", "list", "--tenant", "acme"); r.code != 1 || !strings.Contains(r.stderr, "encrypted but no key-encryption key") ||
		strings.Contains(r.stderr, "stored unencrypted") {
		t.Fatalf("no KEK for encrypted keys: exit %d, stderr %q; want a refusal", r.code, r.stderr)
	}
	t.Setenv("HERALD_ALLOW_PLAINTEXT_KEYS", "")

	// Rewrap under a new KEK taken from a file.
	file := filepath.Join(t.TempDir(), "new.kek")
	if err := os.WriteFile(file, []byte(newKEK+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HERALD_KEY_ENCRYPTION_KEY", oldKEK)
	out := mustJSON(t, "", "keys", "rewrap", "--new-key-file", file)
	// acme's RS256 active and next keys.
	requireKeys(t, "rewrap", out, map[string]any{"tenants": 1.0, "resealed": 2.0, "check_value_resealed": true})
	if r := herald(t, "", "keys", "list", "--tenant", "acme"); r.code != 1 || !strings.Contains(r.stderr, "does not match") {
		t.Fatalf("old KEK after rewrap: exit %d, stderr %q; want a refusal", r.code, r.stderr)
	}
	t.Setenv("HERALD_KEY_ENCRYPTION_KEY_PREVIOUS", oldKEK)
	t.Setenv("HERALD_KEY_ENCRYPTION_KEY", newKEK)
	mustJSON(t, "", "keys", "list", "--tenant", "acme")
	t.Setenv("HERALD_KEY_ENCRYPTION_KEY_PREVIOUS", "")
	mustJSON(t, "", "keys", "list", "--tenant", "acme")
	requireKeys(t, "second rewrap (nothing to do)", mustJSON(t, "", "keys", "rewrap"),
		map[string]any{"resealed": 0.0, "unchanged": 2.0})
}

package main

import (
	"strings"
	"testing"
)

// TestUserMFACommands: the tenant's MFA policy flags, and "herald user mfa
// status|reset" (docs/mfa.md).
func TestUserMFACommands(t *testing.T) {
	testEnv(t)
	tenant := mustJSON(t, "", "tenant", "create", "--name", "acme", "--mfa-policy", "clients", "--mfa-client", "web")
	settings, _ := tenant["settings"].(map[string]any)
	mfa, _ := settings["mfa"].(map[string]any)
	if mfa["policy"] != "clients" || len(mfa["clients"].([]any)) != 1 {
		t.Fatalf("tenant mfa settings = %v", settings["mfa"])
	}
	if r := herald(t, "", "tenant", "update", "--name", "acme", "--mfa-policy", "sometimes"); r.code == 0 || !strings.Contains(r.stderr, "settings.mfa.policy") {
		t.Fatalf("bad policy: exit %d, stderr %q", r.code, r.stderr)
	}
	updated := mustJSON(t, "", "tenant", "update", "--name", "acme", "--mfa-policy", "required")
	if got := updated["settings"].(map[string]any)["mfa"].(map[string]any)["policy"]; got != "required" {
		t.Fatalf("policy after update = %v", got)
	}
	mustJSON(t, "correct horse battery\n", "user", "create", "--tenant", "acme", "--username", "alice", "--password-stdin")
	s := mustJSON(t, "", "user", "mfa", "status", "--tenant", "acme", "--username", "alice")
	if s["enabled"] != false || s["pending"] != false || s["recovery_codes_left"] != float64(0) {
		t.Fatalf("status = %v", s)
	}
	if s := mustJSON(t, "", "user", "mfa", "reset", "--tenant", "acme", "--username", "alice"); s["enabled"] != false {
		t.Fatalf("reset = %v", s)
	}
	if r := herald(t, "", "user", "mfa", "status", "--tenant", "acme", "--username", "nobody"); r.code == 0 {
		t.Fatal("status of an unknown user succeeded")
	}
	if r := herald(t, "", "user", "mfa", "--help"); r.code != 0 || !strings.Contains(r.stderr, "status") || !strings.Contains(r.stderr, "reset") {
		t.Fatalf("user mfa --help: exit %d %q", r.code, r.stderr)
	}
}

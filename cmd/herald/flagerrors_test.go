package main

import (
	"encoding/json"
	"os"
	"runtime"
	"strings"
	"testing"
)

// A wrong flag value is one line naming the flag and what it accepts —
// never the whole usage, never "herald: herald:".
func TestFlagErrorsNameTheFlagAndTheForms(t *testing.T) {
	testEnv(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"client", "create", "--tenant", "acme", "--redirect-uri", "https://a.test/cb", "--access-token-lifetime", "30d"},
			`herald: client create: invalid value "30d" for --access-token-lifetime: use a Go duration like 720h`},
		{[]string{"tenant", "update", "--name", "acme", "--refresh-token-lifetime", "1 week"},
			`herald: tenant update: invalid value "1 week" for --refresh-token-lifetime: use a Go duration like 720h`},
		{[]string{"client", "create", "--tenant", "acme", "--first-party", "false", "--redirect-uri", "https://a.test/cb"},
			`herald: client create: --first-party takes no separate value: write --first-party=false`},
		{[]string{"client", "update", "--tenant", "acme", "--id", "x", "--first-party=maybe"},
			`herald: client update: invalid value "maybe" for --first-party: use --first-party=true or --first-party=false`},
		{[]string{"tenant", "update", "--name", "acme", "--password-min-length", "ten"},
			`herald: tenant update: invalid value "ten" for --password-min-length: use a whole number`},
		{[]string{"tenant", "update", "--name", "acme", "--access-token-lifetime"},
			`herald: tenant update: --access-token-lifetime needs a value: use a Go duration like 720h`},
		{[]string{"tenant", "create", "--bogus"},
			`herald: tenant create: unknown flag --bogus; run 'herald tenant create --help'`},
		{[]string{"tenant", "create", "--name", "acme", "extra"},
			`herald: tenant create: unexpected argument "extra"`},
		{[]string{"user", "create", "--tenant", "acme", "--username", "a", "--attribute", "nokey"},
			`herald: user create: invalid value "nokey" for --attribute: want KEY=VALUE`},
		{[]string{"tenant", "create"}, `herald: tenant create: missing required flag --name`},
		{[]string{"--bogus"}, `herald: unknown flag "--bogus"`},
	} {
		r := herald(t, "", tc.args...)
		if r.code != 2 || !strings.HasPrefix(r.stderr, tc.want) {
			t.Errorf("herald %v: exit %d, stderr %q\nwant exit 2 and %q", tc.args, r.code, r.stderr, tc.want)
		}
		if strings.Contains(r.stderr, "Usage:") || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("herald %v: want one line without the usage, got %q", tc.args, r.stderr)
		}
		if strings.Contains(r.stderr, "herald: herald") {
			t.Errorf("herald %v: doubled prefix: %q", tc.args, r.stderr)
		}
	}
}

// No error of a command names the program twice, whatever its kind.
func TestNoDoubledPrefix(t *testing.T) {
	testEnv(t)
	mustJSON(t, "", "tenant", "create", "--name", "acme")
	for _, args := range [][]string{
		{"tenant", "create", "--name", "acme"},                          // conflict
		{"client", "get", "--tenant", "acme", "--id", "nope"},           // not found
		{"user", "get", "--tenant", "acme"},                             // usage: --id or --username
		{"client", "create", "--tenant", "acme", "--redirect-uri", "x"}, // validation
		{"tenant", "update", "--name", "acme", "--custom-claim", "a=b", "--clear-custom-claims"},
	} {
		r := herald(t, "", args...)
		if r.code == 0 || !strings.Contains(r.stderr, "herald: ") || strings.Contains(r.stderr, "herald: herald") {
			t.Errorf("herald %v: exit %d, stderr %q", args, r.code, r.stderr)
		}
	}
}

// tenant update --help says the name picks the tenant and cannot change.
func TestTenantUpdateHelpDoesNotOfferRenaming(t *testing.T) {
	testEnv(t)
	r := herald(t, "", "tenant", "update", "--help")
	if r.code != 0 || !strings.Contains(r.stderr, "cannot be\nchanged") || !strings.Contains(r.stderr, "which stays as it is") {
		t.Fatalf("exit %d, help:\n%s", r.code, r.stderr)
	}
	for _, misleading := range []string{"rename", "new name"} {
		if strings.Contains(strings.ToLower(r.stderr), misleading) {
			t.Errorf("tenant update --help says %q", misleading)
		}
	}
}

func TestVersion(t *testing.T) {
	r := herald(t, "", "version", "--json")
	if r.code != 0 {
		t.Fatalf("version --json: exit %d, %s", r.code, r.stderr)
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatalf("version --json printed %q: %v", r.stdout, err)
	}
	for _, k := range []string{"version", "commit", "go_version", "platform"} {
		if s, _ := v[k].(string); s == "" {
			t.Errorf("version --json: %q missing in %v", k, v)
		}
	}
	if v["go_version"] != runtime.Version() {
		t.Errorf("go_version %v, want %s", v["go_version"], runtime.Version())
	}
	for _, args := range [][]string{{"version"}, {"--version"}} {
		r := herald(t, "", args...)
		if r.code != 0 || !strings.HasPrefix(r.stdout, "herald ") || !strings.Contains(r.stdout, runtime.Version()) {
			t.Errorf("herald %v: exit %d, stdout %q", args, r.code, r.stdout)
		}
	}
}

// Link-time values win over the build information.
func TestBuildVersionFromLinkFlags(t *testing.T) {
	oldV, oldC := version, commit
	t.Cleanup(func() { version, commit = oldV, oldC })
	version, commit = "v1.2.3", "abc123"
	v := buildVersion()
	if v.Version != "v1.2.3" || v.Commit != "abc123" {
		t.Fatalf("buildVersion() = %+v", v)
	}
	version, commit = "", ""
	if v := buildVersion(); v.Version == "" || v.Commit == "" {
		t.Fatalf("without link flags: %+v", v)
	}
}

// The repository carries the full Apache License 2.0 text.
func TestLicenseIsApache2(t *testing.T) {
	b, err := os.ReadFile("../../LICENSE")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for _, want := range []string{"Apache License", "Version 2.0, January 2004", "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION",
		"9. Accepting Warranty or Additional Liability.", "END OF TERMS AND CONDITIONS"} {
		if !strings.Contains(text, want) {
			t.Errorf("LICENSE lacks %q", want)
		}
	}
}

// An environment variable with a wrong value says what would do, too.
func TestEnvErrorsNameTheForms(t *testing.T) {
	testEnv(t)
	t.Setenv("HERALD_ACCESS_TOKEN_LIFETIME", "30d")
	r := herald(t, "", "tenant", "list")
	if r.code == 0 || !strings.Contains(r.stderr, "HERALD_ACCESS_TOKEN_LIFETIME") ||
		!strings.Contains(r.stderr, "use a Go duration like 720h") || strings.Contains(r.stderr, "herald: herald") {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// syncBuffer is a bytes.Buffer safe for the serve goroutine and the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testEnv points Herald at a fresh SQLite file and the cheapest argon2id
// parameters op/password accepts; it returns the data directory.
func testEnv(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	t.Setenv("HERALD_DATABASE_URL", "sqlite:"+filepath.Join(dir, "herald.db"))
	t.Setenv("HERALD_PUBLIC_URL", "https://id.example.com")
	t.Setenv("HERALD_ARGON2_MEMORY_KIB", "19456")
	t.Setenv("HERALD_ARGON2_ITERATIONS", "1")
	t.Setenv("HERALD_ARGON2_PARALLELISM", "1")
	t.Setenv("HERALD_LOG_LEVEL", "warn")
	return dir
}

type result struct {
	code           int
	stdout, stderr string
}

// herald runs the command line in-process with stdin.
func herald(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errOut syncBuffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return result{code, out.String(), errOut.String()}
}

// mustJSON runs a command that must succeed and decodes its JSON output.
func mustJSON(t *testing.T, stdin string, args ...string) map[string]any {
	t.Helper()
	r := herald(t, stdin, args...)
	if r.code != 0 {
		t.Fatalf("herald %v: exit %d\nstderr: %s", args, r.code, r.stderr)
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatalf("herald %v: stdout is not one JSON object: %q", args, r.stdout)
	}
	return v
}

func TestTenantCreateAndList(t *testing.T) {
	dir := testEnv(t)
	got := mustJSON(t, "", "tenant", "create", "--name", "acme", "--display-name", "Acme Inc.", "--signing-alg", "ES256")
	requireKeys(t, "tenant create", got, map[string]any{"name": "acme", "issuer": "https://id.example.com/t/acme"})
	mustJSON(t, "", "tenant", "create", "--name", "beta")

	list := mustJSON(t, "", "tenant", "list")
	tenants, _ := list["tenants"].([]any)
	if len(tenants) != 2 {
		t.Fatalf("tenant list: %v", list)
	}
	byName := map[string]map[string]any{}
	for _, x := range tenants {
		m := x.(map[string]any)
		byName[m["name"].(string)] = m
	}
	acme := byName["acme"]
	requireKeys(t, "acme in list", acme, map[string]any{"issuer": "https://id.example.com/t/acme",
		"display_name": "Acme Inc.", "signing_alg": "ES256", "disabled": false})
	if byName["beta"]["signing_alg"] != "RS256" {
		t.Fatalf("beta in list: %v", byName["beta"])
	}

	// The generated KEK sits next to the database, private, and is reused.
	kek := filepath.Join(dir, "herald.kek")
	fi, err := os.Stat(kek)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("herald.kek mode %v, want 0600", fi.Mode().Perm())
	}
	before, _ := os.ReadFile(kek)
	mustJSON(t, "", "tenant", "list")
	if after, _ := os.ReadFile(kek); !bytes.Equal(before, after) {
		t.Fatal("herald.kek changed between runs")
	}

	r := herald(t, "", "tenant", "create", "--name", "acme")
	if r.code != 1 || !strings.Contains(r.stderr, `tenant "acme" already exists`) {
		t.Fatalf("duplicate tenant: exit %d, stderr %q", r.code, r.stderr)
	}
	r = herald(t, "", "tenant", "create", "--name", "Not_Valid")
	if r.code != 1 || !strings.Contains(r.stderr, "--name") {
		t.Fatalf("bad name: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestTenantListEmpty(t *testing.T) {
	testEnv(t)
	r := herald(t, "", "tenant", "list")
	if r.code != 0 || strings.TrimSpace(r.stdout) != `{"tenants":[]}` {
		t.Fatalf("empty list: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

func TestKEKFromEnvironmentWritesNoFile(t *testing.T) {
	dir := testEnv(t)
	t.Setenv("HERALD_KEY_ENCRYPTION_KEY", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
	mustJSON(t, "", "tenant", "create", "--name", "acme")
	if _, err := os.Stat(filepath.Join(dir, "herald.kek")); !os.IsNotExist(err) {
		t.Fatalf("a configured KEK must not create herald.kek (stat: %v)", err)
	}
}

func TestClientCreate(t *testing.T) {
	testEnv(t)
	mustJSON(t, "", "tenant", "create", "--name", "acme")

	conf := mustJSON(t, "", "client", "create", "--tenant", "acme", "--id", "web",
		"--redirect-uri", "https://app.example.com/cb", "--redirect-uri", "http://localhost:9999/cb",
		"--grant", "authorization_code", "--grant", "client_credentials", "--first-party")
	secret, _ := conf["client_secret"].(string)
	requireKeys(t, "confidential client", conf, map[string]any{"client_id": "web", "tenant": "acme"})
	requireAll(t, "confidential client", field("client_secret has 43 characters or more", len(secret) >= 43, true))

	spa := mustJSON(t, "", "client", "create", "--tenant", "acme", "--public",
		"--redirect-uri", "http://localhost:5173/callback", "--cors-origin", "http://localhost:5173")
	if _, has := spa["client_secret"]; has {
		t.Fatalf("public client got a secret: %v", spa)
	}
	if id, _ := spa["client_id"].(string); len(id) != 32 {
		t.Fatalf("generated client ID %q", id)
	}

	rotated := mustJSON(t, "", "client", "rotate-secret", "--tenant", "acme", "--id", "web")
	if s, _ := rotated["client_secret"].(string); len(s) < 43 || s == secret {
		t.Fatalf("rotate-secret: %v", rotated)
	}

	for _, tc := range []struct {
		name     string
		args     []string
		wantCode int
		wantText string
	}{
		{"http redirect", []string{"--tenant", "acme", "--redirect-uri", "http://app.example.com/cb"}, 1, "--redirect-uri"},
		{"fragment", []string{"--tenant", "acme", "--redirect-uri", "https://app.example.com/cb#x"}, 1, "--redirect-uri"},
		{"no redirect", []string{"--tenant", "acme"}, 1, "--redirect-uri"},
		{"bad origin", []string{"--tenant", "acme", "--public", "--redirect-uri", "https://a.example.com/cb", "--cors-origin", "https://a.example.com/"}, 1, "--cors-origin"},
		{"public client_credentials", []string{"--tenant", "acme", "--public", "--redirect-uri", "https://a.example.com/cb", "--grant", "client_credentials"}, 1, "--grant"},
		{"bad auth method", []string{"--tenant", "acme", "--redirect-uri", "https://a.example.com/cb", "--auth-method", "tls"}, 1, "--auth-method"},
		{"bad scope", []string{"--tenant", "acme", "--redirect-uri", "https://a.example.com/cb", "--scope", "bad\\scope"}, 1, "--scope"},
		{"duplicate ID", []string{"--tenant", "acme", "--id", "web", "--redirect-uri", "https://a.example.com/cb"}, 1, `client "web" in tenant "acme" already exists`},
		{"unknown tenant", []string{"--tenant", "nope", "--redirect-uri", "https://a.example.com/cb"}, 1, `tenant "nope" not found`},
		{"missing tenant", []string{"--redirect-uri", "https://a.example.com/cb"}, 2, "--tenant"},
		{"positional argument", []string{"--tenant", "acme", "extra"}, 2, `"extra"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := herald(t, "", append([]string{"client", "create"}, tc.args...)...)
			if r.code != tc.wantCode || !strings.Contains(r.stderr, tc.wantText) || r.stdout != "" {
				t.Fatalf("exit %d (want %d), stderr %q (want %q), stdout %q", r.code, tc.wantCode, r.stderr, tc.wantText, r.stdout)
			}
		})
	}
}

func TestUserCreate(t *testing.T) {
	testEnv(t)
	mustJSON(t, "", "tenant", "create", "--name", "acme")

	u := mustJSON(t, "correct horse battery\n", "user", "create", "--tenant", "acme", "--username", " Alice ",
		"--email", "alice@example.com", "--name", "Alice A", "--password-stdin")
	requireKeys(t, "user create", u, map[string]any{"username": "alice", "tenant": "acme"})
	requireAll(t, "user create", field("len(id)", len(u["id"].(string)), 36))
	// No trailing newline, CRLF: both accepted.
	mustJSON(t, "another long password", "user", "create", "--tenant", "acme", "--username", "bob", "--password-stdin")
	mustJSON(t, "yet another password\r\n", "user", "create", "--tenant", "acme", "--username", "carol", "--password-stdin")
	set := mustJSON(t, "a brand new password\n", "user", "set-password", "--tenant", "acme", "--username", "ALICE", "--password-stdin")
	if set["id"] != u["id"] {
		t.Fatalf("set-password: %v", set)
	}

	for _, tc := range []struct {
		name     string
		stdin    string
		args     []string
		wantCode int
		wantText string
	}{
		{"empty stdin", "", []string{"--username", "dave", "--password-stdin"}, 1, "standard input is empty"},
		{"empty line", "\n", []string{"--username", "dave", "--password-stdin"}, 1, "standard input is empty"},
		{"short password", "short\n", []string{"--username", "dave", "--password-stdin"}, 1, "--password-stdin"},
		{"bad bcrypt hash", "$2a$04$abc\n", []string{"--username", "dave", "--password-hash-stdin"}, 1, "--password-hash-stdin"},
		{"bad email", "correct horse battery\n", []string{"--username", "dave", "--email", "nope", "--password-stdin"}, 1, "--email"},
		{"duplicate", "correct horse battery\n", []string{"--username", "ALICE", "--password-stdin"}, 1, "already exists"},
		{"no password flag", "correct horse battery\n", []string{"--username", "dave"}, 2, "--password-stdin"},
		{"both password flags", "x\n", []string{"--username", "dave", "--password-stdin", "--password-hash-stdin"}, 2, "--password-hash-stdin"},
		{"missing username", "correct horse battery\n", []string{"--password-stdin"}, 2, "--username"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := herald(t, tc.stdin, append([]string{"user", "create", "--tenant", "acme"}, tc.args...)...)
			if r.code != tc.wantCode || !strings.Contains(r.stderr, tc.wantText) {
				t.Fatalf("exit %d (want %d), stderr %q (want %q)", r.code, tc.wantCode, r.stderr, tc.wantText)
			}
			if strings.Contains(r.stderr, "correct horse battery") {
				t.Fatal("the password leaked into stderr")
			}
		})
	}
}

func TestHelpExitsZero(t *testing.T) {
	testEnv(t)
	for _, args := range [][]string{
		{"--help"}, {"-h"}, {"help"},
		{"serve", "--help"}, {"serve", "-h"},
		{"tenant", "--help"}, {"tenant", "create", "--help"}, {"tenant", "list", "-h"},
		{"client", "--help"}, {"client", "create", "--help"}, {"client", "rotate-secret", "--help"},
		{"user", "-h"}, {"user", "create", "--help"}, {"user", "set-password", "--help"},
	} {
		r := herald(t, "", args...)
		if r.code != 0 || !strings.Contains(r.stderr, "Usage: herald") || r.stdout != "" {
			t.Errorf("herald %v: exit %d, stdout %q, stderr %q", args, r.code, r.stdout, r.stderr)
		}
	}
}

func TestUsageErrorsExitTwo(t *testing.T) {
	testEnv(t)
	for _, tc := range []struct {
		args     []string
		wantText string
	}{
		{nil, "missing command"},
		{[]string{"frobnicate"}, `"frobnicate"`},
		{[]string{"--verbose"}, `"--verbose"`},
		{[]string{"tenant"}, "missing command"},
		{[]string{"tenant", "rename"}, `"tenant rename"`},
		{[]string{"tenant", "create", "--bogus"}, "-bogus"},
		{[]string{"serve", "--port", "80"}, "-port"},
		{[]string{"client", "create", "--tenant", "acme", "--redirect"}, "-redirect"},
		{[]string{"user", "create", "--admin"}, "-admin"},
		{[]string{"tenant", "create"}, "--name"},
	} {
		r := herald(t, "", tc.args...)
		if r.code != 2 || !strings.Contains(r.stderr, tc.wantText) {
			t.Errorf("herald %v: exit %d, stderr %q, want exit 2 naming %s", tc.args, r.code, r.stderr, tc.wantText)
		}
	}
}

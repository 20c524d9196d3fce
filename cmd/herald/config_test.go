package main

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestConfigErrorsNameTheSetting(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		args []string
		want []string
	}{
		{env: map[string]string{"HERALD_ACCESS_TOKEN_LIFETIME": "banana"}, want: []string{"HERALD_ACCESS_TOKEN_LIFETIME"}},
		{env: map[string]string{"HERALD_REFRESH_TOKEN_LIFETIME": "-1h"}, want: []string{"HERALD_REFRESH_TOKEN_LIFETIME"}},
		{env: map[string]string{"HERALD_AUTH_CODE_LIFETIME": "5m"}, want: []string{"HERALD_AUTH_CODE_LIFETIME", "60s"}},
		{env: map[string]string{"HERALD_SESSION_IDLE_TIMEOUT": "200h", "HERALD_SESSION_ABSOLUTE_LIFETIME": "100h"}, want: []string{"HERALD_SESSION_IDLE_TIMEOUT"}},
		{env: map[string]string{"HERALD_ARGON2_MEMORY_KIB": "1024"}, want: []string{"HERALD_ARGON2_MEMORY_KIB"}},
		{env: map[string]string{"HERALD_ARGON2_ITERATIONS": "0"}, want: []string{"HERALD_ARGON2_ITERATIONS"}},
		{env: map[string]string{"HERALD_ARGON2_PARALLELISM": "300"}, want: []string{"HERALD_ARGON2_PARALLELISM"}},
		{env: map[string]string{"HERALD_HASH_CONCURRENCY": "0"}, want: []string{"HERALD_HASH_CONCURRENCY"}},
		{env: map[string]string{"HERALD_HASH_MAX_WAIT": "soon"}, want: []string{"HERALD_HASH_MAX_WAIT"}},
		{env: map[string]string{"HERALD_LOG_LEVEL": "loud"}, want: []string{"HERALD_LOG_LEVEL", "--log-level"}},
		{env: map[string]string{"HERALD_ADDR": "nonsense"}, want: []string{"HERALD_ADDR", "--addr"}},
		{env: map[string]string{"HERALD_PUBLIC_URL": "ftp://id.example.com"}, want: []string{"HERALD_PUBLIC_URL", "--public-url"}},
		{env: map[string]string{"HERALD_PUBLIC_URL": "https://id.example.com/"}, want: []string{"HERALD_PUBLIC_URL", "trailing slash"}},
		{env: map[string]string{"HERALD_DATABASE_URL": "postgres:db"}, want: []string{"HERALD_DATABASE_URL", "postgres://"}},
		{env: map[string]string{"HERALD_DATABASE_MAX_CONNS": "0"}, want: []string{"HERALD_DATABASE_MAX_CONNS"}},
		{env: map[string]string{"HERALD_DATABASE_TIMEOUT": "0s"}, want: []string{"HERALD_DATABASE_TIMEOUT"}},
		{env: map[string]string{"HERALD_REDIS_URL": "memcached://u:hunter2@cache"}, want: []string{"HERALD_REDIS_URL", "--redis-url", "redis-sentinel://"}},
		{env: map[string]string{"HERALD_REDIS_PREFIX": "a{b}"}, want: []string{"HERALD_REDIS_PREFIX"}},
		{env: map[string]string{"HERALD_MIGRATE": "perhaps"}, want: []string{"HERALD_MIGRATE"}},
		{env: map[string]string{"HERALD_DATABASE_URL": "mysql:x"}, want: []string{"HERALD_DATABASE_URL", `"mysql"`}},
		{env: map[string]string{"HERALD_DATABASE_URL": "sqlite:"}, want: []string{"HERALD_DATABASE_URL"}},
		{env: map[string]string{"HERALD_KEY_ENCRYPTION_KEY": "c2hvcnQ="}, want: []string{"HERALD_KEY_ENCRYPTION_KEY", "32 bytes"}},
		{env: map[string]string{"HERALD_KEY_ENCRYPTION_KEY": "not base64!"}, want: []string{"HERALD_KEY_ENCRYPTION_KEY"}},
		{env: map[string]string{"HERALD_KEY_ENCRYPTION_KEY": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "HERALD_KEY_ENCRYPTION_KEY_FILE": "/k"}, want: []string{"set only one"}},
		{args: []string{"--database-url", "nope"}, want: []string{"--database-url"}},
		{args: []string{"--public-url", "id.example.com"}, want: []string{"--public-url"}},
		// Several problems are reported together.
		{env: map[string]string{"HERALD_ID_TOKEN_LIFETIME": "0s", "HERALD_LOG_LEVEL": "x"}, want: []string{"HERALD_ID_TOKEN_LIFETIME", "HERALD_LOG_LEVEL"}},
	} {
		t.Run(strings.Join(append(envPairs(tc.env), tc.args...), " "), func(t *testing.T) {
			testEnv(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			r := herald(t, "", append([]string{"tenant", "list"}, tc.args...)...)
			if r.code != 1 {
				t.Fatalf("exit %d, want 1; stderr %q", r.code, r.stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr %q does not name %q", r.stderr, w)
				}
			}
		})
	}
}

func envPairs(m map[string]string) []string {
	var out []string
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	return out
}

func TestKEKValueNeverPrinted(t *testing.T) {
	testEnv(t)
	const secretish = "dGhpcyBpcyBub3QgMzIgYnl0ZXMgb2Yga2V5"
	t.Setenv("HERALD_KEY_ENCRYPTION_KEY", secretish)
	r := herald(t, "", "tenant", "list")
	if r.code != 1 || strings.Contains(r.stderr, secretish) {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestConfigDefaultsAndPublicURL(t *testing.T) {
	for _, tc := range []struct{ addr, want string }{
		{"127.0.0.1:8080", "http://127.0.0.1:8080"},
		{":9000", "http://localhost:9000"},
		{"0.0.0.0:9000", "http://localhost:9000"},
		{"[::1]:9000", "http://[::1]:9000"},
	} {
		c := defaultConfig()
		c.Addr = tc.addr
		if err := c.Validate(); err != nil {
			t.Fatalf("%s: %v", tc.addr, err)
		}
		if c.PublicURL != tc.want {
			t.Errorf("addr %s: public URL %q, want %q", tc.addr, c.PublicURL, tc.want)
		}
	}
	c := defaultConfig()
	c.Addr = "127.0.0.1:0"
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "HERALD_PUBLIC_URL") {
		t.Fatalf("port 0 without a public URL: %v", err)
	}
	c = defaultConfig()
	requireAll(t, "defaults",
		field("DatabaseURL", c.DatabaseURL, "sqlite:./data/herald.db"),
		field("AccessTokenLifetime", c.AccessTokenLifetime, 15*time.Minute),
		field("AuthCodeLifetime", c.AuthCodeLifetime, time.Minute))
}

func TestKEKFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.kek")
	if err := os.WriteFile(good, []byte("  AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.kek")
	if err := os.WriteFile(bad, []byte("short"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		file string
		ok   bool
	}{{good, true}, {bad, false}, {filepath.Join(dir, "missing"), false}} {
		c := defaultConfig()
		c.KeyEncryptionKeyFile = tc.file
		k, err := c.keyEncryptionKey()
		if (err == nil) != tc.ok || (tc.ok && len(k) != 32) {
			t.Errorf("%s: key %d bytes, err %v", tc.file, len(k), err)
		}
		if err != nil && !strings.Contains(err.Error(), "HERALD_KEY_ENCRYPTION_KEY_FILE") {
			t.Errorf("%s: error does not name the setting: %v", tc.file, err)
		}
	}

	// Generated once, then read back: concurrent first runs agree on one key.
	// The first run says where the file is and to back it up separately.
	var logged bytes.Buffer
	warn := warnKEKGenerated(slog.New(slog.NewJSONHandler(&logged, nil)))
	path := filepath.Join(dir, "sub", "herald.kek")
	first, err := loadOrCreateKEKFile(path, warn)
	if err != nil {
		t.Fatal(err)
	}
	generated := logged.String()
	logged.Reset()
	again, err := loadOrCreateKEKFile(path, warn)
	if err != nil || string(first) != string(again) || len(first) != 32 {
		t.Fatalf("reloaded KEK differs (%v)", err)
	}
	if !strings.Contains(generated, path) || !strings.Contains(generated, "back it up separately") {
		t.Errorf("generating the KEK did not log its path and the backup advice: %q", generated)
	}
	if strings.Contains(logged.String(), "generated") {
		t.Errorf("reading an existing KEK logged as if generated: %q", logged.String())
	}
	if b, _ := os.ReadFile(path); strings.Contains(generated, strings.TrimSpace(string(b))) {
		t.Error("the KEK itself reached the log")
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("KEK file mode %v (%v), want 0600", fi.Mode().Perm(), err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Fatalf("temporary files left behind: %v", entries)
	}
}

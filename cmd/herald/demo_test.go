package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServeDemoTwiceChangesNothing: `make run` while one is running. The
// second serve cannot bind the port and fails before it opens the store,
// so the credentials the first one printed keep working; a restart prints
// them again; a lost credentials file means new ones, once.
func TestServeDemoTwiceChangesNothing(t *testing.T) {
	dataDir := testEnv(t)
	addr := freeAddr(t)
	first := startServe(t, addr)
	demo, _ := first.demoOutput(t)

	secrets := filepath.Join(dataDir, demoSecretsFile)
	if fi, err := os.Stat(secrets); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("demo credentials file %s: %v (mode %v), want mode 0600", secrets, err, fi)
	}
	stat := func() time.Time {
		fi, err := os.Stat(filepath.Join(dataDir, "herald.db"))
		if err != nil {
			t.Fatal(err)
		}
		return fi.ModTime()
	}
	before := stat()

	start := time.Now()
	r := herald(t, "", "serve", "--addr", addr, "--public-url", "http://"+addr, "--demo")
	if r.code != 1 || !strings.Contains(r.stderr, "HERALD_ADDR (--addr)") || !strings.Contains(r.stderr, "address already in use") {
		t.Fatalf("second serve on a bound port: exit %d, stderr %q", r.code, r.stderr)
	}
	if strings.Contains(r.stdout, "demo") || strings.Contains(r.stderr, `"msg"`) {
		t.Errorf("second serve got as far as the demo set-up or logging: stdout %q, stderr %q", r.stdout, r.stderr)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("second serve took %s to fail", time.Since(start))
	}
	if after := stat(); !after.Equal(before) {
		t.Errorf("the failed second serve wrote to the database (mtime %v → %v)", before, after)
	}
	for name, secret := range map[string]string{"the first serve's secret": demo.ConfidentialClient.ClientSecret} {
		if code := clientCredentials(t, demo.Issuer, "demo-web", secret); code != http.StatusOK {
			t.Fatalf("%s after the failed second serve: %d, want 200", name, code)
		}
	}
	if code := first.stop(t); code != 0 {
		t.Fatalf("first serve exit %d\nstderr: %s", code, first.stderr.String())
	}

	// A lost file: new credentials once, then those again.
	if err := os.Remove(secrets); err != nil {
		t.Fatal(err)
	}
	third := startServe(t, addr)
	demo3, _ := third.demoOutput(t)
	if demo3.ConfidentialClient.ClientSecret == demo.ConfidentialClient.ClientSecret || demo3.User.Password == demo.User.Password {
		t.Error("without the credentials file the old secret and password were printed: they cannot be known")
	}
	if code := clientCredentials(t, demo3.Issuer, "demo-web", demo3.ConfidentialClient.ClientSecret); code != http.StatusOK {
		t.Fatalf("new demo secret: %d", code)
	}
	third.stop(t)
	fourth := startServe(t, addr)
	if demo4, _ := fourth.demoOutput(t); demo4 != demo3 {
		t.Fatalf("after a restart: %+v, want %+v", demo4, demo3)
	}
	fourth.stop(t)
}

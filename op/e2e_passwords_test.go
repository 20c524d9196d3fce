package op_test

import (
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/crypto/bcrypt"

	"github.com/herald-idp/herald/op/registry"
)

// TestE2EImportedBcryptUser: a user imported with a bcrypt hash (cost 10)
// signs in through the login form, and the stored hash is replaced by an
// argon2id one on that success (the seed's dual strategy). A wrong password
// does not rehash.
func TestE2EImportedBcryptUser(t *testing.T) {
	e := newTestServer(t)
	const pw = "imported from the old system 1"
	hash, err := bcrypt.GenerateFromPassword([]byte(pw), 10)
	if err != nil {
		t.Fatal(err)
	}
	u, err := e.reg.CreateUser(e.ctx(t), tenantAcme, registry.UserSpec{Username: "bob", PasswordHash: string(hash)})
	if err != nil {
		t.Fatal(err)
	}
	stored := func() string {
		got, err := e.store.Users().User(e.ctx(t), tenantAcme, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.PasswordHash
	}
	b := e.newBrowser(t)
	cfg := e.config(e.web, oidc.ScopeOpenID)
	v := newPKCE()
	url, _ := authURL(cfg, v.challenge())
	p := b.login(b.get(url), "bob", "wrong password for bob")
	if !p.isLoginPage() || !strings.HasPrefix(stored(), "$2") {
		t.Fatal("a failed login must neither sign in nor rehash")
	}
	q := b.login(p, "bob", pw).requireRedirectTo(t, cfg.RedirectURL)
	if q.Get("code") == "" {
		t.Fatalf("bcrypt user could not sign in: %v", q)
	}
	if h := stored(); !strings.HasPrefix(h, "$argon2id$") {
		t.Fatalf("hash after a successful login = %.12q…, want argon2id", h)
	}
	// And the new hash works.
	b2 := e.newBrowser(t)
	url, _ = authURL(cfg, v.challenge())
	b2.login(b2.get(url), "bob", pw).requireRedirectTo(t, cfg.RedirectURL)
}

package registry

import (
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/herald-idp/herald/storage"
)

const goodPassword = "correct horse battery staple"

func bcryptHash(t *testing.T, cost int) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(goodPassword), cost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

func TestNormalizeUsername(t *testing.T) {
	for in, want := range map[string]string{
		"alice":           "alice",
		"  Alice \t":      "alice",
		"ＡＬＩＣＥ":           "alice", // full-width compatibility forms
		"ﬁona":            "fiona", // ligature
		"Émile":           "émile",
		"bob@example.com": "bob@example.com",
	} {
		if got := NormalizeUsername(in); got != want {
			t.Errorf("NormalizeUsername(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCreateUserValidation(t *testing.T) {
	cost10 := bcryptHash(t, 10)
	cost4 := bcryptHash(t, bcrypt.MinCost)
	r := newTenant(t) // shared: valid cases use distinct usernames
	for _, tc := range []struct {
		name      string
		spec      UserSpec
		wantField string
	}{
		{"password", UserSpec{Username: "alice", Password: goodPassword}, ""},
		{"full profile", UserSpec{Username: "Bob", Email: "alice@example.com", EmailVerified: true, Name: "Alice A", GivenName: "Alice", FamilyName: "A", Password: goodPassword}, ""},
		{"128-char username", UserSpec{Username: strings.Repeat("é", 128), Password: goodPassword}, ""},
		{"bcrypt 2a cost 10", UserSpec{Username: "imp", PasswordHash: cost10}, ""},
		{"bcrypt 2y", UserSpec{Username: "imp2y", PasswordHash: "$2y$" + cost10[4:]}, ""},
		{"bcrypt 2b", UserSpec{Username: "imp2b", PasswordHash: "$2b$" + cost10[4:]}, ""},

		{"empty username", UserSpec{Username: "  ", Password: goodPassword}, "username"},
		{"129-char username", UserSpec{Username: strings.Repeat("a", 129), Password: goodPassword}, "username"},
		{"control char in username", UserSpec{Username: "al\x07ice", Password: goodPassword}, "username"},
		{"newline in username", UserSpec{Username: "al\nice", Password: goodPassword}, "username"},
		{"email without @", UserSpec{Username: "a", Email: "alice.example.com", Password: goodPassword}, "email"},
		{"email without local part", UserSpec{Username: "a", Email: "@example.com", Password: goodPassword}, "email"},
		{"email without domain", UserSpec{Username: "a", Email: "alice@", Password: goodPassword}, "email"},
		{"email with two @", UserSpec{Username: "a", Email: "a@b@example.com", Password: goodPassword}, "email"},
		{"email with display name", UserSpec{Username: "a", Email: "Alice <alice@example.com>", Password: goodPassword}, "email"},
		{"control char in name", UserSpec{Username: "a", Name: "A\x1b[31m", Password: goodPassword}, "name"},
		{"long given name", UserSpec{Username: "a", GivenName: strings.Repeat("x", 201), Password: goodPassword}, "given_name"},
		{"no password", UserSpec{Username: "a"}, "password"},
		{"both password and hash", UserSpec{Username: "a", Password: goodPassword, PasswordHash: cost10}, "password"},
		{"short password", UserSpec{Username: "a", Password: "short"}, "password"},
		{"11-char password", UserSpec{Username: "a", Password: "abcdefghijk"}, "password"},
		{"common password", UserSpec{Username: "a", Password: "password1234"}, "password"},
		{"too long password", UserSpec{Username: "a", Password: strings.Repeat("x", 2000)}, "password"},
		{"bcrypt cost 4", UserSpec{Username: "a", PasswordHash: cost4}, "password_hash"},
		{"argon2 hash import", UserSpec{Username: "a", PasswordHash: "$argon2id$v=19$m=65536,t=3,p=2$c2FsdA$aGFzaA"}, "password_hash"},
		{"bcrypt 2x", UserSpec{Username: "a", PasswordHash: "$2x$" + cost10[4:]}, "password_hash"},
		{"truncated bcrypt", UserSpec{Username: "a", PasswordHash: cost10[:59]}, "password_hash"},
		{"bcrypt bad chars", UserSpec{Username: "a", PasswordHash: cost10[:59] + "!"}, "password_hash"},
		{"plain text as hash", UserSpec{Username: "a", PasswordHash: goodPassword}, "password_hash"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := r.Store.Users().ListUsers(t.Context(), "acme")
			u, err := r.CreateUser(t.Context(), "acme", tc.spec)
			wantFieldError(t, err, tc.wantField)
			if tc.wantField != "" {
				if after, _ := r.Store.Users().ListUsers(t.Context(), "acme"); len(after) != len(before) {
					t.Fatal("invalid spec stored a user")
				}
				return
			}
			stored, err := r.Store.Users().User(t.Context(), "acme", u.ID)
			if err != nil {
				t.Fatal(err)
			}
			if stored.Username != NormalizeUsername(tc.spec.Username) || len(stored.ID) != 36 || !stored.CreatedAt.Equal(testNow) {
				t.Fatalf("stored user %+v", stored)
			}
			match, _, err := r.Passwords.Verify(t.Context(), goodPassword, stored.PasswordHash)
			if err != nil || !match || strings.Contains(stored.PasswordHash, goodPassword) {
				t.Fatalf("stored hash %q does not verify the password: %v", stored.PasswordHash, err)
			}
			if tc.spec.Password != "" && !strings.HasPrefix(stored.PasswordHash, "$argon2id$") {
				t.Fatalf("new passwords must be hashed with argon2id, got %q", stored.PasswordHash)
			}
		})
	}
}

func TestCreateUserDuplicateAfterNormalisation(t *testing.T) {
	r := newTenant(t)
	ctx := t.Context()
	if _, err := r.CreateUser(ctx, "acme", UserSpec{Username: "alice", Password: goodPassword}); err != nil {
		t.Fatal(err)
	}
	_, err := r.CreateUser(ctx, "acme", UserSpec{Username: " ＡLICE ", Password: goodPassword})
	if !errors.Is(err, storage.ErrAlreadyExists) {
		t.Fatalf("want ErrAlreadyExists, got %v", err)
	}
}

func TestSetPassword(t *testing.T) {
	r := newTenant(t)
	ctx := t.Context()
	u, err := r.CreateUser(ctx, "acme", UserSpec{Username: "alice", Password: goodPassword})
	if err != nil {
		t.Fatal(err)
	}
	sess := &storage.Session{
		TenantID: "acme", ID: "s1", UserID: u.ID, AuthTime: testNow, CreatedAt: testNow,
		IdleExpiresAt: testNow.Add(time.Hour), AbsoluteExpiresAt: testNow.Add(2 * time.Hour),
	}
	if err := r.Store.Sessions().CreateSession(ctx, sess); err != nil {
		t.Fatal(err)
	}

	wantFieldError(t, r.SetPassword(ctx, "acme", u.ID, "short"), "password")
	if err := r.SetPassword(ctx, "acme", "no-such-user", "another long passphrase"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("unknown user: want ErrNotFound, got %v", err)
	}

	if err := r.SetPassword(ctx, "acme", u.ID, "another long passphrase"); err != nil {
		t.Fatal(err)
	}
	stored, err := r.Store.Users().User(ctx, "acme", u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _, _ := r.Passwords.Verify(ctx, "another long passphrase", stored.PasswordHash); !ok {
		t.Fatal("new password does not verify")
	}
	if ok, _, _ := r.Passwords.Verify(ctx, goodPassword, stored.PasswordHash); ok {
		t.Fatal("old password still verifies")
	}
	if _, err := r.Store.Sessions().Session(ctx, "acme", "s1", testNow); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("session must end with a password change, got %v", err)
	}
}

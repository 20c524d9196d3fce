package keys

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/herald-idp/herald/storage"
)

// A sealed user secret opens only for its purpose, tenant and user, only
// with the KEK (or a previous one), and never holds the plain bytes.
func TestUserSecretSealing(t *testing.T) {
	kek := testKEK(t)
	m := newTestManager(t, newFakeKeys(), kek)
	plain := []byte("0123456789abcdefghij")
	sealed, err := m.SealUserSecret("totp", "acme", "u1", plain)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, plain) || sealed[0] != formatSealed {
		t.Fatal("sealed secret holds the plain secret")
	}
	got, err := m.OpenUserSecret("totp", "acme", "u1", sealed)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("OpenUserSecret = %q, %v", got, err)
	}
	for _, other := range [][3]string{{"totp", "acme", "u2"}, {"totp", "other", "u1"}, {"webauthn", "acme", "u1"}} {
		if _, err := m.OpenUserSecret(other[0], other[1], other[2], sealed); !errors.Is(err, ErrWrongKEK) {
			t.Errorf("opened as %v: %v", other, err)
		}
	}
	if _, err := newTestManager(t, newFakeKeys(), testKEK(t)).OpenUserSecret("totp", "acme", "u1", sealed); err == nil {
		t.Error("opened with another KEK")
	}
	// After a KEK change the previous KEK still opens it.
	rotated := newTestManager(t, newFakeKeys(), testKEK(t), WithPreviousKEK(kek))
	if got, err := rotated.OpenUserSecret("totp", "acme", "u1", sealed); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("with the previous KEK: %q, %v", got, err)
	}
	// Stored unsealed (no KEK) is refused once a KEK is configured.
	plainStored, err := newTestManager(t, newFakeKeys(), nil).SealUserSecret("totp", "acme", "u1", plain)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.OpenUserSecret("totp", "acme", "u1", plainStored); !errors.Is(err, ErrPlaintextStored) {
		t.Fatalf("plain secret with a KEK: %v", err)
	}
	// What Open returns is the caller's to clear: the stored value stays.
	stored := bytes.Clone(plainStored)
	got, _ = newTestManager(t, newFakeKeys(), nil).OpenUserSecret("totp", "acme", "u1", plainStored)
	clear(got)
	if !bytes.Equal(plainStored, stored) {
		t.Fatal("clearing the opened secret changed the stored one")
	}
	if _, err := m.SealUserSecret("totp", "", "u1", plain); err == nil {
		t.Error("sealed without a tenant")
	}
}

// TestRewrapUserSecrets: after a KEK change, Rewrap re-seals the users'
// TOTP secrets (also plain ones), so that the previous KEK can go; a second
// run has nothing to do.
func TestRewrapUserSecrets(t *testing.T) {
	ctx := t.Context()
	store := newSQLite(t, "acme")
	oldKEK, newKEK := testKEK(t), testKEK(t)
	now := time.Now()
	plain := []byte("0123456789abcdefghij")
	for i, kek := range [][]byte{oldKEK, nil} {
		id := fmt.Sprintf("u%d", i)
		if err := store.Users().CreateUser(ctx, &storage.User{TenantID: "acme", ID: id, Username: id, CreatedAt: now, UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
		sealed, err := newTestManager(t, store.Keys(), kek).SealUserSecret(TOTPSecretPurpose, "acme", id, plain)
		if err != nil {
			t.Fatal(err)
		}
		if err := store.SecondFactors().BeginSecondFactor(ctx, &storage.SecondFactor{TenantID: "acme", UserID: id,
			Secret: sealed, CreatedAt: now, UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	if l, _ := store.SecondFactors().ListSecondFactors(ctx, "acme"); len(l) != 2 {
		t.Fatalf("listed %d", len(l))
	}
	mid := newTestManager(t, store.Keys(), newKEK, WithSecrets(store.Secrets()), WithSecondFactors(store.SecondFactors()), WithPreviousKEK(oldKEK))
	res, err := mid.Rewrap(ctx, []string{"acme"})
	if err != nil || res.UserSecrets != 2 {
		t.Fatalf("Rewrap = %+v, %v; want 2 user secrets resealed", res, err)
	}
	if res, err := mid.Rewrap(ctx, []string{"acme"}); err != nil || res.UserSecrets != 0 {
		t.Fatalf("second Rewrap = %+v, %v", res, err)
	}
	onlyNew := newTestManager(t, store.Keys(), newKEK)
	for _, id := range []string{"u0", "u1"} {
		f, err := store.SecondFactors().SecondFactor(ctx, "acme", id)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := onlyNew.OpenUserSecret(TOTPSecretPurpose, "acme", id, f.Secret); err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("%s after rewrap: %q, %v", id, got, err)
		}
	}
}

package keys

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/herald-idp/herald/storage"
)

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

package keys

import (
	"bytes"
	"errors"
	"testing"
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

// What OpenUserSecret returns is the caller's to clear: clearing it leaves
// the stored form intact, with a KEK and without one (the plain format
// once returned a slice of the stored record, and clearing that zeroed a
// TOTP secret held by the caller's record).
func TestOpenedUserSecretIsACopy(t *testing.T) {
	plain := []byte("0123456789abcdefghij")
	for name, m := range map[string]*Manager{
		"kek":    newTestManager(t, newFakeKeys(), testKEK(t)),
		"no kek": newTestManager(t, newFakeKeys(), nil),
	} {
		stored, err := m.SealUserSecret("totp", "acme", "u1", plain)
		if err != nil {
			t.Fatal(err)
		}
		opened, err := m.OpenUserSecret("totp", "acme", "u1", stored)
		if err != nil {
			t.Fatal(err)
		}
		clear(opened)
		again, err := m.OpenUserSecret("totp", "acme", "u1", stored)
		if err != nil || !bytes.Equal(again, plain) {
			t.Errorf("%s: after clearing what was opened, the stored secret opens as %q, %v", name, again, err)
		}
	}
}

package keys

import (
	"bytes"
	"testing"
)

// A connector secret is sealed (not stored in the clear) and opens only for
// its own tenant and connector.
func TestConnectorSecretSealed(t *testing.T) {
	kek := bytes.Repeat([]byte{7}, KEKSize)
	m := newTestManager(t, newFakeKeys(), kek)
	secret := []byte("upstream-client-secret")
	stored, err := m.SealConnectorSecret("acme", "corp", secret)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(stored, secret) || stored[0] != formatSealed {
		t.Fatalf("secret stored in the clear: %x", stored)
	}
	got, err := m.OpenConnectorSecret("acme", "corp", stored)
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("Open = %q, %v", got, err)
	}
	for _, tc := range [][2]string{{"other", "corp"}, {"acme", "other"}} {
		if _, err := m.OpenConnectorSecret(tc[0], tc[1], stored); err == nil {
			t.Fatalf("secret of acme/corp opened as %s/%s", tc[0], tc[1])
		}
	}
	plain := newTestManager(t, newFakeKeys(), nil)
	if _, err := plain.OpenConnectorSecret("acme", "corp", stored); err == nil {
		t.Fatal("sealed secret opened without the KEK")
	}
}

// A KEK change re-seals connector secrets: sealed under the old KEK, they
// open with the new manager (old KEK as previous) and come out sealed
// under the new one only.
func TestRewrapConnectorSecret(t *testing.T) {
	oldKEK, newKEK := bytes.Repeat([]byte{1}, KEKSize), bytes.Repeat([]byte{2}, KEKSize)
	old := newTestManager(t, newFakeKeys(), oldKEK)
	stored, err := old.SealConnectorSecret("acme", "gh", []byte("s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	next := newTestManager(t, newFakeKeys(), newKEK, WithPreviousKEK(oldKEK))
	resealed, changed, err := next.RewrapConnectorSecret("acme", "gh", stored)
	if err != nil || !changed {
		t.Fatalf("rewrap: changed %v, %v", changed, err)
	}
	if _, changed, _ := next.RewrapConnectorSecret("acme", "gh", resealed); changed {
		t.Fatal("a second rewrap changed it again")
	}
	only := newTestManager(t, newFakeKeys(), newKEK)
	if got, err := only.OpenConnectorSecret("acme", "gh", resealed); err != nil || string(got) != "s3cret" {
		t.Fatalf("open under the new KEK only: %q, %v", got, err)
	}
	if _, err := old.OpenConnectorSecret("acme", "gh", resealed); err == nil {
		t.Fatal("the old KEK still opens the resealed secret")
	}
}

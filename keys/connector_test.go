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

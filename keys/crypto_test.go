package keys

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/herald-idp/herald/storage"
)

// signAndVerify signs a payload with k the way the OP does (go-jose, kid in
// the header) and verifies it with verifyWith.
func signAndVerify(t *testing.T, k *Key, verifyWith any) error {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{
		Algorithm: jose.SignatureAlgorithm(k.Algorithm),
		Key:       jose.JSONWebKey{Key: k.Private, KeyID: k.ID, Algorithm: k.Algorithm},
	}, nil)
	if err != nil {
		t.Fatalf("jose.NewSigner(%s): %v", k.Algorithm, err)
	}
	payload := []byte(`{"sub":"alice"}`)
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	compact, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := jose.ParseSignedCompact(compact, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(k.Algorithm)})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if kid := parsed.Signatures[0].Header.KeyID; kid != k.ID {
		t.Errorf("kid in header = %q, want %q", kid, k.ID)
	}
	got, err := parsed.Verify(verifyWith)
	if err != nil {
		return err
	}
	if !bytes.Equal(got, payload) {
		t.Errorf("verified payload = %q, want %q", got, payload)
	}
	return nil
}

func TestGenerateSignVerify(t *testing.T) {
	for _, withKEK := range []bool{false, true} {
		for _, alg := range []string{RS256, ES256, EdDSA} {
			name := alg + "/plain"
			if withKEK {
				name = alg + "/sealed"
			}
			t.Run(name, func(t *testing.T) {
				var kek []byte
				if withKEK {
					kek = testKEK(t)
				}
				store := newFakeKeys()
				m := newTestManager(t, store, kek)
				k, err := m.SigningKey(t.Context(), "acme", alg)
				if err != nil {
					t.Fatal(err)
				}
				switch alg {
				case RS256:
					priv, ok := k.Private.(*rsa.PrivateKey)
					if !ok || priv.N.BitLen() != 2048 {
						t.Fatalf("RS256 private key is %T, want 2048-bit *rsa.PrivateKey", k.Private)
					}
				case ES256:
					priv, ok := k.Private.(*ecdsa.PrivateKey)
					if !ok || priv.Curve.Params().Name != "P-256" {
						t.Fatalf("ES256 private key is %T, want P-256 *ecdsa.PrivateKey", k.Private)
					}
				case EdDSA:
					if _, ok := k.Private.(ed25519.PrivateKey); !ok {
						t.Fatalf("EdDSA private key is %T, want ed25519.PrivateKey", k.Private)
					}
				}
				if len(k.ID) < 16 || strings.ContainsAny(k.ID, "+/=") {
					t.Errorf("kid %q is not ≥96-bit base64url", k.ID)
				}
				if !k.Active || k.Algorithm != alg || k.CreatedAt.IsZero() {
					t.Errorf("key = %+v, want active %s with a creation time", k, alg)
				}

				// The stored record is in the expected format and never the
				// bare DER.
				recs := store.records("acme")
				if len(recs) != 2 {
					t.Fatalf("stored %d records, want 2 (active and next)", len(recs))
				}
				wantFormat := formatPlain
				if withKEK {
					wantFormat = formatSealed
				}
				for _, rec := range recs {
					if rec.PrivateKey[0] != wantFormat {
						t.Errorf("stored format byte = %d, want %d", rec.PrivateKey[0], wantFormat)
					}
				}

				// A fresh manager (another replica, after a restart) reads the
				// key from the store; its public key verifies our signature.
				m2 := newTestManager(t, store, kek)
				pub, err := m2.PublicKeys(t.Context(), "acme")
				if err != nil {
					t.Fatal(err)
				}
				if len(pub) != 2 || pub[1].ID != k.ID || pub[0].Status != storage.KeyNext {
					t.Fatalf("reloaded keys = %v, want [next, %s]", pub, k.ID)
				}
				if err := signAndVerify(t, k, pub[1].Public); err != nil {
					t.Fatalf("verify with reloaded public key: %v", err)
				}
				reloaded, err := m2.SigningKey(t.Context(), "acme", alg)
				if err != nil {
					t.Fatal(err)
				}
				if err := signAndVerify(t, reloaded, k.Public); err != nil {
					t.Fatalf("verify signature of reloaded private key: %v", err)
				}

				// Another key of the same alg must not verify it.
				other, err := newTestManager(t, newFakeKeys(), nil).SigningKey(t.Context(), "acme", alg)
				if err != nil {
					t.Fatal(err)
				}
				if err := signAndVerify(t, k, other.Public); err == nil {
					t.Error("signature verified with an unrelated key")
				}

				// The JWK of the published key has no private members.
				jwk, err := json.Marshal(jose.JSONWebKey{Key: pub[0].Public, KeyID: pub[0].ID, Algorithm: alg, Use: "sig"})
				if err != nil {
					t.Fatal(err)
				}
				var members map[string]any
				if err := json.Unmarshal(jwk, &members); err != nil {
					t.Fatal(err)
				}
				for _, private := range []string{"d", "p", "q", "dp", "dq", "qi"} {
					if _, ok := members[private]; ok {
						t.Errorf("public JWK contains private member %q", private)
					}
				}
			})
		}
	}
}

// TestOpenStoredKey covers the at-rest format: each case creates a key with
// one manager, alters the stored record, and loads it with another.
func TestOpenStoredKey(t *testing.T) {
	kek := testKEK(t)
	otherKEK := testKEK(t)
	flip := func(i int) func(*storage.SigningKey) {
		return func(k *storage.SigningKey) {
			if i < 0 {
				i += len(k.PrivateKey)
			}
			k.PrivateKey[i] ^= 0x01
		}
	}
	tests := []struct {
		name       string
		createKEK  []byte
		openKEK    []byte
		alter      func(*storage.SigningKey)
		copyTo     string // load the record from this tenant instead
		wantErr    error  // nil: must open
		wantAnyErr bool
	}{
		{name: "sealed round trip", createKEK: kek, openKEK: kek},
		{name: "plain round trip", createKEK: nil, openKEK: nil},
		{name: "wrong KEK", createKEK: kek, openKEK: otherKEK, wantErr: ErrOpenFailed},
		{name: "copied to another tenant", createKEK: kek, openKEK: kek, copyTo: "evil", wantErr: ErrOpenFailed},
		{name: "kid changed", createKEK: kek, openKEK: kek, alter: func(k *storage.SigningKey) { k.ID = "another-kid" }, wantErr: ErrOpenFailed},
		{name: "tampered ciphertext", createKEK: kek, openKEK: kek, alter: flip(-20), wantErr: ErrOpenFailed},
		{name: "tampered tag", createKEK: kek, openKEK: kek, alter: flip(-1), wantErr: ErrOpenFailed},
		{name: "tampered nonce", createKEK: kek, openKEK: kek, alter: flip(1), wantErr: ErrOpenFailed},
		{name: "truncated", createKEK: kek, openKEK: kek, alter: func(k *storage.SigningKey) { k.PrivateKey = k.PrivateKey[:10] }, wantErr: ErrOpenFailed},
		{name: "sealed but no KEK", createKEK: kek, openKEK: nil, wantErr: ErrSealedKeyNoKEK},
		{name: "plain but KEK configured", createKEK: nil, openKEK: kek, wantErr: ErrPlainKeyWithKEK},
		{name: "unknown format version", createKEK: nil, openKEK: nil, alter: func(k *storage.SigningKey) { k.PrivateKey[0] = 0x7f }, wantAnyErr: true},
		{name: "empty", createKEK: nil, openKEK: nil, alter: func(k *storage.SigningKey) { k.PrivateKey = nil }, wantAnyErr: true},
		{name: "corrupt plain DER", createKEK: nil, openKEK: nil, alter: flip(5), wantAnyErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			store := newFakeKeys()
			created, err := newTestManager(t, store, tc.createKEK).SigningKey(t.Context(), "acme", ES256)
			if err != nil {
				t.Fatal(err)
			}
			if tc.alter != nil {
				store.edit("acme", tc.alter)
			}
			tenant := "acme"
			if tc.copyTo != "" {
				for _, rec := range store.records("acme") {
					rec.TenantID = tc.copyTo
					if err := store.CreateKey(t.Context(), rec); err != nil {
						t.Fatal(err)
					}
				}
				tenant = tc.copyTo
			}
			keys, err := newTestManager(t, store, tc.openKEK).PublicKeys(t.Context(), tenant)
			switch {
			case tc.wantErr != nil:
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("open error = %v, want %v", err, tc.wantErr)
				}
			case tc.wantAnyErr:
				if err == nil {
					t.Fatal("opened an invalid record")
				}
			default:
				if err != nil {
					t.Fatalf("open: %v", err)
				}
				found := false
				for _, k := range keys {
					found = found || (k.ID == created.ID && k.Public.(*ecdsa.PublicKey).Equal(created.Public))
				}
				if len(keys) != 2 || !found {
					t.Fatal("opened keys differ from the created ones")
				}
			}
		})
	}
}

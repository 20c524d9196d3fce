package keys

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"testing"

	"github.com/herald-idp/herald/storage"
)

func kekManager(t *testing.T, store storage.Store, kek []byte, previous ...[]byte) *Manager {
	t.Helper()
	opts := []Option{WithSecrets(store.Secrets())}
	for _, p := range previous {
		opts = append(opts, WithPreviousKEK(p))
	}
	return newTestManager(t, store.Keys(), kek, opts...)
}

func TestCheckKEK(t *testing.T) {
	ctx := t.Context()
	store := newSQLite(t, "acme", "beta")
	tenants := []string{"acme", "beta"}
	kekA, kekB := testKEK(t), testKEK(t)

	// An installation from before the check value existed: keys sealed
	// under A. A replica with the wrong KEK is refused before it can store
	// a check value sealed under its KEK.
	mA := kekManager(t, store, kekA)
	if err := mA.EnsureKeys(ctx, "acme", ES256); err != nil {
		t.Fatal(err)
	}
	if err := kekManager(t, store, kekB).CheckKEK(ctx, tenants); !errors.Is(err, ErrWrongKEK) {
		t.Fatalf("CheckKEK with the wrong KEK = %v, want ErrWrongKEK", err)
	}
	if err := kekManager(t, store, nil).CheckKEK(ctx, tenants); !errors.Is(err, ErrSealedKeyNoKEK) {
		t.Fatalf("CheckKEK without a KEK = %v, want ErrSealedKeyNoKEK", err)
	}
	if err := mA.CheckKEK(ctx, tenants); err != nil {
		t.Fatalf("CheckKEK with the right KEK: %v", err)
	}
	// From now on the check value refuses a wrong KEK even with no keys to
	// probe (a tenant list that misses them).
	for name, m := range map[string]*Manager{"wrong": kekManager(t, store, kekB), "none": kekManager(t, store, nil)} {
		if err := m.CheckKEK(ctx, nil); err == nil {
			t.Fatalf("%s KEK passed the check value", name)
		}
	}
	// The old KEK as "previous" (mid-change) is accepted.
	if err := kekManager(t, store, kekB, kekA).CheckKEK(ctx, tenants); err != nil {
		t.Fatalf("CheckKEK with the old KEK as previous: %v", err)
	}
}

func TestRewrap(t *testing.T) {
	ctx := t.Context()
	store := newSQLite(t, "acme", "beta")
	tenants := []string{"acme", "beta"}
	oldKEK, newKEK := testKEK(t), testKEK(t)
	old := kekManager(t, store, oldKEK)
	for _, tenant := range tenants {
		if err := old.EnsureKeys(ctx, tenant, EdDSA); err != nil {
			t.Fatal(err)
		}
	}
	if err := old.CheckKEK(ctx, tenants); err != nil {
		t.Fatal(err)
	}
	signing, err := old.SigningKey(ctx, "acme", EdDSA)
	if err != nil {
		t.Fatal(err)
	}

	// Mid-change: a replica with the new KEK and the old one as previous
	// reads everything; a replica still on the old KEK too.
	mid := kekManager(t, store, newKEK, oldKEK)
	res, err := mid.Rewrap(ctx, tenants)
	if err != nil {
		t.Fatal(err)
	}
	if res.Resealed != 8 || res.Unchanged != 0 || !res.Check {
		t.Fatalf("Rewrap = %+v, want 8 keys and the check value resealed", res)
	}
	if res, err := mid.Rewrap(ctx, tenants); err != nil || res.Resealed != 0 || res.Unchanged != 8 || res.Check {
		t.Fatalf("second Rewrap = %+v, %v; want nothing to do", res, err)
	}
	// Only the new KEK is needed now; the old one alone is refused.
	onlyNew := kekManager(t, store, newKEK)
	if err := onlyNew.CheckKEK(ctx, tenants); err != nil {
		t.Fatalf("CheckKEK with the new KEK after rewrap: %v", err)
	}
	k, err := onlyNew.SigningKey(ctx, "acme", EdDSA)
	if err != nil || k.ID != signing.ID || !k.Public.(ed25519.PublicKey).Equal(signing.Public) {
		t.Fatalf("after rewrap the signing key is %v, %v; want the same key %s", k, err, signing.ID)
	}
	if err := kekManager(t, store, oldKEK).CheckKEK(ctx, tenants); !errors.Is(err, ErrWrongKEK) {
		t.Fatalf("CheckKEK with only the old KEK after rewrap = %v, want ErrWrongKEK", err)
	}
	if _, err := kekManager(t, store, nil).Rewrap(ctx, tenants); err == nil {
		t.Fatal("Rewrap without a KEK succeeded")
	}
}

// TestPlaintextToSealed: an installation that ran without a KEK (explicitly
// allowed plaintext) gets one: start-up refuses until a rewrap seals the
// keys, then accepts.
func TestPlaintextToSealed(t *testing.T) {
	ctx := t.Context()
	store := newSQLite(t, "acme")
	tenants := []string{"acme"}
	plain := kekManager(t, store, nil)
	if err := plain.EnsureKeys(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	if err := plain.CheckKEK(ctx, tenants); err != nil {
		t.Fatalf("plaintext installation: %v", err)
	}
	kek := testKEK(t)
	sealed := kekManager(t, store, kek)
	if err := sealed.CheckKEK(ctx, tenants); !errors.Is(err, ErrPlaintextStored) {
		t.Fatalf("CheckKEK on plaintext keys = %v, want ErrPlaintextStored", err)
	}
	if err := sealed.CheckKEK(ctx, nil); !errors.Is(err, ErrPlaintextStored) {
		t.Fatalf("CheckKEK on a plaintext check value = %v, want ErrPlaintextStored", err)
	}
	res, err := sealed.Rewrap(ctx, tenants)
	if err != nil || res.Resealed != 2 || !res.Check {
		t.Fatalf("Rewrap of plaintext keys = %+v, %v", res, err)
	}
	if err := sealed.CheckKEK(ctx, tenants); err != nil {
		t.Fatalf("CheckKEK after sealing: %v", err)
	}
	for _, rec := range mustList(t, store, "acme") {
		if rec.PrivateKey[0] != formatSealed {
			t.Fatalf("key %s still stored in format %d", rec.ID, rec.PrivateKey[0])
		}
	}
	if err := kekManager(t, store, nil).CheckKEK(ctx, tenants); !errors.Is(err, ErrSealedKeyNoKEK) {
		t.Fatalf("CheckKEK without the KEK after sealing = %v, want ErrSealedKeyNoKEK", err)
	}
}

func mustList(t *testing.T, store storage.Store, tenant string) []*storage.SigningKey {
	t.Helper()
	recs, err := store.Keys().ListKeys(t.Context(), tenant)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func TestSealedSecret(t *testing.T) {
	ctx := t.Context()
	store := newSQLite(t)
	ss := store.Secrets()
	oldKEK, newKEK := testKEK(t), testKEK(t)
	m := kekManager(t, store, oldKEK)

	v, err := m.SealedSecret(ctx, ss, "csrf-key", 32)
	if err != nil || len(v) != 32 {
		t.Fatalf("SealedSecret = %x, %v", v, err)
	}
	again, err := kekManager(t, store, oldKEK).SealedSecret(ctx, ss, "csrf-key", 32)
	if err != nil || !bytes.Equal(again, v) {
		t.Fatalf("another replica got %x, %v; want the same secret", again, err)
	}
	raw, err := ss.Secret(ctx, "sealed/csrf-key", func() ([]byte, error) { return nil, errors.New("absent") })
	if err != nil || raw[0] != formatSealed || bytes.Contains(raw, v) {
		t.Fatalf("stored form %x, %v: want it sealed, not containing the secret", raw, err)
	}
	if _, err := ss.Secret(ctx, "csrf-key", func() ([]byte, error) { return nil, errors.New("absent") }); err == nil {
		t.Fatal("SealedSecret left an unsealed copy")
	}
	if _, err := kekManager(t, store, newKEK).SealedSecret(ctx, ss, "csrf-key", 32); !errors.Is(err, ErrWrongKEK) {
		t.Fatalf("SealedSecret with the wrong KEK = %v, want ErrWrongKEK", err)
	}

	// An installation that kept the secret unsealed keeps its value.
	legacy := bytes.Repeat([]byte{7}, 32)
	if _, err := ss.Secret(ctx, "opaque-token-key", func() ([]byte, error) { return legacy, nil }); err != nil {
		t.Fatal(err)
	}
	got, err := m.SealedSecret(ctx, ss, "opaque-token-key", 32)
	if err != nil || !bytes.Equal(got, legacy) {
		t.Fatalf("SealedSecret over a legacy value = %x, %v; want the legacy value", got, err)
	}

	// Rewrap moves the sealed secrets to the new KEK.
	res, err := kekManager(t, store, newKEK, oldKEK).Rewrap(ctx, nil, "csrf-key", "opaque-token-key", "never-created")
	if err != nil || res.Secrets != 2 {
		t.Fatalf("Rewrap = %+v, %v; want 2 secrets resealed", res, err)
	}
	got, err = kekManager(t, store, newKEK).SealedSecret(ctx, ss, "csrf-key", 32)
	if err != nil || !bytes.Equal(got, v) {
		t.Fatalf("after rewrap the new KEK reads %x, %v; want the same secret", got, err)
	}
	if _, err := m.SealedSecret(ctx, ss, "csrf-key", 32); !errors.Is(err, ErrWrongKEK) {
		t.Fatalf("after rewrap the old KEK alone = %v, want ErrWrongKEK", err)
	}
}

package keys

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/herald-idp/herald/storage"
)

// fakeKeys is a minimal in-memory storage.Keys for unit tests of this
// package's logic; the real backends are covered by storage/storagetest.
type fakeKeys struct {
	mu      sync.Mutex
	keys    map[string][]*storage.SigningKey // tenant -> records, insertion order
	creates int
	lists   int
	listErr error
}

func newFakeKeys() *fakeKeys { return &fakeKeys{keys: make(map[string][]*storage.SigningKey)} }

func copyRecord(k *storage.SigningKey) *storage.SigningKey {
	c := *k
	c.PrivateKey = slices.Clone(k.PrivateKey)
	return &c
}

func (f *fakeKeys) CreateKey(_ context.Context, k *storage.SigningKey) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, old := range f.keys[k.TenantID] {
		if old.ID == k.ID {
			return storage.ErrAlreadyExists
		}
	}
	f.keys[k.TenantID] = append(f.keys[k.TenantID], copyRecord(k))
	f.creates++
	return nil
}

func (f *fakeKeys) ListKeys(_ context.Context, tenant string) ([]*storage.SigningKey, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lists++
	if f.listErr != nil {
		return nil, f.listErr
	}
	var out []*storage.SigningKey
	for _, k := range f.keys[tenant] {
		out = append(out, copyRecord(k))
	}
	slices.SortStableFunc(out, func(a, b *storage.SigningKey) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return out, nil
}

func (f *fakeKeys) UpdateKey(_ context.Context, tenant, id string, update func(*storage.SigningKey) error) (*storage.SigningKey, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, k := range f.keys[tenant] {
		if k.ID == id {
			c := copyRecord(k)
			if err := update(c); err != nil {
				return nil, err
			}
			f.keys[tenant][i] = c
			return copyRecord(c), nil
		}
	}
	return nil, storage.ErrNotFound
}

// UpdateKeySet applies the change under the fake's mutex (the real
// backends' locking is covered by storage/storagetest).
func (f *fakeKeys) UpdateKeySet(_ context.Context, tenant, alg string, update func([]*storage.SigningKey) (*storage.KeySetChange, error)) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	var set []*storage.SigningKey
	for _, k := range f.keys[tenant] {
		if k.Algorithm == alg {
			set = append(set, copyRecord(k))
		}
	}
	slices.SortStableFunc(set, func(a, b *storage.SigningKey) int { return b.CreatedAt.Compare(a.CreatedAt) })
	change, err := update(set)
	if err != nil || change == nil {
		return err
	}
	if err := change.Check(tenant, alg, set); err != nil {
		return err
	}
	for _, k := range change.Create {
		for _, old := range f.keys[tenant] {
			if old.ID == k.ID {
				return storage.ErrAlreadyExists
			}
		}
	}
	for _, k := range change.Create {
		f.keys[tenant] = append(f.keys[tenant], copyRecord(k))
		f.creates++
	}
	for _, k := range change.Update {
		for i, old := range f.keys[tenant] {
			if old.ID == k.ID {
				f.keys[tenant][i] = copyRecord(k)
			}
		}
	}
	f.keys[tenant] = slices.DeleteFunc(f.keys[tenant], func(k *storage.SigningKey) bool {
		return slices.Contains(change.Delete, k.ID)
	})
	return nil
}

// edit changes stored records of a tenant in place (simulates tampering or
// another replica's work).
func (f *fakeKeys) edit(tenant string, fn func(*storage.SigningKey)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, k := range f.keys[tenant] {
		fn(k)
	}
}

func (f *fakeKeys) counts() (creates, lists int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.creates, f.lists
}

func (f *fakeKeys) records(tenant string) []*storage.SigningKey {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*storage.SigningKey
	for _, k := range f.keys[tenant] {
		out = append(out, copyRecord(k))
	}
	return out
}

// fakeClock is a settable clock for cache-expiry tests.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func testKEK(t *testing.T) []byte {
	t.Helper()
	kek := make([]byte, KEKSize)
	if _, err := rand.Read(kek); err != nil {
		t.Fatal(err)
	}
	return kek
}

func newTestManager(t *testing.T, store storage.Keys, kek []byte, opts ...Option) *Manager {
	t.Helper()
	m, err := NewManager(store, kek, opts...)
	if err != nil {
		t.Fatalf("NewManager: %v", err)
	}
	return m
}

func TestValidAlgorithm(t *testing.T) {
	for alg, want := range map[string]bool{
		"RS256": true, "ES256": true, "EdDSA": true,
		"rs256": false, "none": false, "HS256": false, "PS256": false, "ES384": false, "": false,
	} {
		if got := ValidAlgorithm(alg); got != want {
			t.Errorf("ValidAlgorithm(%q) = %v, want %v", alg, got, want)
		}
	}
}

func TestNewManagerKEK(t *testing.T) {
	store := newFakeKeys()
	tests := []struct {
		name    string
		kek     []byte
		wantErr bool
	}{
		{"nil means no encryption", nil, false},
		{"32 bytes", make([]byte, 32), false},
		{"empty but not nil", []byte{}, true},
		{"16 bytes", make([]byte, 16), true},
		{"31 bytes", make([]byte, 31), true},
		{"33 bytes", make([]byte, 33), true},
		{"64 bytes", make([]byte, 64), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewManager(store, tc.kek)
			if (err != nil) != tc.wantErr {
				t.Fatalf("NewManager(kek of %d bytes) error = %v, want error %v", len(tc.kek), err, tc.wantErr)
			}
		})
	}
	if _, err := NewManager(nil, nil); err == nil {
		t.Error("NewManager(nil store) succeeded, want error")
	}
}

func TestInvalidAlgorithm(t *testing.T) {
	store := newFakeKeys()
	m := newTestManager(t, store, nil)
	for _, alg := range []string{"", "none", "HS256", "rs256", "RS512"} {
		if _, err := m.SigningKey(t.Context(), "acme", alg); !errors.Is(err, ErrUnsupportedAlgorithm) {
			t.Errorf("SigningKey(%q) error = %v, want ErrUnsupportedAlgorithm", alg, err)
		}
	}
	if err := m.EnsureKeys(t.Context(), "acme", "ES256", "HS256"); !errors.Is(err, ErrUnsupportedAlgorithm) {
		t.Errorf("EnsureKeys with HS256 error = %v, want ErrUnsupportedAlgorithm", err)
	}
	if creates, _ := store.counts(); creates != 0 {
		t.Errorf("invalid algorithms created %d keys, want 0", creates)
	}
	if _, err := m.SigningKey(t.Context(), "", RS256); err == nil {
		t.Error("SigningKey with empty tenant succeeded")
	}
}

func TestEnsureKeys(t *testing.T) {
	store := newFakeKeys()
	m := newTestManager(t, store, testKEK(t))
	ctx := t.Context()
	if err := m.EnsureKeys(ctx, "acme", EdDSA); err != nil {
		t.Fatal(err)
	}
	if err := m.EnsureKeys(ctx, "acme", EdDSA, RS256); err != nil {
		t.Fatal(err)
	}
	keys, err := m.PublicKeys(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	var algs []string
	for _, k := range keys {
		algs = append(algs, k.Algorithm+"/"+k.Status)
	}
	slices.Sort(algs)
	if want := []string{"EdDSA/active", "EdDSA/next", "RS256/active", "RS256/next"}; !slices.Equal(algs, want) {
		t.Errorf("keys after EnsureKeys(EdDSA) twice = %v, want %v (RS256 always, no duplicates)", algs, want)
	}
	if err := m.EnsureKeys(ctx, "other"); err != nil {
		t.Fatal(err)
	}
	if recs := store.records("other"); len(recs) != 2 || recs[0].Algorithm != RS256 || recs[1].Algorithm != RS256 {
		t.Errorf("EnsureKeys with no algs stored %d keys, want an active and a next RS256 key", len(recs))
	}
}

func TestPublicKeysHidePrivateParts(t *testing.T) {
	store := newFakeKeys()
	m := newTestManager(t, store, nil)
	ctx := t.Context()
	first, err := m.SigningKey(ctx, "acme", ES256)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := m.PublicKeys(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if k.Private != nil {
			t.Errorf("PublicKeys returned private key material for %s", k.ID)
		}
		if k.Public == nil {
			t.Errorf("PublicKeys returned no public key for %s", k.ID)
		}
	}
	for _, want := range keys {
		k, err := m.PublicKey(ctx, "acme", want.ID)
		if err != nil || k == nil || k.Private != nil || k.Public == nil || k.Algorithm != want.Algorithm || k.Status != want.Status {
			t.Errorf("PublicKey(%s) = %+v, %v; want the JWKS's key without private parts", want.ID, k, err)
		}
	}
	if k, err := m.PublicKey(ctx, "acme", "no-such-kid"); err != nil || k != nil {
		t.Errorf("PublicKey of an unknown kid = %v, %v; want none", k, err)
	}
	// Mutating a returned key must not change what the cache serves.
	keys[0].Active, keys[1].Active = false, false
	pk, _ := m.PublicKey(ctx, "acme", first.ID)
	pk.Active = false
	again, err := m.SigningKey(ctx, "acme", ES256)
	if err != nil || again.ID != first.ID {
		t.Fatalf("SigningKey after caller mutation = %v, %v; want %s", again, err, first.ID)
	}
}

func TestConcurrentFirstUseCreatesOneKey(t *testing.T) {
	store := newFakeKeys()
	m := newTestManager(t, store, testKEK(t))
	const callers = 32
	ids := make([]string, callers)
	errs := make([]error, callers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range callers {
		wg.Go(func() {
			<-start
			k, err := m.SigningKey(context.Background(), "acme", RS256)
			errs[i] = err
			if err == nil {
				ids[i] = k.ID
			}
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("caller %d: %v", i, err)
		}
		if ids[i] != ids[0] {
			t.Fatalf("caller %d got key %s, caller 0 got %s", i, ids[i], ids[0])
		}
	}
	if creates, _ := store.counts(); creates != 2 {
		t.Fatalf("%d concurrent first calls created %d keys, want 2 (one active, one next)", callers, creates)
	}
}

func TestCacheTTL(t *testing.T) {
	store := newFakeKeys()
	clock := &fakeClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	kek := testKEK(t)
	replicaA := newTestManager(t, store, kek, WithClock(clock.Now))
	replicaB := newTestManager(t, store, kek, WithClock(clock.Now))
	ctx := t.Context()

	if _, err := replicaA.SigningKey(ctx, "acme", RS256); err != nil {
		t.Fatal(err)
	}
	_, listsBefore := store.counts()
	for range 10 {
		if _, err := replicaA.SigningKey(ctx, "acme", RS256); err != nil {
			t.Fatal(err)
		}
		if _, err := replicaA.PublicKeys(ctx, "acme"); err != nil {
			t.Fatal(err)
		}
	}
	if _, lists := store.counts(); lists != listsBefore {
		t.Fatalf("cached calls read the store %d times, want 0", lists-listsBefore)
	}

	// Replica B adds an ES256 key; A sees it only once its entry expires.
	if _, err := replicaB.SigningKey(ctx, "acme", ES256); err != nil {
		t.Fatal(err)
	}
	countKeys := func() int {
		t.Helper()
		keys, err := replicaA.PublicKeys(ctx, "acme")
		if err != nil {
			t.Fatal(err)
		}
		return len(keys)
	}
	clock.Advance(DefaultCacheTTL - time.Second)
	if n := countKeys(); n != 2 {
		t.Fatalf("before TTL replica A sees %d keys, want the cached 2", n)
	}
	clock.Advance(time.Second)
	if n := countKeys(); n != 4 {
		t.Fatalf("after TTL replica A sees %d keys, want 4", n)
	}

	// Invalidate makes a change visible at once.
	if _, err := replicaB.SigningKey(ctx, "acme", EdDSA); err != nil {
		t.Fatal(err)
	}
	if n := countKeys(); n != 4 {
		t.Fatalf("replica A sees %d keys before Invalidate, want 4", n)
	}
	replicaA.Invalidate("acme")
	if n := countKeys(); n != 6 {
		t.Fatalf("replica A sees %d keys after Invalidate, want 6", n)
	}
}

func TestCustomCacheTTL(t *testing.T) {
	store := newFakeKeys()
	clock := &fakeClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	m := newTestManager(t, store, nil, WithClock(clock.Now), WithCacheTTL(5*time.Second))
	if _, err := m.PublicKeys(t.Context(), "acme"); err != nil {
		t.Fatal(err)
	}
	clock.Advance(5 * time.Second)
	if _, err := m.PublicKeys(t.Context(), "acme"); err != nil {
		t.Fatal(err)
	}
	if _, lists := store.counts(); lists != 2 {
		t.Fatalf("store read %d times across a 5s TTL, want 2", lists)
	}
}

func TestStoreErrorsPropagate(t *testing.T) {
	store := newFakeKeys()
	boom := errors.New("disk on fire")
	store.listErr = boom
	m := newTestManager(t, store, nil)
	if _, err := m.SigningKey(t.Context(), "acme", RS256); !errors.Is(err, boom) {
		t.Errorf("SigningKey error = %v, want wrapping the store error", err)
	}
	if _, err := m.PublicKeys(t.Context(), "acme"); !errors.Is(err, boom) {
		t.Errorf("PublicKeys error = %v, want wrapping the store error", err)
	}
}

func TestLockRespectsContext(t *testing.T) {
	m := newTestManager(t, newFakeKeys(), nil)
	unlock, err := m.lockTenant(t.Context(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := m.SigningKey(ctx, "acme", RS256); !errors.Is(err, context.Canceled) {
		t.Fatalf("SigningKey while the tenant is locked, ctx cancelled: %v, want context.Canceled", err)
	}
}

func TestRejectsUnfitStoredKeys(t *testing.T) {
	weakRSA, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		alg  string
		key  any
	}{
		{"RSA below 2048 bits", RS256, weakRSA},
		{"ES256 on P-384", ES256, p384},
		{"EC key labelled RS256", RS256, p256},
		{"Ed25519 key labelled ES256", ES256, ed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			der, err := x509.MarshalPKCS8PrivateKey(tc.key)
			if err != nil {
				t.Fatal(err)
			}
			store := newFakeKeys()
			_ = store.CreateKey(t.Context(), &storage.SigningKey{
				TenantID: "acme", ID: "planted", Algorithm: tc.alg, Status: storage.KeyActive,
				PrivateKey: append([]byte{formatPlain}, der...),
			})
			m := newTestManager(t, store, nil)
			if _, err := m.SigningKey(t.Context(), "acme", tc.alg); err == nil {
				t.Fatal("SigningKey used an unfit stored key")
			}
		})
	}
}

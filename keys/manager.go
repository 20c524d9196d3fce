package keys

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/herald-idp/herald/storage"
)

// DefaultCacheTTL is how long parsed keys are kept in memory before the store
// is read again. It bounds how late a replica sees a key another replica
// created or retired.
const DefaultCacheTTL = time.Minute

// Option configures a Manager.
type Option func(*Manager)

// WithCacheTTL sets how long a tenant's parsed keys stay cached (d > 0).
func WithCacheTTL(d time.Duration) Option {
	return func(m *Manager) {
		if d > 0 {
			m.ttl = d
		}
	}
}

// WithClock replaces time.Now (tests).
func WithClock(now func() time.Time) Option {
	return func(m *Manager) {
		if now != nil {
			m.now = now
		}
	}
}

// Manager generates, persists and caches the signing keys of every tenant.
// It is safe for concurrent use.
type Manager struct {
	store  storage.Keys
	sealer sealer
	ttl    time.Duration
	now    func() time.Time

	mu        sync.Mutex
	cache     map[string]cacheEntry      // tenant -> parsed keys, newest first
	locks     [lockStripes]chan struct{} // 1-slot locks (ctx-aware), by tenant hash
	epoch     uint64                     // bumped by Invalidate; stale loads are not cached
	lastSweep time.Time
}

// NewManager returns a Manager over store. kek is the key-encryption key
// that seals private keys at rest with AES-256-GCM: nil (keys are stored
// unencrypted) or exactly 32 bytes. A KEK is strongly recommended in
// production: without one, anyone who can read the database or a backup of it
// can sign tokens for every tenant. The KEK must be the same on every replica
// and must not be stored in the database.
func NewManager(store storage.Keys, kek []byte, opts ...Option) (*Manager, error) {
	if store == nil {
		return nil, errors.New("keys: store is nil")
	}
	s, err := newSealer(kek)
	if err != nil {
		return nil, err
	}
	m := &Manager{
		store:  store,
		sealer: s,
		ttl:    DefaultCacheTTL,
		now:    time.Now,
		cache:  make(map[string]cacheEntry),
	}
	for i := range m.locks {
		m.locks[i] = make(chan struct{}, 1)
	}
	for _, opt := range opts {
		opt(m)
	}
	return m, nil
}

// SigningKey returns the tenant's newest active key for alg. If there is
// none it generates one, persists it and returns it. Within one process
// concurrent first calls create exactly one key; two replicas racing may each
// create one, which is harmless because PublicKeys publishes both.
func (m *Manager) SigningKey(ctx context.Context, tenant, alg string) (*Key, error) {
	if !ValidAlgorithm(alg) {
		return nil, ErrUnsupportedAlgorithm
	}
	if tenant == "" {
		return nil, errors.New("keys: tenant is empty")
	}
	keys, err := m.tenantKeys(ctx, tenant)
	if err != nil {
		return nil, err
	}
	if k := newestActive(keys, alg); k != nil {
		return k.clone(), nil
	}

	unlock, err := m.lockTenant(ctx, tenant)
	if err != nil {
		return nil, err
	}
	defer unlock()
	// Another goroutine may have created the key while we waited for the
	// lock; it put it in the cache before releasing.
	if keys, ok := m.cached(tenant); ok {
		if k := newestActive(keys, alg); k != nil {
			return k.clone(), nil
		}
	}
	// Read the store, not the cache: another replica may have created it.
	epoch := m.currentEpoch()
	keys, err = m.load(ctx, tenant)
	if err != nil {
		return nil, err
	}
	if k := newestActive(keys, alg); k != nil {
		m.put(tenant, keys, epoch)
		return k.clone(), nil
	}
	k, err := m.create(ctx, tenant, alg)
	if err != nil {
		return nil, err
	}
	m.put(tenant, append([]*Key{k}, keys...), epoch)
	return k.clone(), nil
}

// PublicKeys returns every key of the tenant, active and retired, newest
// first, for its JWKS. Private is nil in the returned keys so that a JWKS
// built from them cannot leak private parts (checklist F4).
func (m *Manager) PublicKeys(ctx context.Context, tenant string) ([]*Key, error) {
	keys, err := m.tenantKeys(ctx, tenant)
	if err != nil {
		return nil, err
	}
	out := make([]*Key, len(keys))
	for i, k := range keys {
		c := k.clone()
		c.Private = nil
		out[i] = c
	}
	return out, nil
}

// EnsureKeys makes sure the tenant has an active key for each alg; call it
// when a tenant is created. RS256 is always included: OpenID Connect
// Discovery 1.0 §3 requires RS256 among id_token_signing_alg_values_supported,
// so every tenant publishes an RS256 key whatever alg it signs with.
func (m *Manager) EnsureKeys(ctx context.Context, tenant string, algs ...string) error {
	want := []string{RS256}
	for _, alg := range algs {
		if !ValidAlgorithm(alg) {
			return fmt.Errorf("%w: %q", ErrUnsupportedAlgorithm, alg)
		}
		if !slices.Contains(want, alg) {
			want = append(want, alg)
		}
	}
	for _, alg := range want {
		if _, err := m.SigningKey(ctx, tenant, alg); err != nil {
			return err
		}
	}
	return nil
}

// Invalidate drops the tenant's cached keys, so the next call reads the
// store (after a rotation, or when the tenant is deleted).
func (m *Manager) Invalidate(tenant string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.cache, tenant)
	m.epoch++
}

// InvalidateAll drops every tenant's cached keys (after a change
// notification may have been missed).
func (m *Manager) InvalidateAll() {
	m.mu.Lock()
	defer m.mu.Unlock()
	clear(m.cache)
	m.epoch++
}

// Reseal encrypts with the configured KEK every key of the tenant that is
// stored unencrypted (created before a KEK was configured) and returns how
// many it changed. Unencrypted keys are refused while a KEK is configured,
// so that nobody with write access to the database alone can plant a
// signing key (ErrPlainKeyWithKEK).
func (m *Manager) Reseal(ctx context.Context, tenant string) (int, error) {
	if m.sealer.aead == nil {
		return 0, errors.New("keys: reseal needs a key-encryption key")
	}
	records, err := m.store.ListKeys(ctx, tenant)
	if err != nil {
		return 0, fmt.Errorf("keys: list keys of tenant %q: %w", tenant, err)
	}
	changed := 0
	for _, rec := range records {
		if len(rec.PrivateKey) == 0 || rec.PrivateKey[0] != formatPlain {
			continue
		}
		resealed := false
		_, err := m.store.UpdateKey(ctx, tenant, rec.ID, func(k *storage.SigningKey) error {
			// Re-check inside the update: a concurrent reseal may have won.
			resealed = false
			if len(k.PrivateKey) == 0 || k.PrivateKey[0] != formatPlain {
				return nil
			}
			der, err := m.sealer.open(tenant, k.ID, k.PrivateKey, true)
			if err != nil {
				return err
			}
			if _, err := parseSigner(k.Algorithm, der); err != nil {
				return fmt.Errorf("keys: key %q of tenant %q: %w", k.ID, tenant, err)
			}
			sealed, err := m.sealer.seal(tenant, k.ID, der)
			if err != nil {
				return err
			}
			k.PrivateKey = sealed
			resealed = true
			return nil
		})
		if err != nil {
			return changed, fmt.Errorf("keys: reseal key %q of tenant %q: %w", rec.ID, tenant, err)
		}
		if resealed {
			changed++
		}
	}
	m.Invalidate(tenant)
	return changed, nil
}

// tenantKeys returns the tenant's parsed keys from the cache, or loads them
// (once per tenant at a time) when the entry is missing or expired.
func (m *Manager) tenantKeys(ctx context.Context, tenant string) ([]*Key, error) {
	if keys, ok := m.cached(tenant); ok {
		return keys, nil
	}
	unlock, err := m.lockTenant(ctx, tenant)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if keys, ok := m.cached(tenant); ok {
		return keys, nil
	}
	epoch := m.currentEpoch()
	keys, err := m.load(ctx, tenant)
	if err != nil {
		return nil, err
	}
	m.put(tenant, keys, epoch)
	return keys, nil
}

// load reads and parses every key of the tenant. A key that cannot be opened
// fails the whole load: a wrong KEK or a tampered record must surface, not
// silently shrink the JWKS.
func (m *Manager) load(ctx context.Context, tenant string) ([]*Key, error) {
	records, err := m.store.ListKeys(ctx, tenant)
	if err != nil {
		return nil, fmt.Errorf("keys: list keys of tenant %q: %w", tenant, err)
	}
	keys := make([]*Key, 0, len(records))
	for _, rec := range records {
		k, err := m.parse(tenant, rec)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	// The store promises newest first; sort anyway, because "newest active"
	// decides which key signs.
	slices.SortStableFunc(keys, func(a, b *Key) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return keys, nil
}

func (m *Manager) parse(tenant string, rec *storage.SigningKey) (*Key, error) {
	der, err := m.sealer.open(tenant, rec.ID, rec.PrivateKey, false)
	if err != nil {
		return nil, fmt.Errorf("keys: key %q of tenant %q: %w", rec.ID, tenant, err)
	}
	signer, err := parseSigner(rec.Algorithm, der)
	if err != nil {
		return nil, fmt.Errorf("keys: key %q of tenant %q: %w", rec.ID, tenant, err)
	}
	return &Key{
		ID:        rec.ID,
		Algorithm: rec.Algorithm,
		Private:   signer,
		Public:    signer.Public(),
		CreatedAt: rec.CreatedAt,
		Active:    rec.Status == storage.KeyActive,
	}, nil
}

// create generates a key for alg, stores it sealed and returns it parsed.
func (m *Manager) create(ctx context.Context, tenant, alg string) (*Key, error) {
	signer, err := generateSigner(alg)
	if err != nil {
		return nil, fmt.Errorf("keys: generate %s key: %w", alg, err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(signer)
	if err != nil {
		return nil, fmt.Errorf("keys: encode %s key: %w", alg, err)
	}
	kid, err := newKeyID()
	if err != nil {
		return nil, err
	}
	stored, err := m.sealer.seal(tenant, kid, der)
	clear(der) // hygiene: the plaintext DER is no longer needed
	if err != nil {
		return nil, err
	}
	rec := &storage.SigningKey{
		TenantID:   tenant,
		ID:         kid,
		Algorithm:  alg,
		PrivateKey: stored,
		Status:     storage.KeyActive,
		CreatedAt:  m.now().UTC(),
	}
	if err := m.store.CreateKey(ctx, rec); err != nil {
		return nil, fmt.Errorf("keys: store %s key for tenant %q: %w", alg, tenant, err)
	}
	return &Key{
		ID:        kid,
		Algorithm: alg,
		Private:   signer,
		Public:    signer.Public(),
		CreatedAt: rec.CreatedAt,
		Active:    true,
	}, nil
}

// newestActive returns the first active key for alg in keys (newest first).
func newestActive(keys []*Key, alg string) *Key {
	for _, k := range keys {
		if k.Active && k.Algorithm == alg {
			return k
		}
	}
	return nil
}

// clone returns a shallow copy so callers cannot modify cached keys. The key
// material itself is shared and must be treated as read-only.
func (k *Key) clone() *Key {
	c := *k
	return &c
}

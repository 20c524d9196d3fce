package keys

import (
	"context"
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
	store   storage.Keys
	secrets storage.Secrets // for the KEK check value; nil: no check
	sealer  sealer
	policy  Policy
	ttl     time.Duration
	now     func() time.Time

	// secondFactors holds the users' sealed TOTP secrets that Rewrap
	// re-seals; nil: Rewrap leaves them alone.
	secondFactors storage.SecondFactors

	mu        sync.Mutex
	cache     map[string]cacheEntry      // tenant -> parsed keys, newest first
	locks     [lockStripes]chan struct{} // 1-slot locks (ctx-aware), by tenant hash
	epoch     uint64                     // bumped by Invalidate; stale loads are not cached
	lastSweep time.Time
	optErr    error // from an Option
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
		policy: DefaultPolicy(),
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
	if m.optErr != nil {
		return nil, m.optErr
	}
	if err := m.policy.Validate(); err != nil {
		return nil, err
	}
	return m, nil
}

// Policy returns the lifecycle timing in force.
func (m *Manager) Policy() Policy { return m.policy }

// SigningKey returns the tenant's active key for alg. If the tenant has
// none for alg (a new tenant, or one that just switched algorithms) it
// promotes the next key or, when there is none either, creates an active
// and a next key, under the store's lock so that replicas racing create one
// set. Such a first key signs without pre-publication: nobody can have
// cached a JWKS without it for an algorithm the tenant never used.
func (m *Manager) SigningKey(ctx context.Context, tenant, alg string) (*Key, error) {
	if err := checkTenantAlg(tenant, alg); err != nil {
		return nil, err
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
	// Another goroutine may have created the set while we waited.
	if keys, ok := m.cached(tenant); ok {
		if k := newestActive(keys, alg); k != nil {
			unlock()
			return k.clone(), nil
		}
	}
	err = m.ensureSet(ctx, tenant, alg)
	unlock()
	if err != nil {
		return nil, err
	}
	keys, err = m.tenantKeys(ctx, tenant)
	if err != nil {
		return nil, err
	}
	if k := newestActive(keys, alg); k != nil {
		return k.clone(), nil
	}
	return nil, fmt.Errorf("keys: tenant %q has no active %s key", tenant, alg)
}

// ensureSet makes sure the tenant's key set of alg has an active and a next
// key.
func (m *Manager) ensureSet(ctx context.Context, tenant, alg string) error {
	return m.updateSet(ctx, tenant, alg, 2, func(keys []*storage.SigningKey, fresh func() *storage.SigningKey) (*storage.KeySetChange, error) {
		now := m.now().UTC()
		active, next := current(keys)
		change := &storage.KeySetChange{}
		if active == nil && next != nil {
			c, _, err := promote(keys, next, fresh, now)
			return c, err
		}
		if active == nil {
			a := fresh()
			if a == nil {
				return nil, errNeedKey
			}
			a.Status, a.ActivatedAt = storage.KeyActive, now
			change.Create = append(change.Create, a)
		}
		if next == nil {
			n := fresh()
			if n == nil {
				return nil, errNeedKey
			}
			n.Status = storage.KeyNext
			change.Create = append(change.Create, n)
		}
		if len(change.Create) == 0 {
			return nil, nil
		}
		return change, nil
	})
}

// PublicKeys returns the keys of the tenant's JWKS, newest first: next,
// active and retired keys, never revoked ones (revocation removes a key
// from the JWKS at once). Private is nil in the returned keys so that a
// JWKS built from them cannot leak private parts (checklist F4).
func (m *Manager) PublicKeys(ctx context.Context, tenant string) ([]*Key, error) {
	keys, err := m.tenantKeys(ctx, tenant)
	if err != nil {
		return nil, err
	}
	out := make([]*Key, 0, len(keys))
	for _, k := range keys {
		if pub := publicCopy(k); pub != nil {
			out = append(out, pub)
		}
	}
	return out, nil
}

// PublicKey returns the key of the tenant's JWKS (PublicKeys) whose ID is
// kid, or nil when the JWKS has none: what a verifier needs of one token,
// without copying the whole set for it.
func (m *Manager) PublicKey(ctx context.Context, tenant, kid string) (*Key, error) {
	keys, err := m.tenantKeys(ctx, tenant)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		if k.ID == kid {
			return publicCopy(k), nil
		}
	}
	return nil, nil
}

// publicCopy is k as the JWKS publishes it — a copy without its private
// part — or nil for a revoked key, which the JWKS no longer has.
func publicCopy(k *Key) *Key {
	if k.Status == storage.KeyRevoked {
		return nil
	}
	c := k.clone()
	c.Private = nil
	return c
}

// EnsureKeys makes sure the tenant has an active and a next key for each
// alg; call it when a tenant is created. RS256 is always included: OpenID Connect
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
	unlock, err := m.lockTenant(ctx, tenant)
	if err != nil {
		return err
	}
	defer unlock()
	for _, alg := range want {
		if err := m.ensureSet(ctx, tenant, alg); err != nil {
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
	// A new set's active and next keys share a creation time; list the
	// next key first, as if it were newer.
	slices.SortStableFunc(keys, func(a, b *Key) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return statusRank(a.Status) - statusRank(b.Status)
	})
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
		ID:          rec.ID,
		Algorithm:   rec.Algorithm,
		Private:     signer,
		Public:      signer.Public(),
		CreatedAt:   rec.CreatedAt,
		ActivatedAt: rec.ActivatedAt,
		RetiredAt:   rec.RetiredAt,
		Status:      rec.Status,
		Active:      rec.Status == storage.KeyActive,
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

func statusRank(status string) int {
	switch status {
	case storage.KeyNext:
		return 0
	case storage.KeyActive:
		return 1
	case storage.KeyRetired:
		return 2
	}
	return 3
}

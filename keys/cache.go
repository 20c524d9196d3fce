package keys

import (
	"context"
	"hash/fnv"
	"time"
)

// cacheEntry is one tenant's parsed keys, newest first, valid until expires.
type cacheEntry struct {
	keys    []*Key
	expires time.Time
}

// cached returns the tenant's keys if a fresh cache entry exists.
func (m *Manager) cached(tenant string) ([]*Key, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.cache[tenant]
	if !ok || !m.now().Before(e.expires) {
		return nil, false
	}
	return e.keys, true
}

func (m *Manager) currentEpoch() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.epoch
}

// put caches keys unless Invalidate ran since epoch was read (the keys may
// predate the change the invalidation announced). Expired entries of other
// tenants are swept at most once per TTL so deleted tenants do not linger.
func (m *Manager) put(tenant string, keys []*Key, epoch uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.epoch != epoch {
		return
	}
	now := m.now()
	if now.Sub(m.lastSweep) >= m.ttl {
		for t, e := range m.cache {
			if !now.Before(e.expires) {
				delete(m.cache, t)
			}
		}
		m.lastSweep = now
	}
	m.cache[tenant] = cacheEntry{keys: keys, expires: now.Add(m.ttl)}
}

// lockStripes is how many locks the tenants share. A fixed set keeps
// memory bounded however many tenants come and go; two tenants that share a
// stripe merely wait for each other's (rare) key loads.
const lockStripes = 256

// lockTenant serialises loading and creating one tenant's keys. It is a
// one-slot channel rather than a sync.Mutex so that a waiter can give up
// when its ctx ends.
func (m *Manager) lockTenant(ctx context.Context, tenant string) (unlock func(), err error) {
	h := fnv.New32a()
	h.Write([]byte(tenant))
	l := m.locks[h.Sum32()%lockStripes]
	select {
	case l <- struct{}{}:
		return func() { <-l }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

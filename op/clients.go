package op

import (
	"context"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"

	"github.com/herald-idp/herald/storage"
)

// clientCache keeps client registrations in memory: every token request
// authenticates its client, and a storage round trip per request would be
// the largest cost of client_credentials after the signature. Entries of a
// tenant are dropped together when the tenant changes (registry OnChange →
// Server.TenantChanged, on every replica through the store's notifier);
// the TTL is the safety net. Unknown client IDs are not cached, so a
// client registered elsewhere is usable at once.
type clientCache struct {
	byTenant *expirable.LRU[string, *tenantClients]
}

type tenantClients struct {
	mu      sync.Mutex
	clients map[string]*storage.Client
}

// maxClientsPerTenant bounds one tenant's cached clients (random client IDs
// are never cached, but a tenant may have many real ones).
const maxClientsPerTenant = 1024

func newClientCache(ttl time.Duration) *clientCache {
	return &clientCache{byTenant: expirable.NewLRU[string, *tenantClients](tenantCacheSize, nil, ttl)}
}

func (cc *clientCache) get(ctx context.Context, store storage.Clients, tenant, id string) (*storage.Client, error) {
	tc, ok := cc.byTenant.Get(tenant)
	if ok {
		tc.mu.Lock()
		c, hit := tc.clients[id]
		tc.mu.Unlock()
		if hit {
			return c, nil
		}
	}
	c, err := store.Client(ctx, tenant, id)
	if err != nil {
		return nil, err
	}
	if !ok {
		tc = &tenantClients{clients: map[string]*storage.Client{}}
		cc.byTenant.Add(tenant, tc)
	}
	tc.mu.Lock()
	if len(tc.clients) < maxClientsPerTenant {
		tc.clients[id] = c
	}
	tc.mu.Unlock()
	return c, nil
}

func (cc *clientCache) invalidate(tenant string) {
	if tenant == "" {
		cc.byTenant.Purge()
		return
	}
	cc.byTenant.Remove(tenant)
}

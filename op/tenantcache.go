package op

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"

	"github.com/herald-idp/herald/internal/telemetry"
	"github.com/herald-idp/herald/keys"
	"github.com/herald-idp/herald/op/registry"
	"github.com/herald-idp/herald/storage"
)

// This file is the one home of everything Herald keeps in memory about a
// tenant. A new per-tenant cache belongs in tenantCaches, and Forget must
// drop it: that is what makes a change made on one replica visible on all.

const (
	// tenantCacheSize bounds the tenants kept in each cache: idle tenants
	// age out, so memory does not grow with the number of registered
	// tenants.
	tenantCacheSize = 4096
	// Unknown tenant names and hosts are remembered briefly so that a flood
	// of requests for them costs one lookup per second each, not one per
	// request; the LRU bounds how many are remembered. Creating the tenant
	// (or adding the hostname) forgets them at once on the replica that
	// made the change and, through the notifier, on the others; the TTL is
	// the bound when an announcement is lost or there is no notifier.
	negativeTTL = time.Second
	// Cache lifetimes: with a storage.Notifier, changes evict entries at
	// once and the TTL is only the safety net; without one (a single node
	// on SQLite, where the CLI may write from another process) entries live
	// one second so that changes show within a second either way.
	cacheTTLNotified   = 30 * time.Second
	cacheTTLUnnotified = time.Second
	// signerTTL only bounds how long an idle tenant's signers are kept.
	signerTTL = time.Hour
	// maxClientsPerTenant bounds one tenant's cached clients (unknown
	// client IDs are never cached, but a tenant may have many real ones).
	maxClientsPerTenant = 1024
	// maxSignersPerTenant bounds one tenant's signers (two token types per
	// key; retired keys' signers are dropped when the bound is reached).
	maxSignersPerTenant = 16
)

// tenantCaches holds every per-tenant cache of a Server and the
// cross-replica invalidation that keeps them honest:
//
//   - tenants by name and by hostname (op/tenants.go resolves requests
//     through them), and for negativeTTL the names and hostnames no
//     tenant has;
//   - client registrations (every token request authenticates its client;
//     a storage round trip per request would be the largest cost of
//     client_credentials after the signature);
//   - the CORS origins a tenant's clients registered (cors.go);
//   - the serialised discovery document (by issuer) and JWKS (by tenant),
//     with their ETags;
//   - JWS signers built from the tenant's keys (jws.go, tokens.go);
//   - the key manager's parsed keys (keys.Manager keeps them; Forget
//     invalidates them).
//
// Registry changes reach Changed (Server.TenantChanged), which forgets the
// tenant here and announces it through the notifier; every replica's
// subscription (listen) forgets it too. The TTLs are the safety net when an
// announcement is lost or there is no notifier.
type tenantCaches struct {
	store    storage.Store
	keys     *keys.Manager
	notifier storage.Notifier // nil: no cross-replica announcements

	byName    *expirable.LRU[string, tenantLookup] // enabled or not
	unknown   *expirable.LRU[string, struct{}]     // names no tenant has, for negativeTTL
	byHost    *expirable.LRU[string, tenantLookup] // unknown hosts cached as nil for negativeTTL
	clients   *expirable.LRU[string, *tenantClients]
	origins   *expirable.LRU[string, []string]
	discovery *expirable.LRU[string, metadataDocument] // by issuer: a tenant may have several
	jwks      *expirable.LRU[string, metadataDocument]
	signers   *expirable.LRU[string, *tenantSigners]

	tel *telemetry.Telemetry // counts hits and misses (nil: nothing)

	// forgets counts Forget calls: a lookup by name or host that raced a
	// Forget does not cache what it read, which may predate the change (a tenant
	// created just after storage said "unknown").
	forgets atomic.Uint64
}

// tenantLookup is a cached tenant (nil when the name or host is unknown).
type tenantLookup struct{ tenant *storage.Tenant }

// tenantEntries is one tenant's cached values by ID, safe for concurrent
// use; the LRU it lives in expires or forgets it as a whole.
type tenantEntries[V any] struct {
	mu sync.Mutex
	m  map[string]V
}

// tenantClients is one tenant's cached client registrations, by client ID.
type tenantClients = tenantEntries[*storage.Client]

// tenantSigners is one tenant's signers, by kid + "|" + typ.
type tenantSigners = tenantEntries[*jwsSigner]

func (e *tenantEntries[V]) get(id string) (V, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	v, ok := e.m[id]
	return v, ok
}

// put stores v under id. At limit entries, clearFull empties the map
// first (entries that are never asked for again pile up: retired keys'
// signers); otherwise v is not stored (the set is merely bounded).
func (e *tenantEntries[V]) put(id string, v V, limit int, clearFull bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.m == nil {
		e.m = map[string]V{}
	}
	if len(e.m) >= limit {
		if !clearFull {
			return
		}
		clear(e.m)
	}
	e.m[id] = v
}

func newTenantCaches(store storage.Store, km *keys.Manager, notifier storage.Notifier) *tenantCaches {
	ttl := cacheTTLUnnotified
	if notifier != nil {
		ttl = cacheTTLNotified
	}
	return &tenantCaches{
		store:     store,
		keys:      km,
		notifier:  notifier,
		byName:    expirable.NewLRU[string, tenantLookup](tenantCacheSize, nil, ttl),
		unknown:   expirable.NewLRU[string, struct{}](tenantCacheSize, nil, negativeTTL),
		byHost:    expirable.NewLRU[string, tenantLookup](tenantCacheSize, nil, negativeTTL),
		clients:   expirable.NewLRU[string, *tenantClients](tenantCacheSize, nil, ttl),
		origins:   expirable.NewLRU[string, []string](tenantCacheSize, nil, ttl),
		discovery: expirable.NewLRU[string, metadataDocument](tenantCacheSize, nil, ttl),
		jwks:      expirable.NewLRU[string, metadataDocument](tenantCacheSize, nil, ttl),
		signers:   expirable.NewLRU[string, *tenantSigners](tenantCacheSize, nil, signerTTL),
	}
}

// Forget drops everything cached about tenant; "" (a notifier that just
// (re)connected and may have missed announcements) drops every tenant's.
func (c *tenantCaches) Forget(tenant string) {
	c.forgets.Add(1)
	if tenant == "" {
		c.byName.Purge()
		c.unknown.Purge()
		c.clients.Purge()
		c.origins.Purge()
		c.jwks.Purge()
		c.signers.Purge()
		c.keys.InvalidateAll()
	} else {
		c.byName.Remove(tenant)
		c.unknown.Remove(tenant)
		c.clients.Remove(tenant)
		c.origins.Remove(tenant)
		c.jwks.Remove(tenant)
		c.signers.Remove(tenant)
		c.keys.Invalidate(tenant)
	}
	// Every hostname: the tenant's hostnames may have changed. Discovery
	// documents are keyed by issuer, and a tenant may be reachable at
	// several; both are cheap to rebuild.
	c.byHost.Purge()
	c.discovery.Purge()
}

// Changed forgets tenant here and tells the other replicas to do the same
// (when there is a notifier). The registry calls it (through
// Server.TenantChanged) after every change to a tenant, its clients or its
// keys.
func (c *tenantCaches) Changed(ctx context.Context, tenant string) {
	c.Forget(tenant)
	if c.notifier == nil {
		return
	}
	if err := c.notifier.Publish(ctx, tenant); err != nil {
		slog.WarnContext(ctx, "publish tenant change; other replicas catch up on cache expiry", "tenant", tenant, "error", err)
	}
}

// listen forgets what other replicas announce until ctx ends.
func (c *tenantCaches) listen(ctx context.Context) {
	if c.notifier == nil {
		return
	}
	go func() {
		if err := c.notifier.Subscribe(ctx, c.Forget); err != nil && ctx.Err() == nil {
			slog.Error("tenant change notifications stopped; relying on cache expiry", "error", err)
		}
	}()
}

// tenant returns the enabled tenant called name, or storage.ErrNotFound.
// A name that cannot be a tenant's never reaches storage; one that could
// but is unknown is remembered for negativeTTL.
func (c *tenantCaches) tenant(ctx context.Context, name string) (*storage.Tenant, error) {
	if !registry.ValidTenantName(name) {
		return nil, storage.ErrNotFound
	}
	if l, ok := c.byName.Get(name); ok && l.tenant != nil {
		c.tel.CacheLookup(telemetry.CacheTenant, true)
		return enabled(l.tenant)
	}
	if c.unknown.Contains(name) {
		c.tel.CacheLookup(telemetry.CacheTenant, true)
		return nil, storage.ErrNotFound
	}
	c.tel.CacheLookup(telemetry.CacheTenant, false)
	return c.lookup(func() (*storage.Tenant, error) { return c.store.Tenants().Tenant(ctx, name) },
		func(t *storage.Tenant) { c.byName.Add(name, tenantLookup{t}) },
		func() { c.unknown.Add(name, struct{}{}) })
}

// tenantByHost returns the enabled tenant that registered host, or
// storage.ErrNotFound.
func (c *tenantCaches) tenantByHost(ctx context.Context, host string) (*storage.Tenant, error) {
	l, ok := c.byHost.Get(host)
	c.tel.CacheLookup(telemetry.CacheHost, ok)
	if ok {
		if l.tenant == nil {
			return nil, storage.ErrNotFound
		}
		return enabled(l.tenant)
	}
	return c.lookup(func() (*storage.Tenant, error) { return c.store.Tenants().TenantByHostname(ctx, host) },
		func(t *storage.Tenant) { c.byHost.Add(host, tenantLookup{t}) },
		func() { c.byHost.Add(host, tenantLookup{}) })
}

// lookup loads a tenant from storage and remembers the answer, the tenant
// (found) or that there is none (unknown), unless a Forget ran during the
// load: that answer may predate the change, and caching it would keep a
// stale or negative entry for a whole TTL. Other errors are not cached.
func (c *tenantCaches) lookup(load func() (*storage.Tenant, error), found func(*storage.Tenant), unknown func()) (*storage.Tenant, error) {
	gen := c.forgets.Load()
	t, err := load()
	if err != nil {
		if errors.Is(err, storage.ErrNotFound) && c.forgets.Load() == gen {
			unknown()
		}
		return nil, err
	}
	if c.forgets.Load() == gen {
		found(t)
	}
	return enabled(t)
}

// client returns client id of tenant. Unknown client IDs are not cached,
// so a client registered on another replica is usable at once.
func (c *tenantCaches) client(ctx context.Context, tenant, id string) (*storage.Client, error) {
	tc, ok := c.clients.Get(tenant)
	if ok {
		if cl, hit := tc.get(id); hit {
			c.tel.CacheLookup(telemetry.CacheClient, true)
			return cl, nil
		}
	}
	c.tel.CacheLookup(telemetry.CacheClient, false)
	cl, err := c.store.Clients().Client(ctx, tenant, id)
	if err != nil {
		return nil, err
	}
	if !ok {
		tc = &tenantClients{}
		c.clients.Add(tenant, tc)
	}
	tc.put(id, cl, maxClientsPerTenant, false)
	return cl, nil
}

// corsOrigins returns every origin a client of tenant registered.
func (c *tenantCaches) corsOrigins(ctx context.Context, tenant string) ([]string, error) {
	origins, ok := c.origins.Get(tenant)
	c.tel.CacheLookup(telemetry.CacheCORS, ok)
	if ok {
		return origins, nil
	}
	clients, err := c.store.Clients().ListClients(ctx, tenant)
	if err != nil {
		return nil, err
	}
	origins = []string{}
	for _, cl := range clients {
		origins = append(origins, cl.CORSOrigins...)
	}
	c.origins.Add(tenant, origins)
	return origins, nil
}

// signer returns the signer for key k of tenant and token type typ,
// building it once: a token then costs one signature and no key parsing.
func (c *tenantCaches) signer(tenant string, k *keys.Key, typ string) (*jwsSigner, error) {
	id := k.ID + "|" + typ
	ts, ok := c.signers.Get(tenant)
	if ok {
		if s, hit := ts.get(id); hit {
			c.tel.CacheLookup(telemetry.CacheSigner, true)
			return s, nil
		}
	} else {
		ts = &tenantSigners{}
		// Two requests may add a tenant's entry at once; the later wins
		// and the earlier's signer is merely built again next time.
		c.signers.Add(tenant, ts)
	}
	c.tel.CacheLookup(telemetry.CacheSigner, false)
	s, err := newJWSSigner(k, typ)
	if err != nil {
		return nil, err
	}
	ts.put(id, s, maxSignersPerTenant, true) // retired keys' signers are never asked for again
	return s, nil
}

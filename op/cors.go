package op

import (
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/herald-idp/herald/storage"
)

// originCacheTTL bounds how long a tenant's CORS allow-list is reused
// before the client registrations are read again.
const originCacheTTL = 30 * time.Second

// originCache answers CORS for the token, userinfo, introspection,
// revocation, discovery and JWKS endpoints: an origin is allowed when a
// client of the request's tenant registered it. The library's default (any
// origin, with credentials) is never used. The authorization endpoint is
// not behind CORS at all (RFC 9700 §2.6).
type originCache struct {
	clients  storage.Clients
	mu       sync.Mutex
	byTenant map[string]cachedOrigins
}

type cachedOrigins struct {
	origins []string
	expires time.Time
}

func newOriginCache(c storage.Clients) *originCache {
	return &originCache{clients: c, byTenant: map[string]cachedOrigins{}}
}

func (o *originCache) allowed(r *http.Request, origin string) (bool, []string) {
	t := tenantFromContext(r.Context())
	if t == nil {
		return false, nil
	}
	now := time.Now()
	o.mu.Lock()
	c, ok := o.byTenant[t.Name]
	o.mu.Unlock()
	if !ok || now.After(c.expires) {
		clients, err := o.clients.ListClients(r.Context(), t.Name)
		if err != nil {
			return false, nil
		}
		c = cachedOrigins{expires: now.Add(originCacheTTL)}
		for _, cl := range clients {
			c.origins = append(c.origins, cl.CORSOrigins...)
		}
		o.mu.Lock()
		o.byTenant[t.Name] = c
		o.mu.Unlock()
	}
	return slices.Contains(c.origins, origin), nil
}

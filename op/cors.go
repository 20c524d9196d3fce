package op

import (
	"net/http"
	"slices"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"

	"github.com/herald-idp/herald/storage"
)

// originCache answers CORS for the token, userinfo, introspection,
// revocation, discovery and JWKS endpoints: an origin is allowed when a
// client of the request's tenant registered it. The library's default (any
// origin, with credentials) is never used. The authorization endpoint is
// not behind CORS at all (RFC 9700 §2.6).
type originCache struct {
	clients  storage.Clients
	byTenant *expirable.LRU[string, []string]
}

func newOriginCache(c storage.Clients, ttl time.Duration) *originCache {
	return &originCache{clients: c, byTenant: expirable.NewLRU[string, []string](tenantCacheSize, nil, ttl)}
}

func (o *originCache) invalidate(tenant string) { o.byTenant.Remove(tenant) }

func (o *originCache) allowed(r *http.Request, origin string) (bool, []string) {
	t := tenantFromContext(r.Context())
	if t == nil {
		return false, nil
	}
	origins, ok := o.byTenant.Get(t.Name)
	if !ok {
		clients, err := o.clients.ListClients(r.Context(), t.Name)
		if err != nil {
			return false, nil
		}
		origins = []string{}
		for _, cl := range clients {
			origins = append(origins, cl.CORSOrigins...)
		}
		o.byTenant.Add(t.Name, origins)
	}
	return slices.Contains(origins, origin), nil
}

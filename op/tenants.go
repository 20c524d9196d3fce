package op

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/herald-idp/herald/storage"
)

// tenantCacheTTL bounds how long a tenant record (and its disabled flag) is
// served from memory. Unknown names are not cached, so a tenant created by
// another process is served on its first request.
const tenantCacheTTL = 5 * time.Second

type tenantKey struct{}

// tenantFromContext returns the tenant that tenantMiddleware resolved. Every
// handler below /t/{tenant} and every storage call made for it can rely on it.
func tenantFromContext(ctx context.Context) *storage.Tenant {
	t, _ := ctx.Value(tenantKey{}).(*storage.Tenant)
	return t
}

func withTenant(ctx context.Context, t *storage.Tenant) context.Context {
	return context.WithValue(ctx, tenantKey{}, t)
}

// tenants resolves tenant names to records through a small TTL cache, so that
// the per-request cost does not depend on how many tenants exist.
type tenants struct {
	store storage.Tenants
	now   func() time.Time

	mu    sync.RWMutex
	cache map[string]cachedTenant
}

type cachedTenant struct {
	tenant  *storage.Tenant
	expires time.Time
}

func newTenants(store storage.Tenants) *tenants {
	return &tenants{store: store, now: time.Now, cache: map[string]cachedTenant{}}
}

// resolve returns the enabled tenant called name, or storage.ErrNotFound.
func (ts *tenants) resolve(ctx context.Context, name string) (*storage.Tenant, error) {
	now := ts.now()
	ts.mu.RLock()
	c, ok := ts.cache[name]
	ts.mu.RUnlock()
	if !ok || now.After(c.expires) {
		t, err := ts.store.Tenant(ctx, name)
		if err != nil {
			if errors.Is(err, storage.ErrNotFound) {
				ts.mu.Lock()
				delete(ts.cache, name)
				ts.mu.Unlock()
			}
			return nil, err
		}
		c = cachedTenant{tenant: t, expires: now.Add(tenantCacheTTL)}
		ts.mu.Lock()
		ts.cache[name] = c
		ts.mu.Unlock()
	}
	if c.tenant.Disabled {
		return nil, storage.ErrNotFound
	}
	return c.tenant, nil
}

// middleware resolves {tenant} from the path. An unknown or disabled tenant
// gets a JSON 404 before any protocol work: without this the library would
// answer discovery for any path (see ZITADEL-OIDC-NOTES, "tenantGuard").
func (ts *tenants) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := chi.URLParam(r, "tenant")
		t, err := ts.resolve(r.Context(), name)
		switch {
		case errors.Is(err, storage.ErrNotFound):
			writeJSONError(w, http.StatusNotFound, "not_found", "unknown tenant")
			return
		case err != nil:
			serverError(r.Context(), "resolve tenant", err)
			writeJSONError(w, http.StatusServiceUnavailable, temporarilyUnavailable, "storage unavailable")
			return
		}
		next.ServeHTTP(w, r.WithContext(withTenant(r.Context(), t)))
	})
}

package op

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/hashicorp/golang-lru/v2/expirable"

	"github.com/herald-idp/herald/storage"
)

// This file is where a request's tenant is resolved: from the path
// (/t/{tenant}) or from a hostname a tenant registered. Issuers always come
// from Herald's registry, never from a Host header alone (RFC 9700 §4.13).

const (
	// tenantCacheSize bounds the tenants kept in memory: idle tenants age
	// out, so memory does not grow with the number of registered tenants.
	tenantCacheSize = 4096
	// Unknown names and hosts are remembered briefly so that a flood of
	// random Host headers costs one lookup per second each, not one per
	// request; the LRU bounds how many are remembered.
	negativeTTL = time.Second
)

// resolvedTenant is a tenant and the issuer it was reached at.
type resolvedTenant struct {
	tenant *storage.Tenant
	issuer string
	// cookiePath scopes cookies to the tenant: /t/{name}/ for path-based
	// issuers, / for a tenant's own hostname.
	cookiePath string
}

type tenantKey struct{}

// tenantFromContext returns the tenant the request was resolved to. Every
// handler of a tenant route and every storage call made for it can rely on
// it.
func tenantFromContext(ctx context.Context) *storage.Tenant {
	if rt := resolvedFromContext(ctx); rt != nil {
		return rt.tenant
	}
	return nil
}

func resolvedFromContext(ctx context.Context) *resolvedTenant {
	rt, _ := ctx.Value(tenantKey{}).(*resolvedTenant)
	return rt
}

func withTenant(ctx context.Context, rt *resolvedTenant) context.Context {
	return context.WithValue(ctx, tenantKey{}, rt)
}

// tenantLookup is a cached tenant (nil when the name or host is unknown).
type tenantLookup struct{ tenant *storage.Tenant }

// tenants resolves tenant names and hostnames through bounded TTL caches,
// so the per-request cost does not depend on how many tenants exist.
// Changes announced through a storage.Notifier evict entries at once; the
// TTL is the safety net when a notification is lost or there is no
// notifier.
type tenants struct {
	store  storage.Tenants
	byName *expirable.LRU[string, tenantLookup]
	byHost *expirable.LRU[string, tenantLookup]
}

func newTenants(store storage.Tenants, ttl time.Duration) *tenants {
	return &tenants{
		store:  store,
		byName: expirable.NewLRU[string, tenantLookup](tenantCacheSize, nil, ttl),
		byHost: expirable.NewLRU[string, tenantLookup](tenantCacheSize, nil, negativeTTL),
	}
}

// invalidate forgets what is cached about a tenant (and every hostname:
// the tenant's hostnames may have changed).
func (ts *tenants) invalidate(name string) {
	ts.byName.Remove(name)
	ts.byHost.Purge()
}

// byNameLookup returns the enabled tenant called name, or storage.ErrNotFound.
func (ts *tenants) byNameLookup(ctx context.Context, name string) (*storage.Tenant, error) {
	if l, ok := ts.byName.Get(name); ok && l.tenant != nil {
		return enabled(l.tenant)
	}
	t, err := ts.store.Tenant(ctx, name)
	if err != nil {
		return nil, err
	}
	ts.byName.Add(name, tenantLookup{t})
	return enabled(t)
}

func (ts *tenants) byHostLookup(ctx context.Context, host string) (*storage.Tenant, error) {
	if l, ok := ts.byHost.Get(host); ok {
		if l.tenant == nil {
			return nil, storage.ErrNotFound
		}
		return enabled(l.tenant)
	}
	t, err := ts.store.TenantByHostname(ctx, host)
	if errors.Is(err, storage.ErrNotFound) {
		ts.byHost.Add(host, tenantLookup{})
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	ts.byHost.Add(host, tenantLookup{t})
	return enabled(t)
}

func enabled(t *storage.Tenant) (*storage.Tenant, error) {
	if t.Disabled {
		// A disabled tenant is invisible: discovery 404s and its tokens are
		// refused everywhere, because no route of it is reachable.
		return nil, storage.ErrNotFound
	}
	return t, nil
}

// pathMiddleware resolves /t/{tenant}. An unknown or disabled tenant gets a
// JSON 404 before any protocol work: without it the library would answer
// discovery for any path.
func (s *Server) pathMiddleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := chi.URLParam(r, "tenant")
		t, err := s.tenants.byNameLookup(r.Context(), name)
		if !s.tenantFound(w, r, err) {
			return
		}
		rt := &resolvedTenant{tenant: t, issuer: s.Issuer(t.Name), cookiePath: "/t/" + t.Name + "/"}
		next.ServeHTTP(w, r.WithContext(withTenant(r.Context(), rt)))
	})
}

// hostSwitch sends requests for Herald's own host to main, and requests for
// a hostname a tenant registered to that tenant's routes at the root, with
// the issuer https://{hostname}. Any other host gets a JSON 404.
func (s *Server) hostSwitch(main, tenantRoot http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := s.requestHost(r)
		if host == s.publicHost {
			main.ServeHTTP(w, r)
			return
		}
		t, err := s.tenants.byHostLookup(r.Context(), host)
		if errors.Is(err, storage.ErrNotFound) {
			writeJSONError(w, http.StatusNotFound, "not_found", "no tenant is registered for this host")
			return
		}
		if !s.tenantFound(w, r, err) {
			return
		}
		issuer := s.publicScheme + "://" + host
		if s.publicPort != "" {
			issuer += ":" + s.publicPort
		}
		rt := &resolvedTenant{tenant: t, issuer: issuer, cookiePath: "/"}
		tenantRoot.ServeHTTP(w, r.WithContext(withTenant(r.Context(), rt)))
	})
}

// requestHost is the lower-case hostname (no port) the client asked for.
// X-Forwarded-Host counts only when the request comes from a configured
// trusted proxy; anyone else could set it.
func (s *Server) requestHost(r *http.Request) string {
	host := r.Host
	if fwd := r.Header.Get("X-Forwarded-Host"); fwd != "" && s.fromTrustedProxy(r) {
		host, _, _ = strings.Cut(fwd, ",")
		host = strings.TrimSpace(host)
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return strings.ToLower(strings.TrimSuffix(host, "."))
}

func (s *Server) fromTrustedProxy(r *http.Request) bool {
	if len(s.cfg.TrustedProxies) == 0 {
		return false
	}
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(ap.Addr().Unmap()) {
			return true
		}
	}
	return false
}

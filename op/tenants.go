package op

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/go-chi/chi/v5"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/herald-idp/herald/storage"
)

// This file is where a request's tenant is resolved: from the path
// (/t/{tenant}) or from a hostname a tenant registered. Issuers always come
// from Herald's registry, never from a Host header alone (RFC 9700 §4.13).

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
// it. The tenant is resolved once per request, by pathMiddleware or
// hostSwitch: handlers read it here once and pass it down; nothing fetches
// it again.
func tenantFromContext(ctx context.Context) *storage.Tenant {
	if rt := resolvedFromContext(ctx); rt != nil {
		return rt.tenant
	}
	return nil
}

// tenantName is the name of the request's tenant ("" outside a tenant
// route).
func tenantName(ctx context.Context) string {
	if t := tenantFromContext(ctx); t != nil {
		return t.Name
	}
	return ""
}

func resolvedFromContext(ctx context.Context) *resolvedTenant {
	rt, _ := ctx.Value(tenantKey{}).(*resolvedTenant)
	return rt
}

// withTenant records the tenant a request was resolved to, and its issuer
// where the library looks for it (zop.IssuerFromContext): the library's
// IssuerInterceptor would copy the request once more to put it there.
func withTenant(ctx context.Context, rt *resolvedTenant) context.Context {
	if info := requestInfoFromContext(ctx); info != nil {
		info.tenant = rt.tenant.Name // for the access log
	}
	return zop.ContextWithIssuer(context.WithValue(ctx, tenantKey{}, rt), rt.issuer)
}

func enabled(t *storage.Tenant) (*storage.Tenant, error) {
	if t.Disabled {
		// A disabled tenant is invisible: discovery 404s and its tokens are
		// refused everywhere, because no route of it is reachable.
		return nil, storage.ErrNotFound
	}
	return t, nil
}

// tenantRoutePath is the request's path relative to its tenant's root
// (/t/{tenant}/ or, at a tenant's own hostname, /), e.g. "/token"; "" when
// no tenant was resolved.
func tenantRoutePath(r *http.Request) string {
	rt := resolvedFromContext(r.Context())
	if rt == nil {
		return ""
	}
	// cookiePath ends with "/": the path from that slash on is "/" + the
	// rest, without building it (several middlewares ask).
	if !strings.HasPrefix(r.URL.Path, rt.cookiePath) {
		return ""
	}
	return r.URL.Path[len(rt.cookiePath)-1:]
}

// pathMiddleware resolves /t/{tenant}. An unknown or disabled tenant gets a
// 404 (JSON, or a page for a browser) before any protocol work: without it
// the library would answer discovery for any path.
func (s *Server) pathMiddleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := chi.URLParam(r, "tenant")
		t, err := s.caches.tenant(r.Context(), name)
		if !s.tenantFound(w, r, err, "unknown tenant", "tenant", name) {
			return
		}
		rt := &resolvedTenant{tenant: t, issuer: s.Issuer(t.Name), cookiePath: "/t/" + t.Name + "/"}
		next.ServeHTTP(w, r.WithContext(withTenant(r.Context(), rt)))
	})
}

// hostSwitch sends requests for Herald's own host to main, and requests for
// a hostname a tenant registered to that tenant's routes at the root, with
// the issuer https://{hostname}. Any other host gets a 404 (JSON, or a
// page for a browser).
func (s *Server) hostSwitch(main, tenantRoot http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := s.requestHost(r)
		if host == s.publicHost {
			main.ServeHTTP(w, r)
			return
		}
		t, err := s.caches.tenantByHost(r.Context(), host)
		if !s.tenantFound(w, r, err, "no tenant is registered for this host", "host", host) {
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

package op

import (
	"net/http"
	"slices"

	"github.com/rs/cors"
)

// corsPaths are the endpoints a single-page app calls with fetch/XHR from
// its own origin, relative to the tenant's issuer: the only ones that
// answer CORS. The browser pages (/authorize, /login, /consent,
// /end_session, served by op/login) are top-level navigations and answer
// none at all, not even a preflight: nothing on another origin has any
// business reading them (RFC 9700 §2.6, checklist A7).
var corsPaths = []string{pathToken, pathUserinfo, pathRevoke, pathIntrospect, pathJWKS, pathDiscovery}

// corsOptions is the one CORS policy: origins a client of the request's
// tenant registered (allowedOrigin), no credentials, GET and POST with the
// two headers the endpoints read.
func (s *Server) corsOptions() cors.Options {
	return cors.Options{
		AllowOriginVaryRequestFunc: s.allowedOrigin,
		AllowedMethods:             []string{http.MethodGet, http.MethodPost},
		AllowedHeaders:             []string{"Authorization", "Content-Type"},
		MaxAge:                     600,
	}
}

// apiCORS applies the CORS policy to requests for corsPaths and passes
// every other request through untouched. It wraps the protocol routes,
// which are mounted at the tenant's root and so also see preflights of
// paths they do not serve; the library's own CORS (which wraps all of them)
// is switched off.
func (s *Server) apiCORS(next http.Handler) http.Handler {
	withCORS := cors.New(s.corsOptions()).Handler(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isCORSPath(r) {
			withCORS.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// isCORSPath reports whether r is for one of corsPaths of its tenant.
func isCORSPath(r *http.Request) bool {
	return slices.Contains(corsPaths, tenantRoutePath(r))
}

// allowedOrigin answers CORS for corsPaths: an origin is allowed when a
// client of the request's tenant registered it (cached per tenant,
// tenantcache.go). The library's default (any origin, with credentials) is
// never used.
func (s *Server) allowedOrigin(r *http.Request, origin string) (bool, []string) {
	t := tenantFromContext(r.Context())
	if t == nil {
		return false, nil
	}
	origins, err := s.caches.corsOrigins(r.Context(), t.Name)
	if err != nil {
		return false, nil
	}
	return slices.Contains(origins, origin), nil
}

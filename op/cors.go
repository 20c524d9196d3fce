package op

import (
	"net/http"
	"slices"
)

// allowedOrigin answers CORS for the token, userinfo, introspection,
// revocation, discovery and JWKS endpoints: an origin is allowed when a
// client of the request's tenant registered it (cached per tenant,
// tenantcache.go). The library's default (any origin, with credentials) is
// never used. The authorization endpoint is not behind CORS at all
// (RFC 9700 §2.6).
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

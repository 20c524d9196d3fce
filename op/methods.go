package op

import (
	"net/http"
	"strings"
)

// postOnly answers 405 to anything but POST (and CORS preflights) at the
// token, revocation and introspection endpoints. Their requests carry
// client credentials, codes and tokens, which belong in the body, never in
// a URL that proxies and logs keep (RFC 6749 §3.2, RFC 7009 §2.1, RFC 7662
// §2.1; RFC 9700 §4.3.2 on credentials in URLs).
func postOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost && r.Method != http.MethodOptions && isPostOnlyPath(r.URL.Path) {
			w.Header().Set("Allow", http.MethodPost)
			writeJSONError(w, http.StatusMethodNotAllowed, "invalid_request", "use POST with the parameters in the body")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func isPostOnlyPath(p string) bool {
	for _, suffix := range []string{pathToken, pathRevoke, pathIntrospect} {
		if strings.HasSuffix(p, suffix) {
			return true
		}
	}
	return false
}

package op

import (
	"net/http"
	"net/url"
	"slices"
	"sort"
)

// formPaths are the endpoints whose form parameters Herald checks before
// the library reads them (it takes the first of repeated values).
var formPaths = []string{pathToken, pathRevoke, pathIntrospect}

// repeatableParams may legitimately appear more than once: RFC 8707 §2
// allows several resource indicators (Herald ignores them).
var repeatableParams = []string{"resource"}

// checkFormParams enforces at the token, revocation and introspection
// endpoints what the library does not:
//
//   - RFC 6749 §3.1: parameters must not be included more than once, in the
//     body or between the query and the body. A duplicate is refused with
//     invalid_request naming it, instead of the first value silently
//     winning (two components reading "the" grant_type could disagree).
//   - RFC 6749 §2.3: a client authenticating with HTTP Basic that also
//     names a different client_id in the body is refused with
//     invalid_client (401 with the Basic challenge, as for any failed
//     client authentication, RFC 6749 §5.2); the library would quietly use
//     the Basic one. A body client_secret next to Basic is two
//     authentication methods: invalid_request.
func checkFormParams(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Only POST: these endpoints serve nothing else (other methods are
		// refused further in, whatever their parameters).
		if r.Method != http.MethodPost || !slices.Contains(formPaths, tenantRoutePath(r)) {
			next.ServeHTTP(w, r)
			return
		}
		if err := r.ParseForm(); err != nil {
			// Unreadable or too large: the library answers invalid_request.
			next.ServeHTTP(w, r)
			return
		}
		if p := repeatedParam(r.Form); p != "" {
			writeJSONError(w, http.StatusBadRequest, "invalid_request", "parameter "+p+" was sent more than once")
			return
		}
		if id, _, basic := r.BasicAuth(); basic {
			basicID, err := url.QueryUnescape(id) // RFC 6749 §2.3.1 form-encodes it
			if bodyID := r.Form.Get("client_id"); err == nil && bodyID != "" && bodyID != basicID {
				w.Header().Set("WWW-Authenticate", `Basic realm="herald"`)
				writeJSONError(w, http.StatusUnauthorized, "invalid_client", "client_id does not match the authenticated client")
				return
			}
			if r.Form.Get("client_secret") != "" {
				writeJSONError(w, http.StatusBadRequest, "invalid_request", "client authentication must not use more than one method")
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// repeatedParam returns the (alphabetically first) parameter of f that was
// sent more than once, or "".
func repeatedParam(f url.Values) string {
	var repeated []string
	for k, vs := range f {
		if len(vs) > 1 && !slices.Contains(repeatableParams, k) {
			repeated = append(repeated, k)
		}
	}
	if len(repeated) == 0 {
		return ""
	}
	sort.Strings(repeated)
	return repeated[0]
}

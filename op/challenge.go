package op

import (
	"net/http"
	"strings"
)

// authChallenge adds the WWW-Authenticate header that a 401 must carry
// (RFC 9110 §15.5.2): Basic for the client-authenticated endpoints (RFC 6749
// §5.2), Bearer with the error code for userinfo (RFC 6750 §3). The
// library's error writer does not set it.
func authChallenge(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme := `Basic realm="herald"`
		if strings.HasSuffix(r.URL.Path, pathUserinfo) {
			scheme = `Bearer realm="herald", error="invalid_token"`
		}
		next.ServeHTTP(&challengeWriter{ResponseWriter: w, challenge: scheme}, r)
	})
}

// requireClientCredentials answers an introspection request that carries no
// client credentials at all with 401 invalid_client (RFC 7662 §2.1), before
// the library would call it a 400 invalid_request.
func requireClientCredentials(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, pathIntrospect) && r.Method == http.MethodPost {
			_, _, basic := r.BasicAuth()
			if !basic && (r.ParseForm() != nil || r.PostForm.Get("client_secret") == "") {
				w.Header().Set("WWW-Authenticate", `Basic realm="herald"`)
				writeJSONError(w, http.StatusUnauthorized, "invalid_client", "client authentication is required")
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

type challengeWriter struct {
	http.ResponseWriter
	challenge string
}

func (c *challengeWriter) WriteHeader(status int) {
	if status == http.StatusUnauthorized && c.Header().Get("WWW-Authenticate") == "" {
		c.Header().Set("WWW-Authenticate", c.challenge)
	}
	c.ResponseWriter.WriteHeader(status)
}

func (c *challengeWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

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

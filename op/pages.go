package op

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/herald-idp/herald/storage"
	"github.com/herald-idp/herald/templates"
)

// This file holds what every browser-facing page shares: security headers,
// rendering, cookies and CSRF tokens.

const (
	// pageCSP forbids scripts, inline styles, framing (clickjacking, RFC
	// 9700 §4.16) and <base> tricks. form-action is deliberately absent:
	// browsers apply it to the redirect that follows a form POST, which would
	// block the 303 back to the client's redirect_uri.
	pageCSP = "default-src 'none'; style-src 'self'; img-src 'self' data: https:; frame-ancestors 'none'; base-uri 'none'"

	staticPrefix  = "/static"
	csrfField     = "csrf_token"
	csrfCookie    = "herald_csrf"
	sessionCookie = "herald_session"
)

// setPageHeaders applies to every HTML page Herald renders.
func setPageHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", pageCSP)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, page any) {
	setPageHeaders(w)
	w.WriteHeader(status)
	if err := templates.Render(w, page); err != nil {
		slog.ErrorContext(r.Context(), "render page", "error", err)
	}
}

func branding(t *storage.Tenant) templates.Branding {
	b := templates.Branding{StaticURL: staticPrefix}
	if t != nil {
		b.TenantName = t.Name
		b.DisplayName = t.DisplayName
		b.LogoURL = t.Settings.LogoURL
		b.AccentColor = t.Settings.AccentColor
	}
	return b
}

// errorPage shows an error to the user on Herald's own origin, never
// redirecting (used whenever the redirect_uri cannot be trusted).
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, status int, title, message string) {
	s.render(w, r, status, templates.ErrorPage{
		Branding: branding(tenantFromContext(r.Context())),
		Title:    title, Message: message,
	})
}

// busyPage answers when the password hasher is saturated: the login storm
// waits for a retry instead of exhausting memory.
func (s *Server) busyPage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Retry-After", strconv.Itoa(2))
	s.errorPage(w, r, http.StatusServiceUnavailable, "Please try again",
		"The sign-in service is busy right now. Please try again in a few seconds.")
}

// setCookie sets a cookie scoped to the request's tenant: /t/{name}/ or,
// for a tenant's own hostname, that host. Cookies of tenant A are never
// sent to tenant B (checklist G4); the trailing slash matters, /t/acme/ does
// not match /t/acme-evil.
func (s *Server) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge time.Duration) {
	c := &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     resolvedFromContext(r.Context()).cookiePath,
		HttpOnly: true,
		Secure:   s.secureCookies,
		SameSite: http.SameSiteLaxMode,
	}
	if maxAge < 0 {
		c.MaxAge = -1
	} else if maxAge > 0 {
		c.MaxAge = int(maxAge.Seconds())
	}
	http.SetCookie(w, c)
}

// csrfToken returns the form token for a browser, creating its CSRF cookie
// if needed. The token is an HMAC of the cookie and the form's purpose, so
// a token for one auth request cannot be replayed on another, and an
// attacker who can plant a cookie still cannot compute a matching token.
func (s *Server) csrfToken(w http.ResponseWriter, r *http.Request, purpose string) string {
	c, err := r.Cookie(csrfCookie)
	value := ""
	if err == nil && len(c.Value) >= 32 {
		value = c.Value
	} else {
		value = randomToken(32)
		s.setCookie(w, r, csrfCookie, value, 0)
	}
	return s.csrfMAC(value, purpose)
}

func (s *Server) csrfMAC(cookie, purpose string) string {
	m := hmac.New(sha256.New, s.csrfKey)
	m.Write([]byte(cookie))
	m.Write([]byte{0})
	m.Write([]byte(purpose))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// validCSRF checks the form's token against the browser's cookie in
// constant time.
func (s *Server) validCSRF(r *http.Request, purpose string) bool {
	c, err := r.Cookie(csrfCookie)
	if err != nil || len(c.Value) < 32 {
		return false
	}
	want := s.csrfMAC(c.Value, purpose)
	return hmac.Equal([]byte(want), []byte(r.PostForm.Get(csrfField)))
}

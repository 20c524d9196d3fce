package login

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/herald-idp/herald/templates"
)

// This file holds what every browser-facing page shares: security headers,
// rendering, cookies and CSRF tokens.

const (
	// pageCSP forbids scripts, inline styles, framing (clickjacking, RFC
	// 9700 §4.16) and <base> tricks. form-action is deliberately absent:
	// browsers apply it to the redirect that follows a form POST, which would
	// block the 303 back to the client's redirect_uri. Images come from
	// Herald itself (data: for generated ones) and, on a tenant's pages,
	// from its logo's origin only (pageCSPFor).
	pageCSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'"

	// StaticPrefix is where the pages' stylesheet and images are served.
	StaticPrefix  = "/static"
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

func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, page any) {
	setPageHeaders(w)
	if t := h.p.Tenant(r.Context()).Tenant; t != nil {
		w.Header().Set("Content-Security-Policy", pageCSPFor(t.Settings.LogoURL))
	}
	w.WriteHeader(status)
	if err := templates.Render(w, page); err != nil {
		slog.ErrorContext(r.Context(), "render page", "error", err)
	}
}

// branding is the request's tenant's look: its names, its logo (when its
// URL is one the CSP can allow) and its stylesheet (when it has an accent
// colour). Outside a tenant it is Herald's default look.
func (h *Handler) branding(ctx context.Context) templates.Branding {
	b := templates.Branding{StaticURL: StaticPrefix}
	rt := h.p.Tenant(ctx)
	if t := rt.Tenant; t != nil {
		b.TenantName = t.Name
		b.DisplayName = t.DisplayName
		if _, ok := logoSource(t.Settings.LogoURL); ok {
			b.LogoURL = t.Settings.LogoURL
		}
		if _, version, ok := templates.BrandingStylesheet(t.Settings.AccentColor); ok {
			b.AccentColor = t.Settings.AccentColor
			// Relative to the tenant's root, like the cookies: the page
			// and its stylesheet share an origin whatever the public URL
			// says, so "style-src 'self'" always lets it load.
			b.StylesheetURL = rt.CookiePath + strings.TrimPrefix(PathBrandingCSS, "/") + "?v=" + version
		}
	}
	return b
}

// WantsHTML reports whether the client prefers an HTML page to JSON, by
// its Accept header (RFC 9110 §12.5.1): text/html must be named, with a
// quality above zero and above that of application/json. A tie goes to
// HTML only when application/json matched through a wildcard: a browser's
// navigation sends "text/html,…,*/*;q=0.8"; curl and fetch() send "*/*",
// and an API client naming both gets JSON. Callers set "Vary: Accept".
func WantsHTML(r *http.Request) bool {
	htmlQ, jsonQ := 0.0, 0.0
	jsonRank := 0 // 0 unmatched, 1 */*, 2 application/*, 3 application/json
	for _, v := range r.Header.Values("Accept") {
		for part := range strings.SplitSeq(v, ",") {
			mediaType, params, _ := strings.Cut(part, ";")
			q := acceptQuality(params)
			rank := 0
			switch strings.ToLower(strings.TrimSpace(mediaType)) {
			case "text/html":
				htmlQ = max(htmlQ, q)
			case "application/json":
				rank = 3
			case "application/*":
				rank = 2
			case "*/*":
				rank = 1
			}
			if rank > jsonRank {
				jsonRank, jsonQ = rank, q
			}
		}
	}
	return htmlQ > 0 && (htmlQ > jsonQ || (htmlQ == jsonQ && jsonRank < 3))
}

// acceptQuality is the q parameter of one Accept element: 1 when absent,
// 0 when malformed (a garbled preference counts as none).
func acceptQuality(params string) float64 {
	for p := range strings.SplitSeq(params, ";") {
		k, v, ok := strings.Cut(p, "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "q") {
			continue
		}
		q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || q < 0 || q > 1 {
			return 0
		}
		return q
	}
	return 1
}

// logoSource is what the page CSP's img-src must allow for a tenant's
// logo: "" for a path on Herald's own origin ('self' covers it), the
// origin of an https URL. ok is false for anything else, and for an origin
// that is not a plain host name or address with a port: a logo that
// cannot be allowed without loosening the policy is not shown.
func logoSource(raw string) (source string, ok bool) {
	if raw == "" {
		return "", false
	}
	if strings.HasPrefix(raw, "/") && !strings.HasPrefix(raw, "//") && !strings.Contains(raw, "\\") {
		return "", true
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.User != nil || !plainHost.MatchString(u.Host) {
		return "", false
	}
	return "https://" + strings.ToLower(u.Host), true
}

// plainHost is a DNS name or IPv4 address, or a bracketed IPv6 address,
// with an optional port: nothing that could end a CSP source expression
// (';', ',', spaces) or widen it ('*').
var plainHost = regexp.MustCompile(`^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$`)

// pageCSPFor is pageCSP with the origin of the tenant's logo added to
// img-src.
func pageCSPFor(logoURL string) string {
	src, ok := logoSource(logoURL)
	if !ok || src == "" {
		return pageCSP
	}
	return strings.Replace(pageCSP, "img-src 'self' data:", "img-src 'self' data: "+src, 1)
}

// setCookie sets a cookie scoped to the request's tenant: /t/{name}/ or,
// for a tenant's own hostname, that host. Cookies of tenant A are never
// sent to tenant B (checklist G4); the trailing slash matters, /t/acme/ does
// not match /t/acme-evil.
//
// name is the cookie's base name; cookieName adds the __Host- prefix where
// it applies.
func (h *Handler) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge time.Duration) {
	c := &http.Cookie{
		Name:     h.cookieName(r.Context(), name),
		Value:    value,
		Path:     h.p.Tenant(r.Context()).CookiePath,
		HttpOnly: true,
		Secure:   h.secureCookies,
		SameSite: http.SameSiteLaxMode,
	}
	if maxAge < 0 {
		c.MaxAge = -1
	} else if maxAge > 0 {
		c.MaxAge = int(maxAge.Seconds())
	}
	http.SetCookie(w, c)
}

// cookieName is the name of the cookie called base for the request's
// tenant. Over https, a tenant at its own hostname (cookies at Path=/, no
// Domain, Secure) uses the __Host- prefix: browsers then accept the cookie
// only from that very host over https, so neither a sibling subdomain nor
// a network attacker on plain http can plant or overwrite it (RFC 6265bis
// §4.1.3.2). Path tenants (/t/{name}/) keep the plain name: __Host-
// requires Path=/, and widening the path would send every tenant's
// cookies to every other tenant on the shared host (checklist G4).
func (h *Handler) cookieName(ctx context.Context, base string) string {
	if h.secureCookies && h.p.Tenant(ctx).CookiePath == "/" {
		return "__Host-" + base
	}
	return base
}

// cookie returns the value of the request's cookie called base (see
// cookieName), or "".
func (h *Handler) cookie(r *http.Request, base string) string {
	c, err := r.Cookie(h.cookieName(r.Context(), base))
	if err != nil {
		return ""
	}
	return c.Value
}

// csrfToken returns the form token for a browser, creating its CSRF cookie
// if needed. The token is an HMAC of the cookie and the form's purpose, so
// a token for one auth request cannot be replayed on another, and an
// attacker who can plant a cookie still cannot compute a matching token.
func (h *Handler) csrfToken(w http.ResponseWriter, r *http.Request, purpose string) string {
	value := h.cookie(r, csrfCookie)
	if len(value) < 32 {
		value = randomToken(32)
		h.setCookie(w, r, csrfCookie, value, 0)
		// Later tokens of this response (and the pending sign-in's MAC)
		// must use the same cookie value.
		r.AddCookie(&http.Cookie{Name: h.cookieName(r.Context(), csrfCookie), Value: value})
	}
	return h.csrfMAC(value, purpose)
}

func (h *Handler) csrfMAC(cookie, purpose string) string {
	m := hmac.New(sha256.New, h.csrfKey)
	m.Write([]byte(cookie))
	m.Write([]byte{0})
	m.Write([]byte(purpose))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// validCSRF checks the form's token against the browser's cookie in
// constant time.
func (h *Handler) validCSRF(r *http.Request, purpose string) bool {
	value := h.cookie(r, csrfCookie)
	if len(value) < 32 {
		return false
	}
	want := h.csrfMAC(value, purpose)
	return hmac.Equal([]byte(want), []byte(r.PostForm.Get(csrfField)))
}

// randomToken returns n bytes from crypto/rand, base64url-encoded: auth
// request IDs, session and CSRF cookie values.
func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms (Go ≥1.24)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// sessionID is how a session cookie is stored: its SHA-256, so that a
// database leak yields no usable cookie (the same digest op uses for codes
// and tokens).
func sessionID(cookie string) string {
	sum := sha256.Sum256([]byte(cookie))
	return hex.EncodeToString(sum[:])
}

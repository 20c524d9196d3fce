package login

import (
	"bytes"
	"net/http"
	"time"

	"github.com/herald-idp/herald/templates"
)

// PathBrandingCSS is the tenant's stylesheet, relative to its issuer: the
// accent colour of its pages. A file, not inline style, because the pages'
// CSP allows styles from 'self' only (pages.go pageCSP).
const PathBrandingCSS = "/branding.css"

// Cache lifetimes of the stylesheet. Pages link it as branding.css?v=<version>,
// so a request naming the current version may be cached for good: a new
// colour makes a new URL. Any other request (no or an old version) is
// cached briefly and revalidated with its ETag (304 Not Modified).
const (
	brandingCacheVersioned = "public, max-age=31536000, immutable"
	brandingCacheOther     = "public, max-age=300"
)

// handleBrandingCSS serves the request's tenant's stylesheet with a strong
// ETag (its content hash). http.ServeContent answers If-None-Match with
// 304, and HEAD and ranges as for any file.
func (h *Handler) handleBrandingCSS(w http.ResponseWriter, r *http.Request) {
	var accent string
	if t := h.p.Tenant(r.Context()).Tenant; t != nil {
		accent = t.Settings.AccentColor
	}
	css, version, _ := templates.BrandingStylesheet(accent)
	hdr := w.Header()
	hdr.Set("Content-Type", "text/css; charset=utf-8")
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("ETag", `"`+version+`"`)
	if r.URL.Query().Get("v") == version {
		hdr.Set("Cache-Control", brandingCacheVersioned)
	} else {
		hdr.Set("Cache-Control", brandingCacheOther)
	}
	http.ServeContent(w, r, "branding.css", time.Time{}, bytes.NewReader(css))
}

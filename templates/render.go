package templates

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"strings"
)

//go:embed pages/*.html
var pageFiles embed.FS

//go:embed static
var staticFiles embed.FS

// Static is the embedded static directory (herald.css at its root), to be
// served under Branding.StaticURL.
var Static fs.FS = mustSub(staticFiles, "static")

// ErrUnknownPage is returned (wrapped) by Render for a value that is not one
// of this package's page types.
var ErrUnknownPage = errors.New("templates: unknown page type")

// defaultStaticURL is used when Branding.StaticURL is empty, so a forgotten
// field still yields a working stylesheet link rather than "/herald.css".
const defaultStaticURL = "/static"

// layoutFile is the shared skeleton; every page file defines the "title" and
// "content" blocks it declares.
const layoutFile = "layout.html"

// funcs are the helpers the templates may call. They return plain strings so
// html/template still escapes them for the context they land in.
var funcs = template.FuncMap{
	"displayName": displayName,
	"staticURL":   staticURL,
	"shorten":     shorten,
}

// Parsed once at init: the files are embedded, so a parse error is a build
// defect that the package tests catch, and must not be a runtime condition.
var (
	loginTemplate         = mustPage("login.html")
	consentTemplate       = mustPage("consent.html")
	errorTemplate         = mustPage("error.html")
	logoutConfirmTemplate = mustPage("logout_confirm.html")
	loggedOutTemplate     = mustPage("logged_out.html")
	accountTemplate       = mustPage("account.html")
)

// Render executes the page's template into w. It returns an error for an
// unknown page type. page may be a page value or a non-nil pointer to one.
//
// The page is rendered into a buffer first, so a template error never leaves
// a half-written page on w (the caller can still send a clean error response).
func Render(w io.Writer, page any) error {
	tmpl, data, err := templateFor(page)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := tmpl.ExecuteTemplate(&buf, layoutFile, data); err != nil {
		return fmt.Errorf("templates: render %T: %w", data, err)
	}
	if _, err := buf.WriteTo(w); err != nil {
		return fmt.Errorf("templates: write %T: %w", data, err)
	}
	return nil
}

// templateFor maps a page value to its template and the value to execute it
// with, dereferencing pointers so templates see one shape.
func templateFor(page any) (*template.Template, any, error) {
	if p, ok := page.(namedPage); ok && p != nil {
		return p.pageTemplate(), page, nil
	}
	switch p := page.(type) {
	case LoginPage:
		return loginTemplate, p, nil
	case *LoginPage:
		if p != nil {
			return loginTemplate, *p, nil
		}
	case ConsentPage:
		return consentTemplate, p, nil
	case *ConsentPage:
		if p != nil {
			return consentTemplate, *p, nil
		}
	case ErrorPage:
		return errorTemplate, p, nil
	case *ErrorPage:
		if p != nil {
			return errorTemplate, *p, nil
		}
	case LogoutConfirmPage:
		return logoutConfirmTemplate, p, nil
	case *LogoutConfirmPage:
		if p != nil {
			return logoutConfirmTemplate, *p, nil
		}
	case LoggedOutPage:
		return loggedOutTemplate, p, nil
	case *LoggedOutPage:
		if p != nil {
			return loggedOutTemplate, *p, nil
		}
	case AccountPage:
		return accountTemplate, p, nil
	case *AccountPage:
		if p != nil {
			return accountTemplate, *p, nil
		}
	}
	return nil, nil, fmt.Errorf("%w %T", ErrUnknownPage, page)
}

// displayName is the tenant name shown on every page; "Herald" on a page
// outside any tenant (an unknown tenant, a path nothing serves).
func displayName(b Branding) string {
	switch {
	case b.DisplayName != "":
		return b.DisplayName
	case b.TenantName != "":
		return b.TenantName
	}
	return "Herald"
}

// staticURL is the prefix for static assets without a trailing slash, so the
// templates can append "/herald.css" ("/" therefore becomes "").
func staticURL(b Branding) string {
	if b.StaticURL == "" {
		return defaultStaticURL
	}
	return strings.TrimRight(b.StaticURL, "/")
}

// mustPage parses the shared layout plus one page file into a template set of
// its own, so the pages' "title"/"content" definitions do not collide.
func mustPage(file string) *template.Template {
	t := template.New(layoutFile).Funcs(funcs)
	return template.Must(t.ParseFS(pageFiles, "pages/"+layoutFile, "pages/"+file))
}

func mustSub(fsys fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(fmt.Sprintf("templates: embedded %s: %v", dir, err))
	}
	return sub
}

package templates

import (
	"bytes"
	"errors"
	"io/fs"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

var testBranding = Branding{
	TenantName:  "acme",
	DisplayName: "Acme Corp",
	StaticURL:   "/static",
}

// everyPage is one filled-in value of each page type, with the text its <h1>
// must contain.
func everyPage() []struct {
	name    string
	page    any
	heading string
} {
	return []struct {
		name    string
		page    any
		heading string
	}{
		{"login", LoginPage{Branding: testBranding, ActionURL: "/acme/login", CSRFToken: "csrf-1", AuthRequestID: "ar-1", ClientName: "Photos", Username: "alice", Error: "Wrong username or password."}, "Sign in"},
		{"consent", ConsentPage{Branding: testBranding, ActionURL: "/acme/consent", CSRFToken: "csrf-1", AuthRequestID: "ar-1", ClientName: "Photos", Scopes: []ScopeView{{Name: "openid", Description: ScopeDescription("openid")}}}, "Photos wants to access your account"},
		{"error", ErrorPage{Branding: testBranding, Title: "Invalid request", Message: "The link you followed is not valid.", RequestID: "req-42"}, "Invalid request"},
		{"logout_confirm", LogoutConfirmPage{Branding: testBranding, ActionURL: "/acme/logout", CSRFToken: "csrf-1", ClientName: "Photos", ClientID: "photos"}, "Sign out of Acme Corp?"},
		{"logged_out", LoggedOutPage{Branding: testBranding}, "You have been signed out."},
		{"account", AccountPage{Branding: testBranding, CSRFToken: "csrf-1", Username: "alice", Name: "Alice", Email: "alice@example.com",
			Notice: "Your password was changed.", PasswordError: "Too short.", PasswordURL: "/acme/account/password",
			EndSessionURL: "/acme/account/sessions/end", WithdrawURL: "/acme/account/apps/withdraw", SignOutURL: "/acme/account/signout",
			MFAURL: "/acme/account/mfa", PasswordMinLength: 12,
			Sessions: []AccountSession{{Handle: "h1", Device: "Firefox on Linux", SignedIn: "just now", LastUsed: "just now", Current: true},
				{Handle: "h2", Device: "Safari on iOS", SignedIn: "2 days ago", LastUsed: "yesterday"}},
			Apps: []AccountApp{{ClientID: "photos", Name: "Photos", Since: "yesterday", Scopes: []ScopeView{{Name: "email", Description: ScopeDescription("email")}}}},
		}, "Your account"},
	}
}

// TestEveryPageRenders checks the invariants every page shares: document
// shell, stylesheet link, tenant name, and nothing the CSP would block.
func TestEveryPageRenders(t *testing.T) {
	for _, tc := range everyPage() {
		t.Run(tc.name, func(t *testing.T) {
			r := mustRender(t, tc.page)

			if !strings.HasPrefix(r.raw, "<!DOCTYPE html>") {
				t.Errorf("output does not start with <!DOCTYPE html>: %.40q", r.raw)
			}
			htmls := elements(r.doc, "html")
			if len(htmls) != 1 {
				t.Fatalf("want one <html>, got %d", len(htmls))
			}
			wantAttr(t, htmls[0], "lang", "en")

			viewports := findAll(r.doc, func(n *html.Node) bool {
				name, _ := attr(n, "name")
				return n.Data == "meta" && name == "viewport"
			})
			if len(viewports) != 1 {
				t.Errorf("want one <meta name=viewport>, got %d", len(viewports))
			}

			stylesheets := findAll(r.doc, func(n *html.Node) bool {
				rel, _ := attr(n, "rel")
				return n.Data == "link" && rel == "stylesheet"
			})
			if len(stylesheets) != 1 {
				t.Fatalf("want one stylesheet link, got %d", len(stylesheets))
			}
			wantAttr(t, stylesheets[0], "href", "/static/herald.css")

			h1s := elements(r.doc, "h1")
			if len(h1s) != 1 {
				t.Fatalf("want one <h1>, got %d", len(h1s))
			}
			if got := text(h1s[0]); !strings.Contains(got, tc.heading) {
				t.Errorf("<h1> = %q, want it to contain %q", got, tc.heading)
			}
			if body := r.body(t); !strings.Contains(body, "Acme Corp") {
				t.Errorf("body does not show the tenant display name: %q", body)
			}
			if title := text(elements(r.doc, "title")[0]); !strings.Contains(title, "Acme Corp") {
				t.Errorf("<title> = %q, want the tenant display name in it", title)
			}
			assertCSPSafe(t, r)
		})
	}
}

// assertCSPSafe fails if the page contains anything the login-page CSP
// (default-src 'none'; style-src 'self'; no script) would block or that
// would need JavaScript.
func assertCSPSafe(t *testing.T, r rendered) {
	t.Helper()
	lower := strings.ToLower(r.raw)
	for _, banned := range []string{"<script", " style=", "<style", "javascript:", "<base"} {
		if strings.Contains(lower, banned) {
			t.Errorf("output contains %q", banned)
		}
	}
	for _, n := range findAll(r.doc, func(*html.Node) bool { return true }) {
		for _, a := range n.Attr {
			if a.Key == "style" || strings.HasPrefix(a.Key, "on") {
				t.Errorf("<%s> has attribute %s=%q", n.Data, a.Key, a.Val)
			}
		}
	}
}

func TestLoginForm(t *testing.T) {
	r := mustRender(t, LoginPage{
		Branding: testBranding, ActionURL: "/acme/login", CSRFToken: "csrf-1",
		AuthRequestID: "ar-1", ClientName: "Photos", Username: "alice",
	})
	form := r.form(t)
	wantAttr(t, form, "method", "post")
	wantAttr(t, form, "action", "/acme/login")

	in := r.inputs(t)
	for _, want := range []struct{ name, typ, value, autocomplete string }{
		{"csrf_token", "hidden", "csrf-1", ""},
		{"auth_request_id", "hidden", "ar-1", ""},
		{"username", "text", "alice", "username"},
		{"password", "password", "", "current-password"},
	} {
		n, ok := in[want.name]
		if !ok {
			t.Errorf("no input named %q", want.name)
			continue
		}
		wantAttr(t, n, "type", want.typ)
		if want.value != "" {
			wantAttr(t, n, "value", want.value)
		}
		if want.autocomplete != "" {
			wantAttr(t, n, "autocomplete", want.autocomplete)
		}
	}
	if _, ok := attr(in["password"], "value"); ok {
		t.Error("password input must never carry a value")
	}
	if len(in) != 4 {
		t.Errorf("want exactly 4 named inputs, got %d", len(in))
	}

	// Every visible input has a <label for> pointing at its id.
	labels := map[string]string{}
	for _, l := range elements(r.doc, "label") {
		if f, ok := attr(l, "for"); ok {
			labels[f] = text(l)
		}
	}
	for _, name := range []string{"username", "password"} {
		id, ok := attr(in[name], "id")
		if !ok || labels[id] == "" {
			t.Errorf("input %q has no associated <label>", name)
		}
	}

	buttons := elements(form, "button")
	if len(buttons) != 1 || text(buttons[0]) != "Sign in" {
		t.Fatalf("want one button \"Sign in\", got %d", len(buttons))
	}
	wantAttr(t, buttons[0], "type", "submit")

	if body := r.body(t); !strings.Contains(body, "Sign in to continue to Photos") {
		t.Errorf("body does not name the client: %q", body)
	}
}

func TestLoginError(t *testing.T) {
	tests := []struct {
		name       string
		err        string
		wantAlerts int
	}{
		{"no error", "", 0},
		{"with error", "Wrong username or password.", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := mustRender(t, LoginPage{Branding: testBranding, Error: tc.err})
			alerts := findAll(r.doc, func(n *html.Node) bool {
				role, _ := attr(n, "role")
				return role == "alert"
			})
			if len(alerts) != tc.wantAlerts {
				t.Fatalf("want %d role=alert elements, got %d", tc.wantAlerts, len(alerts))
			}
			if tc.wantAlerts == 1 && text(alerts[0]) != tc.err {
				t.Errorf("alert text = %q, want %q", text(alerts[0]), tc.err)
			}
		})
	}
}

func TestConsentForm(t *testing.T) {
	r := mustRender(t, ConsentPage{
		Branding: testBranding, ActionURL: "/acme/consent", CSRFToken: "csrf-1",
		AuthRequestID: "ar-1", ClientName: "Photos",
		Scopes: []ScopeView{
			{Name: "openid", Description: ScopeDescription("openid")},
			{Name: "email", Description: ScopeDescription("email")},
			{Name: "photos:read"},
		},
	})
	form := r.form(t)
	wantAttr(t, form, "method", "post")
	wantAttr(t, form, "action", "/acme/consent")
	in := r.inputs(t)
	wantAttr(t, in["csrf_token"], "value", "csrf-1")
	wantAttr(t, in["csrf_token"], "type", "hidden")
	wantAttr(t, in["auth_request_id"], "value", "ar-1")
	wantAttr(t, in["auth_request_id"], "type", "hidden")

	items := elements(r.doc, "li")
	if len(items) != 3 {
		t.Fatalf("want 3 scope items, got %d", len(items))
	}
	for i, want := range []string{"See your email address and whether it is verified email", "photos:read"} {
		if got := text(items[i+1]); got != want {
			t.Errorf("scope item %d = %q, want %q", i+1, got, want)
		}
	}

	got := r.decisionButtons(t)
	want := map[string]string{"allow": "Allow", "deny": "Deny"}
	if len(got) != len(want) || got["allow"] != want["allow"] || got["deny"] != want["deny"] {
		t.Errorf("decision buttons = %v, want %v", got, want)
	}
}

func TestLogoutConfirmHiddenFields(t *testing.T) {
	passThrough := []string{"client_id", "post_logout_redirect_uri", "state", "id_token_hint"}
	tests := []struct {
		name string
		page LogoutConfirmPage
		want map[string]string // every pass-through field present, with its value
	}{
		{
			name: "all set",
			page: LogoutConfirmPage{ClientID: "photos", PostLogoutRedirectURI: "https://photos.example/bye", State: "st-1", IDTokenHint: "eyJ.a.b"},
			want: map[string]string{"client_id": "photos", "post_logout_redirect_uri": "https://photos.example/bye", "state": "st-1", "id_token_hint": "eyJ.a.b"},
		},
		{
			name: "none set",
			page: LogoutConfirmPage{},
			want: map[string]string{},
		},
		{
			name: "only state and hint",
			page: LogoutConfirmPage{State: "st-1", IDTokenHint: "eyJ.a.b"},
			want: map[string]string{"state": "st-1", "id_token_hint": "eyJ.a.b"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.page.Branding = testBranding
			tc.page.ActionURL = "/acme/logout"
			tc.page.CSRFToken = "csrf-1"
			r := mustRender(t, tc.page)
			wantAttr(t, r.form(t), "action", "/acme/logout")
			in := r.inputs(t)
			wantAttr(t, in["csrf_token"], "value", "csrf-1")
			for _, name := range passThrough {
				n, present := in[name]
				wantValue, wantPresent := tc.want[name]
				if present != wantPresent {
					t.Errorf("input %q present = %v, want %v", name, present, wantPresent)
					continue
				}
				if present {
					wantAttr(t, n, "type", "hidden")
					wantAttr(t, n, "value", wantValue)
				}
			}
			got := r.decisionButtons(t)
			if len(got) != 2 || got["logout"] != "Sign out" || got["cancel"] != "Cancel" {
				t.Errorf("decision buttons = %v, want logout=Sign out, cancel=Cancel", got)
			}
		})
	}
}

func TestErrorPage(t *testing.T) {
	tests := []struct {
		name        string
		page        ErrorPage
		wantHeading string
		wantText    []string
		wantAbsent  []string
	}{
		{"full", ErrorPage{Title: "Invalid request", Message: "The link is not valid.", RequestID: "req-42"}, "Invalid request", []string{"The link is not valid.", "req-42"}, nil},
		{"no request id", ErrorPage{Title: "Invalid request", Message: "The link is not valid."}, "Invalid request", []string{"The link is not valid."}, []string{"request ID"}},
		{"default title", ErrorPage{Message: "Try again later."}, "Something went wrong", []string{"Try again later."}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.page.Branding = testBranding
			r := mustRender(t, tc.page)
			if got := text(elements(r.doc, "h1")[0]); got != tc.wantHeading {
				t.Errorf("<h1> = %q, want %q", got, tc.wantHeading)
			}
			body := r.body(t)
			for _, s := range tc.wantText {
				if !strings.Contains(body, s) {
					t.Errorf("body lacks %q: %q", s, body)
				}
			}
			for _, s := range tc.wantAbsent {
				if strings.Contains(body, s) {
					t.Errorf("body contains %q: %q", s, body)
				}
			}
			if forms := elements(r.doc, "form"); len(forms) != 0 {
				t.Errorf("error page has %d forms, want none", len(forms))
			}
		})
	}
}

func TestBranding(t *testing.T) {
	tests := []struct {
		name         string
		branding     Branding
		wantName     string
		wantCSS      string
		wantLogoSrc  string // "" means no <img>
		wantNotInDoc string
	}{
		{"display name wins", Branding{TenantName: "acme", DisplayName: "Acme Corp", StaticURL: "/static"}, "Acme Corp", "/static/herald.css", "", ""},
		{"tenant name fallback", Branding{TenantName: "acme", StaticURL: "/static"}, "acme", "/static/herald.css", "", ""},
		{"trailing slash on static url", Branding{TenantName: "acme", StaticURL: "/assets/"}, "acme", "/assets/herald.css", "", ""},
		{"empty static url defaults", Branding{TenantName: "acme"}, "acme", "/static/herald.css", "", ""},
		{"logo", Branding{TenantName: "acme", LogoURL: "https://cdn.example/logo.png"}, "acme", "/static/herald.css", "https://cdn.example/logo.png", ""},
		{"javascript logo is neutralised", Branding{TenantName: "acme", LogoURL: "javascript:alert(1)"}, "acme", "/static/herald.css", "#ZgotmplZ", "alert(1)"},
		{"accent colour is never inline", Branding{TenantName: "acme", AccentColor: "#ff00aa"}, "acme", "/static/herald.css", "", "#ff00aa"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := mustRender(t, LoggedOutPage{Branding: tc.branding})
			brand := findAll(r.doc, func(n *html.Node) bool {
				class, _ := attr(n, "class")
				return class == "brand-name"
			})
			if len(brand) != 1 || text(brand[0]) != tc.wantName {
				t.Errorf("brand name elements = %d, want one with text %q", len(brand), tc.wantName)
			}
			wantAttr(t, elements(r.doc, "link")[0], "href", tc.wantCSS)
			imgs := elements(r.doc, "img")
			switch {
			case tc.wantLogoSrc == "" && len(imgs) != 0:
				t.Errorf("want no <img>, got %d", len(imgs))
			case tc.wantLogoSrc != "":
				if len(imgs) != 1 {
					t.Fatalf("want one <img>, got %d", len(imgs))
				}
				wantAttr(t, imgs[0], "src", tc.wantLogoSrc)
				if _, ok := attr(imgs[0], "alt"); !ok {
					t.Error("logo <img> has no alt attribute")
				}
			}
			if tc.wantNotInDoc != "" && strings.Contains(r.raw, tc.wantNotInDoc) {
				t.Errorf("output contains %q", tc.wantNotInDoc)
			}
			assertCSPSafe(t, r)
		})
	}
}

// TestRenderAcceptsPointers: handlers may pass &Page{}; a nil pointer is an
// error, not a panic or a half page.
func TestRenderAcceptsPointers(t *testing.T) {
	for _, page := range []any{
		&LoginPage{Branding: testBranding}, &ConsentPage{Branding: testBranding},
		&ErrorPage{Branding: testBranding}, &LogoutConfirmPage{Branding: testBranding},
		&LoggedOutPage{Branding: testBranding},
	} {
		r := mustRender(t, page)
		if !strings.Contains(r.body(t), "Acme Corp") {
			t.Errorf("%T: body does not show the tenant", page)
		}
	}
}

func TestRenderUnknownPageType(t *testing.T) {
	for _, page := range []any{
		nil, struct{}{}, "login", 42, Branding{}, ScopeView{},
		(*LoginPage)(nil), (*ConsentPage)(nil), (*ErrorPage)(nil),
		(*LogoutConfirmPage)(nil), (*LoggedOutPage)(nil),
	} {
		var buf bytes.Buffer
		err := Render(&buf, page)
		if !errors.Is(err, ErrUnknownPage) {
			t.Errorf("Render(%T) error = %v, want ErrUnknownPage", page, err)
		}
		if buf.Len() != 0 {
			t.Errorf("Render(%T) wrote %d bytes despite the error", page, buf.Len())
		}
	}
}

type failingWriter struct{}

var errWrite = errors.New("connection reset")

func (failingWriter) Write([]byte) (int, error) { return 0, errWrite }

func TestRenderReportsWriteError(t *testing.T) {
	if err := Render(failingWriter{}, LoggedOutPage{Branding: testBranding}); !errors.Is(err, errWrite) {
		t.Fatalf("Render error = %v, want it to wrap the writer's error", err)
	}
}

func TestStatic(t *testing.T) {
	css, err := fs.ReadFile(Static, "herald.css")
	if err != nil {
		t.Fatalf("Static has no herald.css at its root: %v", err)
	}
	if len(css) == 0 {
		t.Fatal("herald.css is empty")
	}
	// style-src 'self' would block any external stylesheet or font import.
	for _, banned := range []string{"@import", "http:", "https:", "//fonts."} {
		if bytes.Contains(css, []byte(banned)) {
			t.Errorf("herald.css references %q; the CSP only allows same-origin styles", banned)
		}
	}
	// Nothing but the stylesheet and Herald's mark (a logo a tenant may
	// name as /static/herald.svg, e.g. the demo's) is served as static
	// content.
	entries, err := fs.ReadDir(Static, ".")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, ",") != "herald.css,herald.svg" {
		t.Errorf("Static has %v, want herald.css and herald.svg", names)
	}
	// The mark is an image: no script, event handler or outside reference
	// (served same-origin, it must be as inert as the stylesheet).
	svg, err := fs.ReadFile(Static, "herald.svg")
	if err != nil {
		t.Fatal(err)
	}
	for _, banned := range []string{"<script", " on", "href", "<foreignObject", "@import"} {
		if bytes.Contains(svg, []byte(banned)) {
			t.Errorf("herald.svg contains %q", banned)
		}
	}
}

func TestScopeDescription(t *testing.T) {
	tests := []struct {
		scope    string
		standard bool
	}{
		{"openid", true},
		{"profile", true},
		{"email", true},
		{"offline_access", true},
		{"OpenID", false}, // scope tokens are case-sensitive (RFC 6749 §3.3)
		{"photos:read", false},
		{"", false},
	}
	seen := map[string]string{}
	for _, tc := range tests {
		got := ScopeDescription(tc.scope)
		if !tc.standard {
			if got != tc.scope {
				t.Errorf("ScopeDescription(%q) = %q, want the scope name", tc.scope, got)
			}
			continue
		}
		if got == "" || got == tc.scope {
			t.Errorf("ScopeDescription(%q) = %q, want a human description", tc.scope, got)
		}
		if other, dup := seen[got]; dup {
			t.Errorf("%q and %q share the description %q", tc.scope, other, got)
		}
		seen[got] = tc.scope
	}
}

package templates

import (
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// Values a hostile client registration, tenant admin or request parameter
// could put into a page. Each must come out as inert text: present to the
// reader exactly as given, never as markup.
var hostileValues = []string{
	`<script>alert(1)</script>`,
	`"><img src=x onerror=alert(1)>`,
	`He said "hi" & 'bye' <b>bold</b>`,
	`</title><script>alert(1)</script>`,
}

// TestUserValuesAreEscaped fills every user-controlled string of every page
// with a hostile value and checks (1) the raw bytes never contain it
// verbatim, (2) the parsed document has no script, event handler or injected
// element, and (3) the value round-trips exactly as text or attribute value,
// so escaping is correct rather than lossy.
func TestUserValuesAreEscaped(t *testing.T) {
	pages := []struct {
		name string
		page func(v string) any
		// hiddenOrValue lists inputs whose value attribute must equal v.
		hiddenOrValue []string
	}{
		{
			name: "login",
			page: func(v string) any {
				return LoginPage{Branding: hostileBranding(v), ActionURL: "/login", CSRFToken: v, AuthRequestID: v, ClientName: v, Username: v, Error: v}
			},
			hiddenOrValue: []string{"csrf_token", "auth_request_id", "username"},
		},
		{
			name: "consent",
			page: func(v string) any {
				return ConsentPage{Branding: hostileBranding(v), ActionURL: "/consent", CSRFToken: v, AuthRequestID: v, ClientName: v, Scopes: []ScopeView{{Name: v, Description: v + " description"}}}
			},
			hiddenOrValue: []string{"csrf_token", "auth_request_id"},
		},
		{
			name: "error",
			page: func(v string) any {
				return ErrorPage{Branding: hostileBranding(v), Title: v, Message: v, RequestID: v}
			},
		},
		{
			name: "logout_confirm",
			page: func(v string) any {
				return LogoutConfirmPage{Branding: hostileBranding(v), ActionURL: "/logout", CSRFToken: v, ClientName: v, ClientID: v, PostLogoutRedirectURI: v, State: v, IDTokenHint: v}
			},
			hiddenOrValue: []string{"csrf_token", "client_id", "post_logout_redirect_uri", "state", "id_token_hint"},
		},
		{
			name: "logged_out",
			page: func(v string) any { return LoggedOutPage{Branding: hostileBranding(v)} },
		},
	}
	for _, p := range pages {
		for _, v := range hostileValues {
			t.Run(p.name+"/"+v, func(t *testing.T) {
				r := mustRender(t, p.page(v))

				if strings.Contains(r.raw, v) {
					t.Errorf("raw output contains the value unescaped")
				}
				assertCSPSafe(t, r)
				if n := len(elements(r.doc, "img")) + len(elements(r.doc, "b")); n != 0 {
					t.Errorf("value injected %d elements", n)
				}
				if got := len(elements(r.doc, "title")); got != 1 {
					t.Errorf("want one <title>, got %d (value escaped its context)", got)
				}
				if body := r.body(t); !strings.Contains(body, v) {
					t.Errorf("body text does not show the value verbatim: %q", body)
				}
				in := r.inputs(t)
				for _, name := range p.hiddenOrValue {
					n, ok := in[name]
					if !ok {
						t.Errorf("no input %q", name)
						continue
					}
					wantAttr(t, n, "value", v)
				}
			})
		}
	}
}

// hostileBranding puts v in the tenant's display name; the other Branding
// fields are URLs, covered by TestURLValuesAreSanitised.
func hostileBranding(v string) Branding {
	return Branding{TenantName: "acme", DisplayName: v, StaticURL: "/static"}
}

// TestLoginErrorQuotesEscaped pins the byte-level form: quotes in the error
// message are entity-encoded, not emitted raw.
func TestLoginErrorQuotesEscaped(t *testing.T) {
	r := mustRender(t, LoginPage{Branding: testBranding, Error: `Account "bob" is locked`})
	if strings.Contains(r.raw, `"bob"`) {
		t.Error(`raw output contains "bob" with unescaped quotes`)
	}
	if !strings.Contains(r.raw, `&#34;bob&#34;`) {
		t.Error("quotes in Error are not entity-encoded")
	}
}

// TestURLValuesAreSanitised: URL-typed fields (form action, stylesheet prefix,
// logo) cannot carry a javascript: URL or break out of their attribute.
func TestURLValuesAreSanitised(t *testing.T) {
	tests := []struct {
		name string
		page any
		// find returns the element holding the URL and the attribute name.
		find func(r rendered) (*html.Node, string)
	}{
		{
			name: "login action javascript",
			page: LoginPage{Branding: testBranding, ActionURL: "javascript:alert(1)"},
			find: func(r rendered) (*html.Node, string) { return elements(r.doc, "form")[0], "action" },
		},
		{
			name: "logout action breaks attribute",
			page: LogoutConfirmPage{Branding: testBranding, ActionURL: `/logout"><script>alert(1)</script>`},
			find: func(r rendered) (*html.Node, string) { return elements(r.doc, "form")[0], "action" },
		},
		{
			name: "static url javascript",
			page: LoggedOutPage{Branding: Branding{TenantName: "acme", StaticURL: "javascript:alert(1)//"}},
			find: func(r rendered) (*html.Node, string) { return elements(r.doc, "link")[0], "href" },
		},
		{
			name: "logo breaks attribute",
			page: LoggedOutPage{Branding: Branding{TenantName: "acme", LogoURL: `https://x.example/a.png" onerror="alert(1)`}},
			find: func(r rendered) (*html.Node, string) { return elements(r.doc, "img")[0], "src" },
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := mustRender(t, tc.page)
			assertCSPSafe(t, r)
			n, key := tc.find(r)
			v, _ := attr(n, key)
			if strings.HasPrefix(strings.ToLower(v), "javascript:") || strings.ContainsAny(v, `"<>`) {
				t.Errorf("%s = %q: unsafe URL survived", key, v)
			}
		})
	}
}

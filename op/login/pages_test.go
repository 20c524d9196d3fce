package login

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestCSRF(t *testing.T) {
	h := &Handler{p: fakeProvider{}, csrfKey: []byte("0123456789abcdef0123456789abcdef")}
	other := &Handler{p: fakeProvider{}, csrfKey: []byte("another key, another installation")}
	cookie := strings.Repeat("c", 32)
	token := h.csrfMAC(cookie, "login:ar1")
	post := func(cookieValue, tok string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/t/acme/login", strings.NewReader(url.Values{csrfField: {tok}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if cookieValue != "" {
			r.AddCookie(&http.Cookie{Name: csrfCookie, Value: cookieValue})
		}
		if err := r.ParseForm(); err != nil {
			t.Fatal(err)
		}
		return r
	}
	for _, tc := range []struct {
		name    string
		h       *Handler
		cookie  string
		token   string
		purpose string
		want    bool
	}{
		{"matching", h, cookie, token, "login:ar1", true},
		{"other auth request", h, cookie, token, "login:ar2", false},
		{"other form", h, cookie, token, "consent:ar1", false},
		{"other cookie", h, strings.Repeat("d", 32), token, "login:ar1", false},
		{"no cookie", h, "", token, "login:ar1", false},
		{"short cookie", h, "short", h.csrfMAC("short", "login:ar1"), "login:ar1", false},
		{"empty token", h, cookie, "", "login:ar1", false},
		{"other key", other, cookie, token, "login:ar1", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.h.validCSRF(post(tc.cookie, tc.token), tc.purpose); got != tc.want {
				t.Errorf("validCSRF = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCSRFTokenSetsTenantCookie(t *testing.T) {
	h := &Handler{p: fakeProvider{}, csrfKey: []byte("k"), secureCookies: true}
	w := httptest.NewRecorder()
	tok := h.csrfToken(w, httptest.NewRequest(http.MethodGet, "/t/acme/login", nil), "login:x")
	cookies := w.Result().Cookies()
	if len(cookies) != 1 {
		t.Fatalf("got %d cookies, want the CSRF cookie", len(cookies))
	}
	c := cookies[0]
	for _, check := range []struct {
		what string
		ok   bool
	}{
		{"name", c.Name == csrfCookie},
		{"path scoped to the tenant", c.Path == "/t/acme/"},
		{"HttpOnly", c.HttpOnly},
		{"Secure", c.Secure},
		{"SameSite=Lax", c.SameSite == http.SameSiteLaxMode},
		{"256-bit value", len(c.Value) >= 43},
		{"token is the MAC of the value", tok == h.csrfMAC(c.Value, "login:x")},
	} {
		if !check.ok {
			t.Errorf("CSRF cookie: %s: %+v", check.what, c)
		}
	}
}

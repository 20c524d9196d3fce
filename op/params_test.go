package op

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestRepeatedParam(t *testing.T) {
	for _, tc := range []struct {
		name string
		form url.Values
		want string
	}{
		{"none", url.Values{"grant_type": {"x"}, "code": {"c"}}, ""},
		{"empty form", url.Values{}, ""},
		{"one repeated", url.Values{"grant_type": {"a", "b"}}, "grant_type"},
		{"repeated with the same value", url.Values{"code": {"c", "c"}}, "code"},
		{"alphabetically first of several", url.Values{"scope": {"a", "b"}, "code": {"1", "2"}}, "code"},
		{"resource may repeat (RFC 8707 §2)", url.Values{"resource": {"https://a", "https://b"}}, ""},
		{"resource and another", url.Values{"resource": {"a", "b"}, "state": {"1", "2"}}, "state"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := repeatedParam(tc.form); got != tc.want {
				t.Errorf("repeatedParam(%v) = %q, want %q", tc.form, got, tc.want)
			}
		})
	}
}

// TestCheckFormParams drives the middleware with a next handler that
// records whether it was reached.
func TestCheckFormParams(t *testing.T) {
	const tokenPath = "/t/acme/token"
	for _, tc := range []struct {
		name        string
		method      string
		path        string
		query, body string
		basicID     string // "" for no Basic authentication
		wantStatus  int    // 0: passed on to next
		wantError   string
	}{
		{"single parameters pass", http.MethodPost, tokenPath, "", "grant_type=client_credentials&scope=a", "", 0, ""},
		{"repeated in the body", http.MethodPost, tokenPath, "", "grant_type=a&grant_type=b", "", http.StatusBadRequest, "invalid_request"},
		{"repeated across query and body", http.MethodPost, tokenPath, "code=1", "code=2", "", http.StatusBadRequest, "invalid_request"},
		{"repeated at revocation", http.MethodPost, "/t/acme/revoke", "", "token=a&token=b", "", http.StatusBadRequest, "invalid_request"},
		{"repeated at introspection", http.MethodPost, "/t/acme/introspect", "", "token=a&token=b", "", http.StatusBadRequest, "invalid_request"},
		{"other endpoint is not checked", http.MethodPost, "/t/acme/userinfo", "", "a=1&a=2", "", 0, ""},
		{"GET is not checked", http.MethodGet, tokenPath, "a=1&a=2", "", "", 0, ""},
		{"Basic and the same client_id", http.MethodPost, tokenPath, "", "client_id=web", "web", 0, ""},
		{"Basic and another client_id", http.MethodPost, tokenPath, "", "client_id=evil", "web", http.StatusUnauthorized, "invalid_client"},
		{"Basic form-encoded id matches", http.MethodPost, tokenPath, "", "client_id=a+b", "a%20b", 0, ""},
		{"Basic and a body secret", http.MethodPost, tokenPath, "", "client_secret=s", "web", http.StatusBadRequest, "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			target := tc.path
			if tc.query != "" {
				target += "?" + tc.query
			}
			r := requestAt(tc.method, target, "/t/acme/")
			r.Body = http.NoBody
			if tc.body != "" {
				rr := httptest.NewRequest(tc.method, target, strings.NewReader(tc.body))
				r.Body = rr.Body
				r.ContentLength = rr.ContentLength
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			if tc.basicID != "" {
				r.SetBasicAuth(tc.basicID, "secret")
			}
			reached := false
			w := httptest.NewRecorder()
			checkFormParams(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached = true })).ServeHTTP(w, r)
			if tc.wantStatus == 0 {
				if !reached {
					t.Errorf("refused with %d %s, want passed on", w.Code, w.Body)
				}
				return
			}
			if reached {
				t.Fatalf("passed on, want %d %s", tc.wantStatus, tc.wantError)
			}
			if w.Code != tc.wantStatus {
				t.Errorf("status = %d, want %d", w.Code, tc.wantStatus)
			}
			if !strings.Contains(w.Body.String(), `"error":"`+tc.wantError+`"`) {
				t.Errorf("body = %s, want error %s", w.Body, tc.wantError)
			}
			if tc.wantStatus == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") == "" {
				t.Errorf("401 without WWW-Authenticate (RFC 6749 §5.2)")
			}
		})
	}
}

package admin

import (
	"net/http"
	"strings"
	"testing"
)

func TestAuthentication(t *testing.T) {
	a := newAPI(t)
	for _, tc := range []struct {
		name, token, path string
		status            int
		code, challenge   string
	}{
		{"no token", "", "/tenants", 401, "unauthorized", `Bearer realm="herald-admin"`},
		{"no token, unknown route", "", "/nope", 401, "unauthorized", `Bearer realm="herald-admin"`},
		{"invalid token", tokenInvalid, "/tenants", 401, "invalid_token", `Bearer realm="herald-admin", error="invalid_token"`},
		{"token of another tenant", tokenOtherTenant, "/tenants", 401, "invalid_token", `Bearer realm="herald-admin", error="invalid_token"`},
		{"forbidden", tokenNoScope, "/tenants", 403, "insufficient_scope", `Bearer realm="herald-admin", error="insufficient_scope", scope="herald:admin"`},
		{"principal without scope", tokenScopeless, "/tenants", 403, "insufficient_scope", `Bearer realm="herald-admin", error="insufficient_scope", scope="herald:admin"`},
		{"authenticator cannot reach storage", tokenDown, "/tenants", 503, "temporarily_unavailable", ""},
		{"admin, unknown route", tokenAdmin, "/nope", 404, "not_found", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := a.send(t, http.MethodGet, tc.path, nil, "", tc.token)
			res.wantError(t, tc.status, tc.code)
			if got := res.header.Get("WWW-Authenticate"); got != tc.challenge {
				t.Fatalf("WWW-Authenticate %q, want %q", got, tc.challenge)
			}
		})
	}
	// A refused caller changes nothing.
	a.send(t, http.MethodPost, "/tenants", `{"name":"beta"}`, "application/json", tokenNoScope).want(t, 403)
	a.send(t, http.MethodDelete, "/tenants/acme", nil, "", tokenOtherTenant).want(t, 401)
	a.call(t, http.MethodGet, "/tenants/beta", nil).want(t, 404)
	a.call(t, http.MethodGet, "/tenants/acme", nil).want(t, 200)
	// Any other scheme is "no bearer token": no error code (RFC 6750 §3.1).
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, a.ts.URL+"/admin/v1/tenants", nil)
	req.Header.Set("Authorization", "Basic YTpi")
	res, err := a.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 401 || strings.Contains(res.Header.Get("WWW-Authenticate"), "error=") {
		t.Fatalf("Basic credentials: %d %q", res.StatusCode, res.Header.Get("WWW-Authenticate"))
	}
}

func TestRequestRules(t *testing.T) {
	a := newAPI(t)
	for _, tc := range []struct {
		name, contentType, body string
		status                  int
		code, field             string
	}{
		{"form post", "application/x-www-form-urlencoded", "name=beta", 415, "unsupported_media_type", ""},
		{"text", "text/plain", `{"name":"beta"}`, 415, "unsupported_media_type", ""},
		{"no content type", "", `{"name":"beta"}`, 415, "unsupported_media_type", ""},
		{"empty body", "application/json", "", 400, "invalid_request", ""},
		{"malformed", "application/json", `{"name":`, 400, "invalid_request", ""},
		{"not JSON", "application/json", `name=beta`, 400, "invalid_request", ""},
		{"array", "application/json", `["beta"]`, 400, "invalid_request", ""},
		{"two objects", "application/json", `{"name":"beta"}{"name":"gamma"}`, 400, "invalid_request", ""},
		{"unknown field", "application/json", `{"name":"beta","nmae":"x"}`, 400, "invalid_request", "nmae"},
		{"unknown nested field", "application/json", `{"name":"beta","settings":{"colour":"#fff"}}`, 400, "invalid_request", "colour"},
		{"wrong type", "application/json", `{"name":42}`, 400, "invalid_request", "name"},
		{"wrong nested type", "application/json", `{"name":"beta","settings":{"password_min_length":"12"}}`, 400, "invalid_request", "settings.password_min_length"},
		{"too large", "application/json", `{"name":"beta","display_name":"` + strings.Repeat("x", maxBodyBytes) + `"}`, 413, "request_too_large", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := a.send(t, http.MethodPost, "/tenants", tc.body, tc.contentType, tokenAdmin)
			if tc.field != "" {
				res.wantField(t, tc.field)
				return
			}
			res.wantError(t, tc.status, tc.code)
		})
	}
	// JSON with a charset parameter is JSON.
	a.send(t, http.MethodPost, "/tenants", `{"name":"beta"}`, "application/json; charset=utf-8", tokenAdmin).want(t, 201)
	if events := a.audit(t, "gamma"); len(events) != 0 {
		t.Fatal("a refused request was audited")
	}
}

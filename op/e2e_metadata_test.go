package op_test

import (
	"net/http"
	"testing"
)

// TestE2EMetadataCORSAndCaching: single-page apps read discovery and JWKS
// cross-origin, so both answer CORS for origins a client of the tenant
// registered (and only those), and both may be cached.
func TestE2EMetadataCORSAndCaching(t *testing.T) {
	e := newTestServer(t)
	for _, path := range []string{"/.well-known/openid-configuration", "/jwks"} {
		for _, tc := range []struct {
			origin, want string
		}{
			{spaOrigin, spaOrigin},
			{"https://evil.example", ""},
		} {
			req, _ := http.NewRequest(http.MethodGet, e.issuer+path, nil)
			req.Header.Set("Origin", tc.origin)
			resp, err := e.ts.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s: %d", path, resp.StatusCode)
			}
			if got := resp.Header.Get("Access-Control-Allow-Origin"); got != tc.want {
				t.Errorf("%s from %s: Access-Control-Allow-Origin %q, want %q", path, tc.origin, got, tc.want)
			}
			if resp.Header.Get("Access-Control-Allow-Credentials") != "" {
				t.Errorf("%s allows credentials cross-origin", path)
			}
			if cc := resp.Header.Get("Cache-Control"); cc != "public, max-age=300" {
				t.Errorf("%s Cache-Control %q", path, cc)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("%s Content-Type %q", path, ct)
			}
		}
	}
}

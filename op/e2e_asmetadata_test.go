package op_test

import (
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/herald-idp/herald/storage"
)

// TestE2EAuthorizationServerMetadata: OAuth-only clients look for RFC 8414
// metadata first, at /.well-known/oauth-authorization-server with the
// issuer's path inserted (§3.1). Every tenant answers there — and appended
// to the issuer, and at the root of a tenant's own hostname — with the
// discovery document's content, its issuer (§3.3: it must equal the issuer
// the client asked about), caching, ETag and CORS.
func TestE2EAuthorizationServerMetadata(t *testing.T) {
	t.Parallel()
	e := newTestServer(t)
	get := func(t *testing.T, c *http.Client, url string, hdr map[string]string) *jsonResponse {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return readJSON(t, resp)
	}
	hc := e.ts.Client()
	discovery := get(t, hc, e.issuer+"/.well-known/openid-configuration", nil)
	discovery.requireStatus(t, http.StatusOK)
	for _, url := range []string{
		e.ts.URL + "/.well-known/oauth-authorization-server/t/" + tenantAcme, // RFC 8414 §3.1
		e.issuer + "/.well-known/oauth-authorization-server",                 // appended, as some clients do
	} {
		r := get(t, hc, url, map[string]string{"Origin": spaOrigin})
		r.requireStatus(t, http.StatusOK)
		requireAll(t, url,
			field("body (same as discovery)", r.body, discovery.body),
			field("issuer", r.str("issuer"), e.issuer),
			field("token_endpoint", r.str("token_endpoint"), e.issuer+"/token"),
			field("Content-Type", r.header.Get("Content-Type"), "application/json"),
			field("Cache-Control", r.header.Get("Cache-Control"), "public, max-age=300"),
			field("ETag", r.header.Get("ETag"), discovery.header.Get("ETag")),
			field("Access-Control-Allow-Origin", r.header.Get("Access-Control-Allow-Origin"), spaOrigin))
		if r.header.Get("ETag") == "" {
			t.Fatalf("%s: no ETag", url)
		}
		nm := get(t, hc, url, map[string]string{"If-None-Match": r.header.Get("ETag")})
		if nm.status != http.StatusNotModified || nm.body != "" {
			t.Errorf("%s with If-None-Match: %d %q, want 304 and no body", url, nm.status, nm.body)
		}
	}

	t.Run("unknown tenant", func(t *testing.T) {
		r := get(t, hc, e.ts.URL+"/.well-known/oauth-authorization-server/t/no-such-tenant", nil)
		r.requireStatus(t, http.StatusNotFound)
		get(t, hc, e.ts.URL+"/.well-known/oauth-authorization-server", nil).requireStatus(t, http.StatusNotFound)
		get(t, hc, e.ts.URL+"/.well-known/oauth-authorization-server/t/"+tenantAcme+"/x", nil).requireStatus(t, http.StatusNotFound)
	})
	t.Run("tenant hostname: at the root", func(t *testing.T) {
		e.updateTenant(t, tenantAcme, func(tn *storage.Tenant) { tn.Hostnames = []string{"login.acme.test"} })
		_, port, _ := net.SplitHostPort(e.ts.Listener.Addr().String())
		hosted := "http://login.acme.test:" + port
		c := &http.Client{Transport: e.hostedTransport()}
		var r *jsonResponse
		for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			r = get(t, c, hosted+"/.well-known/oauth-authorization-server", nil)
			if r.status == http.StatusOK || time.Now().After(deadline) {
				break // SQLite has no notifier: the tenant cache lives 1 s
			}
		}
		r.requireStatus(t, http.StatusOK)
		requireAll(t, "hosted metadata",
			field("issuer", r.str("issuer"), hosted),
			field("token_endpoint", r.str("token_endpoint"), hosted+"/token"))
		if r.header.Get("ETag") == "" {
			t.Error("hosted metadata: no ETag")
		}
	})
}

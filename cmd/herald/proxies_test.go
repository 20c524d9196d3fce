package main

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
)

func TestParseTrustedProxies(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"10.0.0.0/8", []string{"10.0.0.0/8"}},
		{" 10.0.0.0/8 , 192.168.1.7,fd00::/8,::1 ,", []string{"10.0.0.0/8", "192.168.1.7/32", "fd00::/8", "::1/128"}},
		{"0.0.0.0/0", []string{"0.0.0.0/0"}},
	} {
		got, err := parseTrustedProxies(tc.in)
		var gotS []string
		for _, p := range got {
			gotS = append(gotS, p.String())
		}
		if err != nil || !reflect.DeepEqual(gotS, tc.want) {
			t.Errorf("parseTrustedProxies(%q) = %v, %v; want %v", tc.in, gotS, err, tc.want)
		}
	}
	for _, tc := range []struct{ in, wantText string }{
		{"10.0.0.1/8", "10.0.0.0/8"}, // host bits: suggest the network
		{"10.0.0.0/33", "CIDR"},
		{"proxy.internal", "not an IP address"},
		{"::ffff:10.0.0.0/104", "IPv4 form"},
		{"fe80::1%eth0", "not an IP address"},
		{"10.0.0.0/8;192.168.0.0/16", "CIDR"},
	} {
		if _, err := parseTrustedProxies(tc.in); err == nil || !strings.Contains(err.Error(), tc.wantText) {
			t.Errorf("parseTrustedProxies(%q) error %v, want one containing %q", tc.in, err, tc.wantText)
		}
	}
}

func TestTrustedProxiesErrorNamesTheSetting(t *testing.T) {
	testEnv(t)
	t.Setenv("HERALD_TRUSTED_PROXIES", "10.0.0.0/8,not-a-network")
	r := herald(t, "", "serve", "--addr", freeAddr(t))
	if r.code != 1 || !strings.Contains(r.stderr, "HERALD_TRUSTED_PROXIES (--trusted-proxies)") || !strings.Contains(r.stderr, "not-a-network") {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	r = herald(t, "", "serve", "--addr", freeAddr(t), "--trusted-proxies", "10.0.0.1/8")
	if r.code != 1 || !strings.Contains(r.stderr, "--trusted-proxies") {
		t.Fatalf("flag: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestTrustedProxiesSelectHostedTenant: X-Forwarded-Host picks a tenant's
// hostname only when the request comes from a trusted proxy (here the
// loopback test client); otherwise the header is ignored.
func TestTrustedProxiesSelectHostedTenant(t *testing.T) {
	for _, tc := range []struct {
		proxies    string
		wantStatus int
	}{
		{"127.0.0.0/8,::1", http.StatusOK},
		{"10.0.0.0/8", http.StatusNotFound},
		{"", http.StatusNotFound},
	} {
		t.Run("proxies="+tc.proxies, func(t *testing.T) {
			testEnv(t)
			addr := freeAddr(t)
			t.Setenv("HERALD_PUBLIC_URL", "http://"+addr)
			t.Setenv("HERALD_TRUSTED_PROXIES", tc.proxies)
			mustJSON(t, "", "tenant", "create", "--name", "acme", "--hostname", "login.acme.test")
			srv := startServe(t, addr)

			req, err := http.NewRequest(http.MethodGet, "http://"+addr+"/.well-known/openid-configuration", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("X-Forwarded-Host", "login.acme.test")
			r := doJSON(t, req)
			if r.status != tc.wantStatus {
				t.Fatalf("discovery through X-Forwarded-Host: %d %s, want %d", r.status, r.body, tc.wantStatus)
			}
			_, port, _ := strings.Cut(addr, ":")
			if want := "http://login.acme.test:" + port; tc.wantStatus == http.StatusOK && r.str("issuer") != want {
				t.Fatalf("issuer %q, want %q", r.str("issuer"), want)
			}
			if code := srv.stop(t); code != 0 {
				t.Fatalf("serve exit %d\nstderr: %s", code, srv.stderr.String())
			}
		})
	}
}

package op

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

// TestClientAddress: X-Forwarded-For counts only through trusted proxies,
// and then only its rightmost untrusted entry (what the client wrote
// further left is not believed).
func TestClientAddress(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	tests := []struct {
		name, remote, xff string
		trusted           []netip.Prefix
		want              string
	}{
		{"direct", "198.51.100.7:5000", "", nil, "198.51.100.7"},
		{"header ignored without trusted proxies", "198.51.100.7:5000", "203.0.113.9", nil, "198.51.100.7"},
		{"header ignored from an untrusted peer", "198.51.100.7:5000", "203.0.113.9", proxies, "198.51.100.7"},
		{"through a trusted proxy", "10.1.2.3:5000", "203.0.113.9", proxies, "203.0.113.9"},
		{"spoofed entry on the left", "10.1.2.3:5000", "1.2.3.4, 203.0.113.9", proxies, "203.0.113.9"},
		{"two trusted hops", "10.1.2.3:5000", "203.0.113.9, 10.9.9.9", proxies, "203.0.113.9"},
		{"garbage stops the walk", "10.1.2.3:5000", "203.0.113.9, nonsense", proxies, "10.1.2.3"},
		{"IPv4-mapped IPv6 peer", "[::ffff:198.51.100.7]:5000", "", nil, "198.51.100.7"},
	}
	for _, tc := range tests {
		s := &Server{cfg: Config{TrustedProxies: tc.trusted}}
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tc.remote
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		if got := s.clientAddress(r).String(); got != tc.want {
			t.Errorf("%s: clientAddress = %s, want %s", tc.name, got, tc.want)
		}
	}
}

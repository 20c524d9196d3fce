package main

import (
	"fmt"
	"net/netip"
	"strings"
)

// parseTrustedProxies reads HERALD_TRUSTED_PROXIES: comma-separated
// networks in CIDR form (10.0.0.0/8, fd00::/8) or single addresses
// (192.0.2.7), whose X-Forwarded-Host Herald believes when it resolves a
// tenant by hostname. Anyone else could set that header and pick the
// tenant, so the list is checked strictly: a network with host bits set
// (10.0.0.1/8) is refused, not silently widened, and IPv4 networks must be
// written as IPv4 (Herald compares unmapped addresses).
func parseTrustedProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		p, err := parseProxyNetwork(item)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

func parseProxyNetwork(item string) (netip.Prefix, error) {
	if !strings.Contains(item, "/") {
		a, err := netip.ParseAddr(item)
		if err != nil || a.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("%q is not an IP address or a CIDR network such as 10.0.0.0/8", item)
		}
		item = netip.PrefixFrom(a, a.BitLen()).String()
	}
	p, err := netip.ParsePrefix(item)
	switch {
	case err != nil:
		return netip.Prefix{}, fmt.Errorf("%q is not a CIDR network such as 10.0.0.0/8 or fd00::/8", item)
	case p.Addr().Is4In6():
		return netip.Prefix{}, fmt.Errorf("%q: write IPv4 networks in IPv4 form (10.0.0.0/8)", item)
	case p != p.Masked():
		return netip.Prefix{}, fmt.Errorf("%q has host bits set; did you mean %s?", item, p.Masked())
	}
	return p, nil
}

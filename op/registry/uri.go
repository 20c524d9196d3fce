package registry

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// maxURILength bounds registered URIs; real ones are far shorter, and the
// authorization endpoint compares them byte by byte.
const maxURILength = 2000

// forbiddenSchemes can run code or read local files in a browser; no
// redirect may ever point at them (RFC 9700 §4.11, checklist A4).
var forbiddenSchemes = map[string]bool{
	"javascript": true, "data": true, "file": true, "vbscript": true,
}

// isLoopbackHost reports whether host (without brackets or port) is one of
// the loopback names for which plain http is acceptable (RFC 8252 §7.3,
// RFC 9700 §2.1): traffic to them never leaves the device.
func isLoopbackHost(host string) bool {
	return host == "127.0.0.1" || host == "::1" || host == "localhost"
}

// redirectURIProblem checks a redirect or post-logout redirect URI for
// registration and returns what is wrong with it, or "" if it is acceptable.
//
// Rules (RFC 6749 §3.1.2, RFC 9700 §2.1 and §4.1, RFC 8252 §7): absolute; no
// fragment; no user information; no wildcards (URIs are matched exactly,
// byte for byte); https, or http for loopback hosts only; private-use
// schemes only for native apps and only in reverse-domain form (with a dot).
func redirectURIProblem(raw string, native bool) string {
	if raw == "" {
		return "must not be empty"
	}
	if len(raw) > maxURILength {
		return fmt.Sprintf("must be at most %d characters", maxURILength)
	}
	for _, c := range raw {
		if c <= 0x20 || c >= 0x7f || c == '\\' {
			return fmt.Sprintf("%q contains a space, control, non-ASCII or backslash character (percent-encode it)", raw)
		}
	}
	if strings.Contains(raw, "*") {
		return fmt.Sprintf("%q must not contain wildcards: redirect URIs are matched exactly", raw)
	}
	if strings.Contains(raw, "#") {
		return fmt.Sprintf("%q must not contain a fragment (RFC 6749 §3.1.2)", raw)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Sprintf("%q is not a valid URI", raw)
	}
	if !u.IsAbs() {
		return fmt.Sprintf("%q must be an absolute URI with a scheme", raw)
	}
	scheme := strings.ToLower(u.Scheme)
	if forbiddenSchemes[scheme] {
		return fmt.Sprintf("%q: scheme %q is not allowed", raw, scheme)
	}
	if u.User != nil {
		return fmt.Sprintf("%q must not contain user information (user@host)", raw)
	}
	switch scheme {
	case "https", "http":
		if u.Host == "" || u.Hostname() == "" {
			return fmt.Sprintf("%q must name a host", raw)
		}
		if msg := portProblem(u); msg != "" {
			return fmt.Sprintf("%q: %s", raw, msg)
		}
		if scheme == "http" && !isLoopbackHost(u.Hostname()) {
			return fmt.Sprintf("%q: http is allowed only for loopback hosts (127.0.0.1, [::1], localhost); use https", raw)
		}
	default:
		if !native {
			return fmt.Sprintf("%q: custom scheme %q is allowed only for native clients", raw, scheme)
		}
		if !strings.Contains(scheme, ".") {
			return fmt.Sprintf("%q: a private-use scheme must be a reverse domain name such as com.example.app (RFC 8252 §7.1)", raw)
		}
	}
	return ""
}

// portProblem rejects ports outside 1-65535 (url.Parse only checks digits).
func portProblem(u *url.URL) string {
	p := u.Port()
	if p == "" {
		if strings.HasSuffix(u.Host, ":") {
			return "empty port"
		}
		return ""
	}
	n, err := strconv.Atoi(p)
	if err != nil || n < 1 || n > 65535 {
		return "port must be between 1 and 65535"
	}
	return ""
}

// corsOriginProblem checks a CORS origin and returns what is wrong with it,
// or "" if it is acceptable. An origin is compared with the browser's Origin
// header, which is always the serialisation scheme://host[:port] (RFC 6454
// §6.2): lower case, no path, no trailing slash, no default port.
func corsOriginProblem(raw string) string {
	if raw == "" {
		return "must not be empty"
	}
	if strings.Contains(raw, "*") {
		return fmt.Sprintf("%q must not contain wildcards", raw)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return fmt.Sprintf("%q must be an origin: scheme://host[:port]", raw)
	}
	if u.User != nil || u.Path != "" || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" ||
		raw != u.Scheme+"://"+u.Host {
		return fmt.Sprintf("%q must be exactly scheme://host[:port], without path, query or trailing slash", raw)
	}
	if raw != strings.ToLower(raw) {
		return fmt.Sprintf("%q must be lower case, as browsers send it", raw)
	}
	if msg := portProblem(u); msg != "" {
		return fmt.Sprintf("%q: %s", raw, msg)
	}
	switch u.Scheme {
	case "https":
		if u.Port() == "443" {
			return fmt.Sprintf("%q: leave out the default port 443, browsers do", raw)
		}
	case "http":
		if !isLoopbackHost(u.Hostname()) {
			return fmt.Sprintf("%q: http is allowed only for loopback hosts (127.0.0.1, [::1], localhost); use https", raw)
		}
		if u.Port() == "80" {
			return fmt.Sprintf("%q: leave out the default port 80, browsers do", raw)
		}
	default:
		return fmt.Sprintf("%q: scheme must be https (or http for loopback hosts)", raw)
	}
	return ""
}

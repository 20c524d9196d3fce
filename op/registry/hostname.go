package registry

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/herald-idp/herald/storage"
)

// maxHostnames bounds the hostnames one tenant may claim.
const maxHostnames = 20

// checkHostnames validates the hostnames a tenant claims and returns them
// sorted and without duplicates, as the store keeps them. Herald's own public host is refused: tenants are
// served there by path, and a tenant claiming it would shadow every other.
func (r *Registry) checkHostnames(p *problems, hosts []string) []string {
	hosts = dedupe(hosts)
	slices.Sort(hosts)
	if len(hosts) > maxHostnames {
		p.add("hostnames", "at most %d hostnames per tenant", maxHostnames)
		return hosts
	}
	public := ""
	if u, err := url.Parse(r.PublicURL); err == nil {
		public = strings.ToLower(u.Hostname())
	}
	for _, h := range hosts {
		if msg := hostnameProblem(h); msg != "" {
			p.add("hostnames", "%s", msg)
		} else if h == public {
			p.add("hostnames", "%q is Herald's public host, where every tenant is served by path (/t/{tenant})", h)
		}
	}
	return hosts
}

// hostnameProblem checks one hostname: a fully qualified DNS name (RFC 1035
// §2.3.4 lengths, RFC 1123 §2.1 letters-digits-hyphen labels), in lower case
// as Herald compares it, without scheme, port, path or trailing dot. The
// host must contain a dot and must not be an IP address (RFC 3696 §2: a
// top-level label is never all-numeric). Internationalised names are given
// in their ASCII (xn--) form.
func hostnameProblem(h string) string {
	switch {
	case h == "":
		return "must not be empty"
	case len(h) > 253:
		return fmt.Sprintf("%q is longer than 253 characters", h)
	case strings.Contains(h, "://"):
		return fmt.Sprintf("%q must be a bare hostname, without a scheme", h)
	case strings.ContainsAny(h, "/?#@"):
		return fmt.Sprintf("%q must be a bare hostname, without path, query or user information", h)
	case strings.Contains(h, ":"):
		return fmt.Sprintf("%q must be a bare hostname, without a port", h)
	case h != strings.ToLower(h):
		return fmt.Sprintf("%q must be lower case", h)
	case strings.HasSuffix(h, "."):
		return fmt.Sprintf("%q must not end with a dot", h)
	}
	labels := strings.Split(h, ".")
	if len(labels) < 2 {
		return fmt.Sprintf("%q must be a fully qualified name with at least one dot, such as login.example.com", h)
	}
	for _, l := range labels {
		switch {
		case l == "":
			return fmt.Sprintf("%q has an empty label", h)
		case len(l) > 63:
			return fmt.Sprintf("%q has a label longer than 63 characters", h)
		case strings.IndexFunc(l, func(c rune) bool { return !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') }) >= 0:
			return fmt.Sprintf("%q may contain only a-z, 0-9, '-' and dots (give internationalised names in their xn-- form)", h)
		case l[0] == '-' || l[len(l)-1] == '-':
			return fmt.Sprintf("%q has a label starting or ending with '-'", h)
		}
	}
	if strings.Trim(labels[len(labels)-1], "0123456789") == "" {
		return fmt.Sprintf("%q must be a DNS name, not an IP address", h)
	}
	return ""
}

// checkHostnamesFree fails with a *storage.ConflictError on the field
// "hostnames" (matching storage.ErrHostnameTaken and ErrAlreadyExists),
// naming the hostname and its owner, when another tenant claims one of
// hosts. The store's unique constraint remains the guarantee; this gives the
// better message.
func (r *Registry) checkHostnamesFree(ctx context.Context, tenant string, hosts []string) error {
	for _, h := range hosts {
		other, err := r.Store.Tenants().TenantByHostname(ctx, h)
		switch {
		case errors.Is(err, storage.ErrNotFound):
		case err != nil:
			return fmt.Errorf("look up hostname %q: %w", h, err)
		case other.Name != tenant:
			return &storage.ConflictError{Record: tenantRecord(tenant), Field: "hostnames",
				Message: fmt.Sprintf("hostname %q is claimed by tenant %q", h, other.Name), Err: storage.ErrHostnameTaken}
		}
	}
	return nil
}

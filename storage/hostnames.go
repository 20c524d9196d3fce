package storage

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrHostnameTaken is returned (wrapped) by CreateTenant and UpdateTenant
// when another tenant already claims one of the hostnames. It matches
// ErrAlreadyExists too, so callers that only answer 409 need not know it;
// the admin API uses it to name the field.
var ErrHostnameTaken = fmt.Errorf("hostname claimed by another tenant: %w", ErrAlreadyExists)

// maxHostnameLen is the longest DNS name in its text form (RFC 1035 §2.3.4).
const maxHostnameLen = 253

// NormalizeHostnames checks that every entry is a lower-case DNS host name
// without port or trailing dot (letters, digits and hyphens in labels of
// 1-63 characters, RFC 1123 §2.1; IDNs in their A-label form) and returns
// them sorted and without duplicates. Backends store exactly this, so that
// TenantByHostname can compare exactly. The input is not modified.
func NormalizeHostnames(hosts []string) ([]string, error) {
	if len(hosts) == 0 {
		return nil, nil
	}
	out := make([]string, 0, len(hosts))
	for _, h := range hosts {
		if err := checkHostname(h); err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

func checkHostname(h string) error {
	if h == "" {
		return errors.New("hostname: must not be empty")
	}
	if len(h) > maxHostnameLen {
		return fmt.Errorf("hostname %.40q...: longer than %d characters", h, maxHostnameLen)
	}
	for label := range strings.SplitSeq(h, ".") {
		if label == "" || len(label) > 63 {
			return fmt.Errorf("hostname %q: labels must have 1 to 63 characters (no port, no trailing dot)", h)
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return fmt.Errorf("hostname %q: a label must not start or end with '-'", h)
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
				return fmt.Errorf("hostname %q: only lower-case letters, digits, '-' and '.' are allowed", h)
			}
		}
	}
	return nil
}

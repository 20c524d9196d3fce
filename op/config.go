package op

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/herald-idp/herald/op/registry"
	"github.com/herald-idp/herald/storage"
)

// Config is everything the OpenID Provider needs; cmd/herald builds it from
// flags and HERALD_* variables.
type Config struct {
	// PublicURL is the externally visible base URL, without a trailing slash
	// (https://id.example.com). Issuers are PublicURL + "/t/" + tenant.
	PublicURL string
	// Registry is the one registry cmd/herald builds (with the store, key
	// manager and password hasher it opened once): the server serves its
	// Store, signs with its Keys, checks passwords with its Passwords and
	// hands it to the admin API, reporting every change it makes to the
	// server's caches. Its PublicURL must equal PublicURL.
	Registry *registry.Registry
	// Notifier carries tenant changes between replicas (Redis pub/sub or
	// PostgreSQL NOTIFY; cmd/herald chooses). nil: none, and the per-tenant
	// caches keep entries one second only.
	Notifier  storage.Notifier
	Lifetimes Lifetimes
	// TrustedProxies are the networks whose X-Forwarded-Host is believed
	// when a tenant is resolved by hostname, and whose X-Request-Id is kept
	// (requestlog.go). Empty: both headers are ignored.
	TrustedProxies []netip.Prefix
	// AuthAudit configures the authentication audit trail (authaudit.go).
	AuthAudit AuthAudit
}

// Lifetimes of the records the provider issues. Clients may override the
// token lifetimes for themselves.
type Lifetimes struct {
	AuthRequest     time.Duration // from /authorize to the end of login and consent
	AuthCode        time.Duration // ≤ 60 s (RFC 9700 §4.1.2 wants them short)
	AccessToken     time.Duration
	IDToken         time.Duration
	RefreshToken    time.Duration
	SessionIdle     time.Duration // sliding: extended on every use
	SessionAbsolute time.Duration // hard cap from login
}

// MaxAuthRequestLifetime bounds how long a pending authorization request is
// kept: with the per-address cap (login.DefaultThrottle.PendingPerAddress)
// it bounds the state one address can make the server hold.
const MaxAuthRequestLifetime = 10 * time.Minute

// DefaultLifetimes are the values used when configuration leaves them unset.
func DefaultLifetimes() Lifetimes {
	return Lifetimes{
		AuthRequest:     10 * time.Minute, // issue 10: bounded authorization state
		AuthCode:        60 * time.Second,
		AccessToken:     15 * time.Minute,
		IDToken:         15 * time.Minute,
		RefreshToken:    30 * 24 * time.Hour,
		SessionIdle:     8 * time.Hour,
		SessionAbsolute: 7 * 24 * time.Hour,
	}
}

// Validate reports every problem at once, each naming the setting.
func (c *Config) Validate() error {
	var errs []error
	u, err := url.Parse(c.PublicURL)
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		errs = append(errs, fmt.Errorf("public URL %q: must be an absolute http(s) URL", c.PublicURL))
	case u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(c.PublicURL, "/"):
		errs = append(errs, fmt.Errorf("public URL %q: must have no query, fragment or trailing slash", c.PublicURL))
	}
	if r := c.Registry; r == nil {
		errs = append(errs, errors.New("registry: required"))
	} else {
		if r.Store == nil {
			errs = append(errs, errors.New("registry store: required"))
		}
		if r.Keys == nil {
			errs = append(errs, errors.New("registry keys: required"))
		}
		if r.Passwords == nil {
			errs = append(errs, errors.New("registry passwords: required"))
		}
		if r.PublicURL != c.PublicURL {
			errs = append(errs, fmt.Errorf("registry public URL %q: must equal the public URL %q", r.PublicURL, c.PublicURL))
		}
	}
	l := c.Lifetimes
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"auth request lifetime", l.AuthRequest}, {"auth code lifetime", l.AuthCode},
		{"access token lifetime", l.AccessToken}, {"ID token lifetime", l.IDToken},
		{"refresh token lifetime", l.RefreshToken}, {"session idle timeout", l.SessionIdle},
		{"session absolute lifetime", l.SessionAbsolute},
	} {
		if d.v <= 0 {
			errs = append(errs, fmt.Errorf("%s: must be positive", d.name))
		}
	}
	if l.AuthRequest > MaxAuthRequestLifetime {
		errs = append(errs, fmt.Errorf("auth request lifetime %s: must be at most %s", l.AuthRequest, MaxAuthRequestLifetime))
	}
	if l.AuthCode > 60*time.Second {
		errs = append(errs, fmt.Errorf("auth code lifetime %s: must be at most 60s", l.AuthCode))
	}
	if l.SessionIdle > l.SessionAbsolute {
		errs = append(errs, errors.New("session idle timeout: must not exceed the session absolute lifetime"))
	}
	return errors.Join(errs...)
}

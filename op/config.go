package op

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/herald-idp/herald/internal/telemetry"
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
	// KeyMaintenance is how often the server runs the scheduled part of the
	// key lifecycle for every tenant (keys.Manager.Maintain: rotation when
	// due, removal of expired retired keys). 0: DefaultKeyMaintenance;
	// negative: never (tests, or a deployment that rotates by cron).
	KeyMaintenance time.Duration
	// RotateConfidentialRefreshTokens makes confidential clients' refresh
	// tokens single-use like public clients' (a new one at every refresh,
	// reuse revokes the grant). Default false: a confidential client
	// authenticates at every refresh and keeps its refresh token.
	RotateConfidentialRefreshTokens bool
	// AuthAudit configures the authentication audit trail (authaudit.go).
	AuthAudit AuthAudit
	// Telemetry records metrics and spans (internal/telemetry); nil: none.
	Telemetry *telemetry.Telemetry
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
	// RefreshReuseGrace is how long after its rotation a public client's
	// refresh token may still be redeemed (two tabs refreshing at once)
	// before reuse revokes the grant. Default 0: never (RFC 9700 §4.14.2).
	RefreshReuseGrace time.Duration
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

// MaxAuthCodeLifetime bounds authorization codes: RFC 9700 §4.1.2 wants
// them short-lived (security checklist C2).
const MaxAuthCodeLifetime = 60 * time.Second

// MaxRefreshReuseGrace bounds the window in which a rotated refresh token is
// still accepted (two tabs refreshing at once): beyond a minute it stops
// being a grace and becomes a replay window.
const MaxRefreshReuseGrace = time.Minute

// SettingProblem is one invalid setting: Field names the field of Config
// or Lifetimes, so that cmd/herald can name its own variable or flag.
type SettingProblem struct {
	Field   string
	Message string
}

// PublicURLProblem says what is wrong with a public URL, "" if nothing.
// Issuers are built by appending "/t/{tenant}" to it (OIDC Discovery §4.3
// compares them exactly), so it must be an absolute http(s) URL without user
// information, query, fragment or trailing slash.
func PublicURLProblem(s string) string {
	u, err := url.Parse(s)
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		return "must be an absolute http(s) URL such as https://id.example.com"
	case u.User != nil:
		return "must not contain user information"
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.HasSuffix(s, "/"):
		return "must have no query, fragment or trailing slash"
	}
	return ""
}

// Problems reports every invalid lifetime, each naming its Lifetimes field.
func (l Lifetimes) Problems() []SettingProblem {
	var out []SettingProblem
	for _, d := range []struct {
		field string
		v     time.Duration
	}{
		{"AuthRequest", l.AuthRequest}, {"AuthCode", l.AuthCode},
		{"AccessToken", l.AccessToken}, {"IDToken", l.IDToken},
		{"RefreshToken", l.RefreshToken}, {"SessionIdle", l.SessionIdle},
		{"SessionAbsolute", l.SessionAbsolute},
	} {
		if d.v <= 0 {
			out = append(out, SettingProblem{d.field, fmt.Sprintf("must be a positive duration such as 15m or 720h, not %s", d.v)})
		}
	}
	if l.AccessToken > registry.MaxAccessTokenLifetime {
		out = append(out, SettingProblem{"AccessToken", fmt.Sprintf("must be at most %s, not %s", registry.MaxAccessTokenLifetime, l.AccessToken)})
	}
	if l.RefreshReuseGrace < 0 || l.RefreshReuseGrace > MaxRefreshReuseGrace {
		out = append(out, SettingProblem{"RefreshReuseGrace", fmt.Sprintf("must be between 0 and %s, not %s", MaxRefreshReuseGrace, l.RefreshReuseGrace)})
	}
	if l.AuthRequest > MaxAuthRequestLifetime {
		out = append(out, SettingProblem{"AuthRequest", fmt.Sprintf("must be at most %s, not %s", MaxAuthRequestLifetime, l.AuthRequest)})
	}
	if l.AuthCode > MaxAuthCodeLifetime {
		out = append(out, SettingProblem{"AuthCode", fmt.Sprintf("must be at most %.0fs, not %s", MaxAuthCodeLifetime.Seconds(), l.AuthCode)})
	}
	if l.SessionIdle > l.SessionAbsolute && l.SessionAbsolute > 0 {
		out = append(out, SettingProblem{"SessionIdle", fmt.Sprintf("must not exceed the session absolute lifetime (%s)", l.SessionAbsolute)})
	}
	return out
}

// Validate reports every problem at once, each naming the setting.
func (c *Config) Validate() error {
	var errs []error
	if msg := PublicURLProblem(c.PublicURL); msg != "" {
		errs = append(errs, fmt.Errorf("public URL %q: %s", c.PublicURL, msg))
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
	for _, p := range c.Lifetimes.Problems() {
		errs = append(errs, fmt.Errorf("lifetime %s: %s", p.Field, p.Message))
	}
	return errors.Join(errs...)
}

package registry

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/herald-idp/herald/keys"
	"github.com/herald-idp/herald/storage"
)

// MaxLifetime bounds every configurable token and session lifetime. Longer
// ones serve no login flow and risk overflowing time arithmetic.
const MaxLifetime = 366 * 24 * time.Hour

// Bounds of a tenant's password minimum length. Below 8 characters
// passwords are guessable online (NIST SP 800-63B §5.1.1.2); above 128 no
// one can type them.
const (
	MinPasswordMinLength = 8
	MaxPasswordMinLength = 128
)

// accentColorPattern is #rrggbb or #rgb, nothing else: the colour is
// written into a stylesheet (templates.BrandingStylesheet), so no other
// CSS syntax may get through.
var accentColorPattern = regexp.MustCompile(`^#(?:[0-9a-fA-F]{3}){1,2}$`)

// logoHostPattern is a logo URL's host: a DNS name, an IPv4 address or a
// bracketed IPv6 address, with an optional port.
var logoHostPattern = regexp.MustCompile(`^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$`)

// SettingsUpdate changes a tenant's settings: each non-nil field replaces
// the stored value; zero values restore the server default.
type SettingsUpdate struct {
	LogoURL, AccentColor     *string
	AccessTokenLifetime      *time.Duration
	IDTokenLifetime          *time.Duration
	RefreshTokenLifetime     *time.Duration
	SessionIdleTimeout       *time.Duration
	SessionAbsoluteLifetime  *time.Duration
	AllowedSigningAlgorithms *[]string
	PasswordMinLength        *int
	PasswordMinScore         *int
	LoginThrottle            *storage.LoginThrottleSettings
	CustomClaims             *[]storage.ClaimMapping
	MFA                      *storage.MFASettings
	ConnectorsOnly           *bool
}

// Apply sets the settings u names in s.
func (u *SettingsUpdate) Apply(s *storage.TenantSettings) {
	setIf(&s.LogoURL, u.LogoURL)
	setIf(&s.AccentColor, u.AccentColor)
	setIf(&s.AccessTokenLifetime, u.AccessTokenLifetime)
	setIf(&s.IDTokenLifetime, u.IDTokenLifetime)
	setIf(&s.RefreshTokenLifetime, u.RefreshTokenLifetime)
	setIf(&s.SessionIdleTimeout, u.SessionIdleTimeout)
	setIf(&s.SessionAbsoluteLifetime, u.SessionAbsoluteLifetime)
	setIf(&s.PasswordMinLength, u.PasswordMinLength)
	setIf(&s.PasswordMinScore, u.PasswordMinScore)
	setIf(&s.LoginThrottle, u.LoginThrottle)
	if u.MFA != nil {
		s.MFA = storage.MFASettings{Policy: u.MFA.Policy, Clients: slices.Clone(u.MFA.Clients)}
	}
	setIf(&s.ConnectorsOnly, u.ConnectorsOnly)
	if u.AllowedSigningAlgorithms != nil {
		s.AllowedSigningAlgorithms = slices.Clone(*u.AllowedSigningAlgorithms)
	}
	if u.CustomClaims != nil {
		s.CustomClaims = cloneClaims(*u.CustomClaims)
	}
}

// changed names the settings u changes ("settings.logo_url", ...).
func (u *SettingsUpdate) changed() []string {
	var out []string
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"logo_url", u.LogoURL != nil}, {"accent_color", u.AccentColor != nil},
		{"access_token_lifetime", u.AccessTokenLifetime != nil}, {"id_token_lifetime", u.IDTokenLifetime != nil},
		{"refresh_token_lifetime", u.RefreshTokenLifetime != nil}, {"session_idle_timeout", u.SessionIdleTimeout != nil},
		{"session_absolute_lifetime", u.SessionAbsoluteLifetime != nil},
		{"allowed_signing_algorithms", u.AllowedSigningAlgorithms != nil},
		{"password_min_length", u.PasswordMinLength != nil}, {"custom_claims", u.CustomClaims != nil},
		{"password_min_score", u.PasswordMinScore != nil}, {"login_throttle", u.LoginThrottle != nil},
		{"mfa", u.MFA != nil},
		{"connectors_only", u.ConnectorsOnly != nil},
	} {
		if f.set {
			out = append(out, "settings."+f.name)
		}
	}
	return out
}

// normalColor is a valid accent colour as lower-case #rrggbb: #ABC is
// stored as #aabbcc, so the store and the stylesheet know one form.
func normalColor(c string) string {
	c = strings.ToLower(c)
	if len(c) == 4 {
		c = string([]byte{'#', c[1], c[1], c[2], c[2], c[3], c[3]})
	}
	return c
}

func setIf[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

func cloneClaims(in []storage.ClaimMapping) []storage.ClaimMapping {
	if in == nil {
		return nil
	}
	out := make([]storage.ClaimMapping, len(in))
	for i, m := range in {
		m.Targets = slices.Clone(m.Targets)
		out[i] = m
	}
	return out
}

// checkSettings validates a tenant's settings for a tenant signing with alg
// and returns them normalised (accent colour as lower-case #rrggbb, lists
// without duplicates). Fields are named "settings.<name>".
func checkSettings(p *problems, s storage.TenantSettings, alg string) storage.TenantSettings {
	if s.LogoURL != "" {
		if msg := logoURLProblem(s.LogoURL); msg != "" {
			p.add("settings.logo_url", "%s", msg)
		}
	}
	if s.AccentColor != "" {
		if !accentColorPattern.MatchString(s.AccentColor) {
			p.add("settings.accent_color", "must be a colour #rrggbb or #rgb, not %q", s.AccentColor)
		}
		s.AccentColor = normalColor(s.AccentColor)
	}
	for _, l := range []struct {
		field string
		d     time.Duration
	}{
		{"access_token_lifetime", s.AccessTokenLifetime}, {"id_token_lifetime", s.IDTokenLifetime},
		{"refresh_token_lifetime", s.RefreshTokenLifetime}, {"session_idle_timeout", s.SessionIdleTimeout},
		{"session_absolute_lifetime", s.SessionAbsoluteLifetime},
	} {
		checkLifetime(p, "settings."+l.field, l.d)
	}
	if s.AccessTokenLifetime > MaxAccessTokenLifetime {
		p.add("settings.access_token_lifetime", "must be at most %s", MaxAccessTokenLifetime)
	}
	if s.SessionIdleTimeout > 0 && s.SessionAbsoluteLifetime > 0 && s.SessionIdleTimeout > s.SessionAbsoluteLifetime {
		p.add("settings.session_idle_timeout", "must not exceed session_absolute_lifetime")
	}

	s.AllowedSigningAlgorithms = dedupe(s.AllowedSigningAlgorithms)
	for _, a := range s.AllowedSigningAlgorithms {
		if !keys.ValidAlgorithm(a) {
			p.add("settings.allowed_signing_algorithms", "unknown algorithm %q (allowed: %s)", a, strings.Join(keys.Algorithms(), ", "))
		}
	}
	if len(s.AllowedSigningAlgorithms) > 0 && !slices.Contains(s.AllowedSigningAlgorithms, alg) {
		p.add("settings.allowed_signing_algorithms", "must contain the tenant's signing algorithm %s", alg)
	}

	if n := s.PasswordMinLength; n != 0 && (n < MinPasswordMinLength || n > MaxPasswordMinLength) {
		p.add("settings.password_min_length", "must be between %d and %d (0 means the default, %d)",
			MinPasswordMinLength, MaxPasswordMinLength, MinPasswordLength)
	}
	if n := s.PasswordMinScore; n < 0 || n > MaxPasswordMinScore {
		p.add("settings.password_min_score", "must be between 1 and %d (0 means the default, %d)",
			MaxPasswordMinScore, DefaultPasswordMinScore)
	}
	checkLoginThrottle(p, s.LoginThrottle)
	s.MFA = checkMFA(p, s.MFA)
	s.CustomClaims = checkClaimMappings(p, s.CustomClaims)
	return s
}

// Bounds of a tenant's minimum password strength (zxcvbn score).
const (
	DefaultPasswordMinScore = 3
	MaxPasswordMinScore     = 4
)

// Bounds of the login throttle settings: a back-off can be tuned, never
// switched off, and never turned into a lock-out.
const (
	MaxLoginFree       = 1000
	MaxLoginDelay      = time.Hour
	MaxPendingRequests = 10000
)

func checkLoginThrottle(p *problems, t storage.LoginThrottleSettings) {
	for _, f := range []struct {
		name string
		n    int
	}{
		{"address_free", t.AddressFree}, {"account_free", t.AccountFree},
		{"account_address_free", t.AccountAddressFree},
	} {
		if f.n < 0 || f.n > MaxLoginFree {
			p.add("settings.login_throttle."+f.name, "must be between 1 and %d (0 means the default)", MaxLoginFree)
		}
	}
	for _, f := range []struct {
		name string
		d    time.Duration
	}{{"base_delay", t.BaseDelay}, {"max_delay", t.MaxDelay}} {
		if f.d < 0 || f.d > MaxLoginDelay {
			p.add("settings.login_throttle."+f.name, "must be between 1ms and %s (0 means the default)", MaxLoginDelay)
		} else if f.d > 0 && f.d < time.Millisecond {
			p.add("settings.login_throttle."+f.name, "must be at least 1ms")
		}
	}
	if t.BaseDelay > 0 && t.MaxDelay > 0 && t.BaseDelay > t.MaxDelay {
		p.add("settings.login_throttle.base_delay", "must not exceed max_delay")
	}
	if n := t.PendingPerAddress; n < 0 || n > MaxPendingRequests {
		p.add("settings.login_throttle.pending_per_address", "must be between 1 and %d (0 means the default)", MaxPendingRequests)
	}
}

// checkLifetime accepts 0 (the server default) up to MaxLifetime.
func checkLifetime(p *problems, field string, d time.Duration) {
	switch {
	case d < 0:
		p.add(field, "must not be negative (0 means the server default)")
	case d > MaxLifetime:
		p.add(field, "must be at most %s", MaxLifetime)
	}
}

// logoURLProblem accepts an absolute https URL without user information,
// or a path on Herald's own origin ("/logo.svg", served by a proxy in
// front of Herald): the login pages load it in every visitor's browser, so
// plain http (mixed content) and script-capable schemes are out. The
// pages' CSP allows images from 'self' and from the logo's origin only, so
// the host must be a plain name or address that fits in a CSP source.
func logoURLProblem(raw string) string {
	if len(raw) > maxURILength {
		return fmt.Sprintf("must be at most %d characters", maxURILength)
	}
	for _, c := range raw {
		if c <= 0x20 || c >= 0x7f || c == '\\' {
			return "contains a space, control, non-ASCII or backslash character (percent-encode it)"
		}
	}
	if strings.HasPrefix(raw, "/") && !strings.HasPrefix(raw, "//") {
		return "" // same origin
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.Hostname() == "" || u.Opaque != "" {
		return fmt.Sprintf("%q must be an absolute https URL or a path starting with /", raw)
	}
	if u.User != nil {
		return fmt.Sprintf("%q must not contain user information", raw)
	}
	if !logoHostPattern.MatchString(u.Host) {
		return fmt.Sprintf("%q: the host must be a DNS name or an IP address", raw)
	}
	if msg := portProblem(u); msg != "" {
		return fmt.Sprintf("%q: %s", raw, msg)
	}
	return ""
}

package login

import (
	"context"
	"net/http"
	"net/netip"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/herald-idp/herald/op/password"
	"github.com/herald-idp/herald/storage"
)

// Paths of the browser endpoints, relative to a tenant's issuer.
const (
	PathAuthorize  = "/authorize"
	PathLogin      = "/login"
	PathConsent    = "/consent"
	PathEndSession = "/end_session"
)

// Provider is what the browser flow needs from the OpenID Provider. It is
// kept small on purpose: everything else the flow does goes through the
// storage interfaces in Config.Store.
type Provider interface {
	// Tenant is the tenant the request was resolved to, with the issuer it
	// was reached at. Every request routed to Handler has one.
	Tenant(ctx context.Context) Tenant
	// Client returns a client of the request's tenant, or an error wrapping
	// storage.ErrNotFound.
	Client(ctx context.Context, id string) (*storage.Client, error)
	// ScopeAllowed reports whether c may request scope.
	ScopeAllowed(c *storage.Client, scope string) bool
	// SessionLifetimes are the SSO session's idle and absolute lifetimes
	// for the request's tenant.
	SessionLifetimes(ctx context.Context) (idle, absolute time.Duration)
	// IDTokenHintSubject verifies an id_token_hint issued by the request's
	// tenant and returns its subject. Expired hints are accepted (OIDC Core
	// §3.1.2.1: the hint is about who, not about a live token).
	IDTokenHintSubject(ctx context.Context, hint string) (string, error)
	// IssueCode stores a single-use authorization code for a finished
	// request and returns the code to send to the client.
	IssueCode(ctx context.Context, ar *storage.AuthRequest) (string, error)
	// ValidateEndSession checks an RP-Initiated Logout request: the
	// id_token_hint and that post_logout_redirect_uri is registered for the
	// client. A request the user should be told about fails with a
	// *RejectedError.
	ValidateEndSession(ctx context.Context, req EndSessionRequest) (EndSession, error)
	// RequestID is the ID of the request, shown on error pages so that a
	// user can quote it.
	RequestID(ctx context.Context) string
	// ClientAddress is the client's address: the connection's, or the one
	// X-Forwarded-For names when the connection comes from a configured
	// trusted proxy.
	ClientAddress(r *http.Request) netip.Addr
	// RecordAuthEvent appends e to the authentication audit trail, adding
	// the time, tenant, request ID, hashed client address, user agent and
	// device fingerprint. Failures are logged, never shown.
	RecordAuthEvent(r *http.Request, e AuthEvent)
}

// AuthEvent is what the browser flow knows of an authentication event.
type AuthEvent struct {
	Event    string // storage.Event*
	UserID   string
	Username string // the attempted username when UserID is unknown (hashed by the provider)
	ClientID string
	Outcome  string // "success", "failure", "denied"
	Reason   string
	DeviceID string // the device cookie's ID, "" for none
}

// Outcomes and reasons of AuthEvent.
const (
	OutcomeSuccess = "success"
	OutcomeFailure = "failure"
	OutcomeDenied  = "denied"

	ReasonUnknownUser   = "unknown_user"
	ReasonWrongPassword = "wrong_password"
	ReasonDisabled      = "disabled"
	ReasonThrottled     = "throttled"
	ReasonBusy          = "busy"

	// Second-factor reasons (storage.EventMFA*).
	ReasonWrongCode        = "wrong_code"
	ReasonReplayedCode     = "replayed_code"
	ReasonRecoveryCode     = "recovery_code"
	ReasonNoSecondFactor   = "no_second_factor"
	ReasonWrongCredentials = "wrong_code_or_password"
)

// Tenant is a resolved tenant and where it was reached.
type Tenant struct {
	*storage.Tenant
	// Issuer is the issuer URL the request came to; page and redirect URLs
	// are built from it.
	Issuer string
	// CookiePath scopes cookies to the tenant: /t/{name}/ for path-based
	// issuers, / for a tenant's own hostname.
	CookiePath string
}

// EndSessionRequest is the RP-Initiated Logout 1.0 §2 request.
type EndSessionRequest struct {
	IDTokenHint, ClientID, PostLogoutRedirectURI, State, LogoutHint string
	// Session is the browser's current SSO session (nil if none): the
	// provider tells whether the hint was issued for it.
	Session *storage.Session
}

// EndSession is a validated logout request.
type EndSession struct {
	ClientID string
	// RedirectURI is the post_logout_redirect_uri, set only when it was
	// matched against the client's registration.
	RedirectURI string
	// HintMatchesSession: an ID token of this tenant was sent as hint and
	// its sub (and sid, when present) are those of the current session.
	// Only then does logout skip the confirmation.
	HintMatchesSession bool
}

// RejectedError is an invalid request whose Description may be shown to
// the user.
type RejectedError struct{ Description string }

func (e *RejectedError) Error() string { return "rejected: " + e.Description }

// Config is what the browser flow is built from.
type Config struct {
	Provider  Provider
	Store     storage.Store
	Passwords *password.Hasher
	// CSRFKey keys the HMAC of form tokens; every replica shares it.
	CSRFKey []byte
	// DeviceKey keys the device cookie's MAC and the login throttle's keys;
	// every replica shares it.
	DeviceKey []byte
	// SecureCookies sets the Secure attribute (the public URL is https).
	SecureCookies bool
	// AuthRequestLifetime is how long a request may take from /authorize
	// to the end of login and consent.
	AuthRequestLifetime time.Duration
	// UserSecrets seals and opens users' TOTP secrets (keys.Manager).
	UserSecrets UserSecrets
	// Upstream turns on sign-in at the tenants' connectors; nil: off.
	Upstream *UpstreamConfig
	Now      func() time.Time
}

// UserSecrets seals users' secrets under the key-encryption key, bound to
// their purpose, tenant and user (keys.Manager implements it).
type UserSecrets interface {
	SealUserSecret(purpose, tenant, userID string, plain []byte) ([]byte, error)
	OpenUserSecret(purpose, tenant, userID string, stored []byte) ([]byte, error)
}

// Handler serves the browser endpoints of every tenant.
type Handler struct {
	p             Provider
	store         storage.Store
	passwords     *password.Hasher
	csrfKey       []byte
	deviceKey     []byte
	secureCookies bool
	arLifetime    time.Duration
	now           func() time.Time
	refusals      *refusalMemory // defence.go firstRefusal
	userSecrets   UserSecrets
	upstream      *UpstreamConfig
}

// New builds the browser flow.
func New(cfg Config) *Handler {
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &Handler{
		p:             cfg.Provider,
		store:         cfg.Store,
		passwords:     cfg.Passwords,
		csrfKey:       cfg.CSRFKey,
		deviceKey:     cfg.DeviceKey,
		secureCookies: cfg.SecureCookies,
		arLifetime:    cfg.AuthRequestLifetime,
		refusals:      &refusalMemory{seen: map[string]time.Time{}},
		userSecrets:   cfg.UserSecrets,
		upstream:      cfg.Upstream,
		now:           now,
	}
}

// Routes registers the browser endpoints on a tenant's router (under
// /t/{tenant} or at a tenant's own hostname). Form POSTs must come from
// Herald's own origin (Fetch metadata; the CSRF token is the second line).
func (h *Handler) Routes(r chi.Router) {
	forms := http.NewCrossOriginProtection()
	r.Get(PathAuthorize, h.handleAuthorize)
	r.Post(PathAuthorize, h.handleAuthorize)
	r.Get(PathLogin, h.handleLoginForm)
	r.With(forms.Handler).Post(PathLogin, h.handleLogin)
	r.Get(PathConsent, h.handleConsentForm)
	r.With(forms.Handler).Post(PathConsent, h.handleConsent)
	h.mfaRoutes(r, forms)
	r.Get(PathEndSession, h.handleEndSession)
	r.Post(PathEndSession, h.handleEndSession)
	r.Get(PathBrandingCSS, h.handleBrandingCSS)
	r.Head(PathBrandingCSS, h.handleBrandingCSS)
	// The account page (account.go).
	r.Get(PathAccount, h.handleAccount)
	r.With(forms.Handler).Post(PathAccountPassword, h.handleAccountPassword)
	r.With(forms.Handler).Post(PathAccountEndSession, h.handleAccountEndSession)
	r.With(forms.Handler).Post(PathAccountWithdraw, h.handleAccountWithdraw)
	r.With(forms.Handler).Post(PathAccountSignOut, h.handleAccountSignOut)
	r.With(forms.Handler).Post(PathAccountUnlink, h.handleAccountUnlink)
	h.upstreamRoutes(r, forms)
	// No CORS on pages, not even a preflight (RFC 9700 §2.6): without these
	// routes an OPTIONS would fall through to the protocol routes mounted
	// at the tenant's root. 405 rather than a 204 without CORS headers:
	// browsers fail the preflight either way, and 405 with Allow is the
	// honest answer for any other client and in the access log.
	for _, path := range []string{PathAuthorize, PathLogin, PathConsent, PathEndSession,
		PathAccount, PathAccountPassword, PathAccountEndSession, PathAccountWithdraw, PathAccountSignOut, PathAccountUnlink} {
		r.Options(path, methodNotAllowed)
	}
}

// methodNotAllowed answers a method a page does not serve (RFC 9110
// §15.5.6: with Allow).
func methodNotAllowed(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Allow", "GET, POST")
	http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
}

// tenantURL is the absolute URL of a path under the request's issuer.
func (h *Handler) tenantURL(ctx context.Context, path string) string {
	return h.p.Tenant(ctx).Issuer + path
}

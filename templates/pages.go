package templates

import "html/template"

// Branding is the per-tenant look of every page.
type Branding struct {
	// TenantName is the tenant's identifier; shown when DisplayName is empty.
	TenantName string
	// DisplayName is the human name shown in headings and the page title.
	DisplayName string
	// LogoURL, when set, is shown above the card content: an https URL or a
	// path on Herald's own origin (the registry refuses anything else, and
	// op/login adds the logo's origin to the page CSP's img-src).
	// html/template replaces unsafe schemes (javascript:) with "#ZgotmplZ".
	LogoURL string
	// AccentColor is the tenant's validated accent colour (#rrggbb). The
	// pages are served with "style-src 'self'", which blocks inline styles,
	// so the colour reaches them only through StylesheetURL, a separate
	// same-origin stylesheet made by BrandingStylesheet.
	AccentColor string
	// StylesheetURL, when set, is linked after herald.css: the tenant's
	// branding stylesheet (e.g. /t/acme/branding.css?v=<version>).
	StylesheetURL string
	// StaticURL is the URL prefix under which Static is served, e.g. "/static"
	// (no trailing slash needed). Empty means "/static".
	StaticURL string
}

// LoginPage is the username/password form of an authorization request.
type LoginPage struct {
	Branding Branding
	// ActionURL is where the form POSTs.
	ActionURL string
	// CSRFToken is sent back as the hidden field "csrf_token".
	CSRFToken string
	// AuthRequestID is sent back as the hidden field "auth_request_id".
	AuthRequestID string
	// ClientName is the relying party's display name ("Sign in to continue to X").
	ClientName string
	// Username pre-fills the username field, e.g. after a failed attempt.
	Username string
	// Error is a user-facing message shown above the form; empty for none.
	Error string
	// Connectors are the tenant's upstream identity providers, one button
	// each beside the password form.
	Connectors []ConnectorButton
	// PasswordHidden leaves the username/password form out (the tenant
	// signs in through its connectors only).
	PasswordHidden bool
}

// ConnectorButton signs in at an upstream identity provider: a form POSTing
// csrf_token and auth_request_id to ActionURL.
type ConnectorButton struct {
	ActionURL string
	Label     string
}

// ScopeView is one requested scope on the consent page.
type ScopeView struct {
	// Name is the scope token as requested, e.g. "email".
	Name string
	// Description is the human text; see ScopeDescription. When empty the
	// page shows Name instead.
	Description string
}

// ConsentPage asks the user to allow or deny a client's requested scopes.
// The form posts "decision" = "allow" or "deny".
type ConsentPage struct {
	Branding      Branding
	ActionURL     string
	CSRFToken     string
	AuthRequestID string
	ClientName    string
	Scopes        []ScopeView
}

// ErrorPage is shown when a flow cannot continue on the OP (for example an
// unregistered redirect_uri, where redirecting is forbidden by RFC 6749
// §4.1.2.1). Title and Message are user-facing text and must never contain raw
// Go errors; the caller guarantees that.
type ErrorPage struct {
	Branding Branding
	// Title defaults to "Something went wrong" when empty.
	Title   string
	Message string
	// RequestID, when set, is shown so the user can quote it to support.
	RequestID string
	// RejectedName and RejectedValue, when RejectedValue is set, name the
	// request parameter that was refused and its value (e.g. "client_id"),
	// so that a developer sees what was sent. The value is untrusted: it is
	// shortened and its unprintable characters escaped before html/template
	// escapes it.
	RejectedName, RejectedValue string
	// ReturnURL, when set, is a link back to the application (carrying the
	// error it is told), e.g. after a failed upstream sign-in. It must be a
	// registered (verified) redirect URI: its scheme is trusted as it is,
	// so that a native app's private-use scheme survives.
	ReturnURL template.URL
}

// LogoutConfirmPage asks the user to confirm an RP-initiated logout
// (OpenID Connect RP-Initiated Logout 1.0 §2). The RP's parameters are passed
// through as hidden fields; empty ones are omitted. The form posts
// "decision" = "logout" or "cancel".
type LogoutConfirmPage struct {
	Branding              Branding
	ActionURL             string
	CSRFToken             string
	ClientName            string
	ClientID              string
	PostLogoutRedirectURI string
	State                 string
	IDTokenHint           string
}

// LoggedOutPage is shown after logout when there is no valid
// post_logout_redirect_uri to send the user to.
type LoggedOutPage struct {
	Branding Branding
}

// standardScopeDescriptions covers the scopes defined by OpenID Connect Core
// 1.0 that release something: openid (§3.1.2.1), the claim scopes profile
// and email (§5.4) as far as Herald holds their claims, and offline_access
// (§11). Each says exactly what the client gets.
var standardScopeDescriptions = map[string]string{
	"openid":         "Sign you in and confirm who you are",
	"profile":        "See your name (full, given and family) and your username",
	"email":          "See your email address and whether it is verified",
	"offline_access": "Keep access to your account while you are not using it",
}

// scopesReleasingNothing are standard scopes a client may ask for that give
// it nothing: Herald holds no postal address or phone number. The consent
// page leaves them out rather than promise what is not there.
var scopesReleasingNothing = map[string]bool{"address": true, "phone": true}

// ScopeShown reports whether the consent page lists scope.
func ScopeShown(scope string) bool { return !scopesReleasingNothing[scope] }

// ScopeDescription returns a human description for the standard OpenID
// Connect scopes that release something (openid, profile, email,
// offline_access) and
// the scope name itself otherwise. Matching is exact: scope tokens are
// case-sensitive (RFC 6749 §3.3).
func ScopeDescription(scope string) string {
	if d, ok := standardScopeDescriptions[scope]; ok {
		return d
	}
	return scope
}

// AccountPage is the signed-in user's own page ({issuer}/account): change
// password, the second factor (link), sessions and apps. Every form posts
// CSRFToken as "csrf_token".
type AccountPage struct {
	Branding  Branding
	CSRFToken string
	// Username, Name and Email say who is signed in.
	Username, Name, Email string
	// Notice is a confirmation shown at the top ("Password changed."); empty
	// for none.
	Notice string
	// PasswordError is shown above the password form after a refused
	// change; empty for none.
	PasswordError string
	// PasswordURL, EndSessionURL, WithdrawURL and SignOutURL are where the
	// forms post; MFAURL is the second-factor page ("": not offered, the
	// section is left out).
	PasswordURL, EndSessionURL, WithdrawURL, SignOutURL, MFAURL string
	// MFAStatus describes the second factor ("On", "Off"); empty when not
	// known.
	MFAStatus string
	// PasswordMinLength is shown as a hint on the new-password field.
	PasswordMinLength int
	Sessions          []AccountSession
	Apps              []AccountApp
	// ShowLinks shows the "Linked accounts" section (the tenant has a
	// connector or the user a link); Links are the user's links, removed
	// by posting to UnlinkURL. LinksRemovable is false when the only link
	// is the only way to sign in (no button then). LinkError explains a
	// refused removal.
	ShowLinks      bool
	Links          []AccountLink
	LinksRemovable bool
	UnlinkURL      string
	LinkError      string
}

// AccountLink is one upstream account linked to the user.
type AccountLink struct {
	// ConnectorID and Subject identify the link in the remove form.
	ConnectorID, Subject string
	// Connector is the connector's display name.
	Connector string
	// Since says when the link was made, e.g. "2 days ago".
	Since string
}

// AccountSession is one SSO session of the user on the account page.
type AccountSession struct {
	// Handle identifies the session in the end-session form; it is not the
	// session's ID.
	Handle string
	// Device is the browser and system, e.g. "Firefox on Linux".
	Device string
	// SignedIn and LastUsed are approximate, human times ("3 hours ago").
	SignedIn, LastUsed string
	// Current marks the session of the browser showing the page.
	Current bool
}

// AccountApp is one client the user has consented to.
type AccountApp struct {
	ClientID string
	Name     string
	Scopes   []ScopeView
	// Since is when the consent was last given, human-readable.
	Since string
}

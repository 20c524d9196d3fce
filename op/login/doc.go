// Package login is Herald's browser flow: the authorization endpoint's
// browser half (parameters, the prompt / max_age / SSO decision, continuing
// a request after login and consent), the login, consent, logout and error
// pages, CSRF protection of their forms, and the SSO session cookie.
//
// It never imports package op: what it needs from the OpenID Provider
// (the request's tenant, client lookup, issuing a code, verifying an
// id_token_hint, validating a logout request) is the Provider interface in
// handler.go, implemented by one adapter in op/loginflow.go.
//
// Where things live, and where new features go:
//
//	handler.go   Provider, Config, Handler and its routes
//	authorize.go /authorize: reading and validating the request (RFC 6749 §4.1.1)
//	continue.go  the next step of a request: login page, consent page or the code
//	login.go     the login form (MFA and throttling belong next to it)
//	consent.go   the consent form
//	logout.go    RP-Initiated Logout 1.0
//	session.go   the SSO session cookie and max_age
//	pages.go     rendering, security headers, cookies, CSRF, HTML-or-JSON (WantsHTML)
//	branding.go  the tenant's stylesheet ({issuer}/branding.css)
//	upstream.go  sign-in at a connector (/upstream/{id}/start, /callback, idp_hint)
//	errors.go    every HTML error page and OAuth error code the flow uses
package login

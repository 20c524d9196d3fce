// Package upstream signs people in at upstream identity providers
// ("connectors", storage.Connector): Herald is the relying party. Type oidc
// discovers the provider with coreos/go-oidc and verifies its ID token
// (signature, issuer, audience, expiry, nonce); type github uses GitHub's
// OAuth 2.0 endpoints and its /user and /user/emails APIs, at a
// configurable API base URL (GitHub Enterprise). Both send PKCE (S256).
//
// The package knows nothing of pages, sessions or local users: op/login
// stores the state, calls AuthURL and Exchange, and decides what an
// Identity means for the tenant. Errors are *Error with a Kind that
// op/login maps to a page and an OAuth error code.
package upstream

// Package op is Herald's OpenID Provider: the glue between the zitadel/oidc
// protocol engine and Herald's storage, plus the browser-facing pages
// (authorize, login, consent, logout) that the engine leaves to us.
//
// Where to look: tenants.go resolves /t/{tenant} to a tenant; authorize.go
// validates authorization requests and issues codes; grants.go redeems codes
// and refresh tokens; tokens.go mints every token; errors.go is the one place
// a storage error becomes an OAuth error. Only op/... imports zitadel/oidc.
package op

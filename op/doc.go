// Package op is Herald's OpenID Provider: the glue between the zitadel/oidc
// protocol engine and Herald's storage. The browser-facing pages
// (authorize, login, consent, logout) live in op/login; loginflow.go is the
// one adapter through which they reach the provider.
//
// Where to look: server.go builds the routes; tenants.go resolves
// /t/{tenant} or a tenant's hostname to a tenant, once per request;
// tenantcache.go is the one home of every per-tenant cache and of their
// invalidation (Forget, Changed, the notifier); grants.go redeems codes and
// refresh tokens; tokens.go mints every token; grantcheck.go decides whether
// a presented token is valid (its grant, read at every use); revoke.go
// revokes grants (docs/tokens.md); keys.go runs the scheduled signing-key
// maintenance; errors.go is the one place a storage error becomes an OAuth
// error; requestlog.go gives every request its ID and access-log line;
// cors.go decides which endpoints answer CORS and params.go refuses repeated
// or contradictory form parameters; storage.go (with storage_unrouted.go) is
// the thin adapter zitadel's op.Storage needs. docs/architecture.md walks a
// token request and a login through these files. Only op/... imports
// zitadel/oidc.
package op

// Package registry validates and creates tenants, clients and users. It is
// the one place their rules live, shared by the herald CLI and (later) the
// admin API. It talks to storage, keys and op/password only; it must not
// import net/http or zitadel/oidc.
package registry

// Package registry validates and applies every change to tenants, clients
// and users, and records each in the audit log. It is the one place their
// rules live, shared by the herald CLI and the admin API (op/admin). It
// talks to storage, keys and op/password only; it must not import net/http
// or zitadel/oidc.
//
// Its errors are typed, so that callers render them without reading error
// text: *ValidationError names the invalid field; *storage.NotFoundError and
// *storage.ConflictError name the record (and a taken field's value).
package registry

// Package storage defines Herald's persistent model: the records an OpenID
// Provider keeps (tenants, clients, users, signing keys, authorization requests,
// codes, SSO sessions, grants, tokens, consents) and the small interfaces a
// backend implements to store them. A grant is the unit of revocation: every
// token names one and is valid only while it is (grants.go).
//
// Every record is scoped by tenant. Backends live in sub-packages
// (storage/sqlite, ...) and are exercised by one contract suite in
// storage/storagetest. This package must not import net/http, zitadel/oidc or
// any database driver.
package storage

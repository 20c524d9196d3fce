// Package keys owns each tenant's JWS signing keys: generation (RS256,
// ES256, EdDSA), their lifecycle (next -> active -> retired -> removed, and
// emergency revocation; lifecycle.go, docs/keys.md), at-rest sealing of the
// private key with a key-encryption key (AES-256-GCM, tenant and kid as
// additional data; seal.go, kek.go) and an in-memory per-tenant cache of the
// parsed keys.
//
// It talks to storage.Keys and storage.Secrets only; it must not import
// net/http or zitadel/oidc.
package keys

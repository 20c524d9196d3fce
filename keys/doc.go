// Package keys owns each tenant's JWS signing keys: generation (RS256, ES256,
// EdDSA), at-rest sealing of the private key with a key-encryption key
// (AES-256-GCM), and an in-memory per-tenant cache of the parsed keys.
//
// It talks to storage.Keys only; it must not import net/http or zitadel/oidc.
package keys

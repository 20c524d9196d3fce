// Package mfa is the pure logic of Herald's second factor (docs/mfa.md):
// TOTP codes (RFC 6238, through github.com/pquerna/otp), the otpauth://
// URI and its QR code, and recovery codes with their hashes.
//
// It holds no state and imports nothing of Herald's; it must not import
// net/http, zitadel/oidc or storage. Storage of a user's factor is
// storage.SecondFactors; sealing the secret is the keys package's.
package mfa

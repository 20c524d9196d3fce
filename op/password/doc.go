// Package password hashes and verifies end-user passwords (argon2id, plus
// bcrypt for imported users) under a concurrency limit, and checks new
// passwords against Herald's policy (OWASP ASVS V2.1, V2.4).
//
// It imports nothing of Herald's and must not import net/http or zitadel/oidc.
package password

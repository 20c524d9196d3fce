package registry

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
)

// clientSecretBytes is the entropy of a generated client secret: 256 bits,
// so that a fast hash is enough to store it (a slow password hash protects
// low-entropy secrets only, and would cap the token endpoint).
const clientSecretBytes = 32

// NewClientSecret returns a fresh client secret: 32 random bytes, base64url
// without padding (43 characters).
func NewClientSecret() (string, error) {
	b := make([]byte, clientSecretBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate client secret: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// HashClientSecret is the form a client secret is stored in
// (storage.Client.SecretHash): the hex SHA-256 of the secret.
func HashClientSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// VerifyClientSecret reports whether secret hashes to hash. The hashes are
// compared in constant time; an empty hash (a public client) never matches.
func VerifyClientSecret(secret, hash string) bool {
	if hash == "" {
		return false
	}
	got := HashClientSecret(secret)
	return subtle.ConstantTimeCompare([]byte(got), []byte(hash)) == 1
}

// randomHex returns n random bytes, hex-encoded (IDs, not secrets).
func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"time"
)

// JWS algorithms (RFC 7518 §3.1, RFC 8037 §3.1) Herald can sign with.
const (
	RS256 = "RS256" // RSASSA-PKCS1-v1_5 with SHA-256; mandatory in OIDC
	ES256 = "ES256" // ECDSA P-256 with SHA-256
	EdDSA = "EdDSA" // Ed25519 (RFC 8037)
)

// rsaBits is the modulus size of generated RS256 keys. 2048 bits is the
// interoperable default: every JOSE library, HSM and cloud verifier accepts
// it, NIST SP 800-57 Part 1 rates it acceptable through 2030, and larger
// moduli make every signature (one per token) 3-7x slower and generation take
// seconds. Tenants that want a stronger or faster curve choose ES256 or EdDSA.
const rsaBits = 2048

// minRSABits is the smallest RSA modulus accepted when loading a stored key,
// so that a weak key inserted into the database is never used to sign.
const minRSABits = 2048

// kidBytes is the entropy of a generated key ID: 128 bits, URL-safe.
const kidBytes = 16

// DefaultAlgorithm is a new tenant's signing algorithm and the one whose key
// every tenant publishes: OpenID Connect Discovery 1.0 §3 requires RS256
// among id_token_signing_alg_values_supported.
const DefaultAlgorithm = RS256

// Algorithms returns every algorithm Herald can sign with, DefaultAlgorithm
// first (a fresh slice: callers may keep it).
func Algorithms() []string { return []string{RS256, ES256, EdDSA} }

// ErrUnsupportedAlgorithm is returned for an algorithm other than RS256,
// ES256 and EdDSA.
var ErrUnsupportedAlgorithm = errors.New("keys: unsupported signing algorithm (want RS256, ES256 or EdDSA)")

// ValidAlgorithm reports whether Herald can sign with alg. The comparison is
// exact: JWS alg values are case-sensitive (RFC 7515 §4.1.1).
func ValidAlgorithm(alg string) bool {
	switch alg {
	case RS256, ES256, EdDSA:
		return true
	}
	return false
}

// Key is a parsed signing key of one tenant.
type Key struct {
	// ID is the JWS kid: 128 random bits, base64url without padding.
	ID        string
	Algorithm string // RS256, ES256 or EdDSA
	// Private is *rsa.PrivateKey, *ecdsa.PrivateKey or ed25519.PrivateKey
	// (a value), the concrete types go-jose signs with. It is nil in the
	// keys PublicKeys returns.
	Private crypto.Signer
	// Public is *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey.
	Public      crypto.PublicKey
	CreatedAt   time.Time // first published
	ActivatedAt time.Time // zero unless it was ever active
	RetiredAt   time.Time // zero while next or active
	// Status is storage.KeyNext, KeyActive, KeyRetired or KeyRevoked.
	Status string
	// Active keys sign; the others are only published (next, retired) or
	// neither (revoked).
	Active bool
}

// newKeyID returns a random kid. A random ID rather than an RFC 7638
// thumbprint: it needs no JWK canonicalisation, stays unique if the same key
// material were ever imported twice, and reveals nothing about the key. 128
// bits make a collision between any two keys ever generated negligible.
func newKeyID() (string, error) {
	b := make([]byte, kidBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("keys: generate key ID: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// generateSigner creates a fresh private key for alg.
func generateSigner(alg string) (crypto.Signer, error) {
	switch alg {
	case RS256:
		return rsa.GenerateKey(rand.Reader, rsaBits)
	case ES256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case EdDSA:
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		return priv, err
	}
	return nil, ErrUnsupportedAlgorithm
}

// parseSigner decodes PKCS#8 DER and checks that the key fits alg, so that a
// record whose algorithm column disagrees with its key material (or an RSA
// key that is too small) is refused instead of producing invalid tokens.
func parseSigner(alg string, der []byte) (crypto.Signer, error) {
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("parse PKCS#8: %w", err)
	}
	switch k := parsed.(type) {
	case *rsa.PrivateKey:
		if alg != RS256 {
			return nil, fmt.Errorf("RSA key stored for algorithm %q", alg)
		}
		if k.N.BitLen() < minRSABits {
			return nil, fmt.Errorf("RSA key of %d bits is below the minimum of %d", k.N.BitLen(), minRSABits)
		}
		return k, nil
	case *ecdsa.PrivateKey:
		if alg != ES256 {
			return nil, fmt.Errorf("ECDSA key stored for algorithm %q", alg)
		}
		if k.Curve != elliptic.P256() {
			return nil, fmt.Errorf("ECDSA key on curve %s, ES256 needs P-256", k.Curve.Params().Name)
		}
		return k, nil
	case ed25519.PrivateKey:
		if alg != EdDSA {
			return nil, fmt.Errorf("Ed25519 key stored for algorithm %q", alg)
		}
		return k, nil
	}
	return nil, fmt.Errorf("unsupported private key type %T", parsed)
}

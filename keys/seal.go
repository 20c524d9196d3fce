package keys

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
)

// Formats of storage.SigningKey.PrivateKey. The first byte says which one
// a record uses, so that a KEK can be introduced later and records of both
// kinds told apart without guessing.
const (
	formatPlain  byte = 0x00 // formatPlain || PKCS#8 DER
	formatSealed byte = 0x01 // formatSealed || 12-byte nonce || AES-256-GCM(DER) with tag
)

// KEKSize is the length of a key-encryption key: AES-256.
const KEKSize = 32

// Errors opening a stored private key. They never contain key material.
var (
	// ErrSealedKeyNoKEK: the key is encrypted but no KEK is configured.
	ErrSealedKeyNoKEK = errors.New("keys: private key is encrypted but no key-encryption key is configured")
	// ErrPlainKeyWithKEK: a KEK is configured but the key is stored
	// unencrypted (created before the KEK was set, or inserted by someone
	// without the KEK). Manager.Reseal encrypts such keys.
	ErrPlainKeyWithKEK = errors.New("keys: private key is stored unencrypted although a key-encryption key is configured (run a reseal)")
	// ErrOpenFailed: authentication failed — wrong KEK, tampered record, or
	// a record copied from another tenant or key ID.
	ErrOpenFailed = errors.New("keys: cannot decrypt private key (wrong key-encryption key, or the record was altered or moved)")
)

// sealer seals and opens PKCS#8 DER. A nil aead means no KEK: DER is stored
// with the plain format byte.
type sealer struct {
	aead cipher.AEAD
}

func newSealer(kek []byte) (sealer, error) {
	if kek == nil {
		return sealer{}, nil
	}
	if len(kek) != KEKSize {
		return sealer{}, fmt.Errorf("keys: key-encryption key must be exactly %d bytes (AES-256), got %d", KEKSize, len(kek))
	}
	block, err := aes.NewCipher(kek)
	if err != nil {
		return sealer{}, fmt.Errorf("keys: key-encryption key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return sealer{}, fmt.Errorf("keys: key-encryption key: %w", err)
	}
	return sealer{aead: aead}, nil
}

// additionalData binds a sealed key to its tenant and kid: a ciphertext
// copied to another tenant's (or key's) row fails to authenticate. Each part
// is length-prefixed so that ("ab","c") and ("a","bc") differ.
func additionalData(tenant, kid string) []byte {
	ad := make([]byte, 0, 32+len(tenant)+len(kid))
	ad = append(ad, "herald-signing-key-v1"...)
	ad = binary.AppendUvarint(ad, uint64(len(tenant)))
	ad = append(ad, tenant...)
	ad = binary.AppendUvarint(ad, uint64(len(kid)))
	ad = append(ad, kid...)
	return ad
}

// seal returns the stored form of der for the key kid of tenant.
func (s sealer) seal(tenant, kid string, der []byte) ([]byte, error) {
	if s.aead == nil {
		return append([]byte{formatPlain}, der...), nil
	}
	// A random 96-bit nonce per key: a KEK seals at most a few keys per
	// tenant, far below the 2^32 messages NIST SP 800-38D allows for random
	// nonces under one key.
	nonceSize := s.aead.NonceSize()
	out := make([]byte, 1+nonceSize, 1+nonceSize+len(der)+s.aead.Overhead())
	out[0] = formatSealed
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("keys: generate nonce: %w", err)
	}
	return s.aead.Seal(out, out[1:], der, additionalData(tenant, kid)), nil
}

// open returns the PKCS#8 DER inside stored. allowPlain lets Reseal read
// unencrypted keys while a KEK is configured.
func (s sealer) open(tenant, kid string, stored []byte, allowPlain bool) ([]byte, error) {
	if len(stored) == 0 {
		return nil, errors.New("keys: stored private key is empty")
	}
	switch stored[0] {
	case formatPlain:
		if s.aead != nil && !allowPlain {
			return nil, ErrPlainKeyWithKEK
		}
		return stored[1:], nil
	case formatSealed:
		if s.aead == nil {
			return nil, ErrSealedKeyNoKEK
		}
		nonceSize := s.aead.NonceSize()
		if len(stored) < 1+nonceSize+s.aead.Overhead() {
			return nil, ErrOpenFailed
		}
		nonce, ciphertext := stored[1:1+nonceSize], stored[1+nonceSize:]
		der, err := s.aead.Open(nil, nonce, ciphertext, additionalData(tenant, kid))
		if err != nil {
			return nil, ErrOpenFailed
		}
		return der, nil
	}
	return nil, fmt.Errorf("keys: unknown private key format version %d", stored[0])
}

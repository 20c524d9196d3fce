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
// with the plain format byte. previous holds KEKs that are still accepted
// for opening but never used to seal: during a KEK change every replica
// must open what any other replica sealed (docs/keys.md, rewrap runbook).
// Opening tries the current KEK first, then each previous one: GCM
// authentication tells a wrong key apart without a key ID in the record.
type sealer struct {
	aead     cipher.AEAD
	previous []cipher.AEAD
}

// WithPreviousKEK adds a key-encryption key that opens keys sealed before a
// KEK change (HERALD_KEY_ENCRYPTION_KEY_PREVIOUS). It never seals. nil or
// empty is ignored.
func WithPreviousKEK(kek []byte) Option {
	return func(m *Manager) {
		if len(kek) == 0 {
			return
		}
		s, err := newSealer(kek)
		if err != nil {
			m.optErr = fmt.Errorf("previous %w", err)
			return
		}
		m.sealer.previous = append(m.sealer.previous, s.aead)
	}
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
	return s.sealAD(der, additionalData(tenant, kid))
}

// sealAD seals plain with the current KEK under additional data ad.
func (s sealer) sealAD(plain, ad []byte) ([]byte, error) {
	// A random 96-bit nonce per key: a KEK seals at most a few keys per
	// tenant, far below the 2^32 messages NIST SP 800-38D allows for random
	// nonces under one key.
	nonceSize := s.aead.NonceSize()
	out := make([]byte, 1+nonceSize, 1+nonceSize+len(plain)+s.aead.Overhead())
	out[0] = formatSealed
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("keys: generate nonce: %w", err)
	}
	return s.aead.Seal(out, out[1:], plain, ad), nil
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
		der, _, err := s.openSealed(stored, additionalData(tenant, kid))
		return der, err
	}
	return nil, fmt.Errorf("keys: unknown private key format version %d", stored[0])
}

// openSealed opens a formatSealed record with the current KEK or, failing
// that, a previous one; current reports which.
func (s sealer) openSealed(stored, ad []byte) (plain []byte, current bool, err error) {
	if s.aead == nil && len(s.previous) == 0 {
		return nil, false, ErrSealedKeyNoKEK
	}
	for i, aead := range append([]cipher.AEAD{s.aead}, s.previous...) {
		if aead == nil {
			continue
		}
		nonceSize := aead.NonceSize()
		if len(stored) < 1+nonceSize+aead.Overhead() {
			return nil, false, ErrOpenFailed
		}
		nonce, ciphertext := stored[1:1+nonceSize], stored[1+nonceSize:]
		if der, err := aead.Open(nil, nonce, ciphertext, ad); err == nil {
			return der, i == 0, nil
		}
	}
	return nil, false, ErrOpenFailed
}

// sealedUnderCurrent reports whether stored is sealed with the current KEK
// (nothing to rewrap).
func (s sealer) sealedUnderCurrent(stored, ad []byte) bool {
	if s.aead == nil || len(stored) == 0 || stored[0] != formatSealed {
		return false
	}
	_, current, err := s.openSealed(stored, ad)
	return err == nil && current
}

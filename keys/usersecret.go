package keys

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// User secrets (a TOTP secret, docs/mfa.md) are sealed like signing keys:
// AES-256-GCM under the KEK, bound by additional data to their purpose,
// tenant and user, so that a sealed value copied to another user's record
// does not open. Without a KEK (development) they are stored with the
// plain format byte, and refused once a KEK is configured, as signing keys
// are.

func userSecretAD(purpose, tenant, userID string) []byte {
	ad := make([]byte, 0, 40+len(purpose)+len(tenant)+len(userID))
	ad = append(ad, "herald-user-secret-v1"...)
	for _, p := range []string{purpose, tenant, userID} {
		ad = binary.AppendUvarint(ad, uint64(len(p)))
		ad = append(ad, p...)
	}
	return ad
}

// SealUserSecret returns the stored form of a user's secret for purpose
// (e.g. "totp").
func (m *Manager) SealUserSecret(purpose, tenant, userID string, plain []byte) ([]byte, error) {
	if purpose == "" || tenant == "" || userID == "" {
		return nil, errors.New("keys: user secret: purpose, tenant and user must not be empty")
	}
	return m.sealSecret(plain, userSecretAD(purpose, tenant, userID))
}

// OpenUserSecret opens what SealUserSecret returned for the same purpose,
// tenant and user (with the current or a previous KEK). Errors never
// contain secret material.
func (m *Manager) OpenUserSecret(purpose, tenant, userID string, stored []byte) ([]byte, error) {
	v, err := m.openSecret(stored, userSecretAD(purpose, tenant, userID), false)
	if err != nil {
		return nil, fmt.Errorf("keys: %s secret of user %q in tenant %q: %w", purpose, userID, tenant, kekError(err))
	}
	// A copy: the plain format's value aliases stored, and callers clear
	// what they get.
	return bytes.Clone(v), nil
}

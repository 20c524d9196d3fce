package keys

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/herald-idp/herald/storage"
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
	// openSecret returns a fresh slice (a copy for the plain format), so
	// callers may clear it.
	return v, nil
}

// TOTPSecretPurpose is the purpose TOTP secrets are sealed for.
const TOTPSecretPurpose = "totp"

// WithSecondFactors lets Rewrap re-seal the users' TOTP secrets too.
func WithSecondFactors(s storage.SecondFactors) Option {
	return func(m *Manager) { m.secondFactors = s }
}

// rewrapUserSecrets re-seals every TOTP secret of tenant not sealed under
// the current KEK, each by compare-and-set (a set-up restarted meanwhile is
// left as it is), and reports how many it re-sealed.
func (m *Manager) rewrapUserSecrets(ctx context.Context, tenant string) (int, error) {
	if m.secondFactors == nil {
		return 0, nil
	}
	factors, err := m.secondFactors.ListSecondFactors(ctx, tenant)
	if err != nil {
		return 0, fmt.Errorf("keys: list second factors of tenant %q: %w", tenant, err)
	}
	n := 0
	for _, f := range factors {
		ad := userSecretAD(TOTPSecretPurpose, tenant, f.UserID)
		if m.sealer.sealedUnderCurrent(f.Secret, ad) {
			continue
		}
		plain, err := m.openSecret(f.Secret, ad, true)
		if err != nil {
			return n, fmt.Errorf("keys: rewrap TOTP secret of user %q in tenant %q: %w", f.UserID, tenant, kekError(err))
		}
		sealed, err := m.sealSecret(plain, ad)
		clear(plain)
		if err != nil {
			return n, err
		}
		ok, err := m.secondFactors.SwapSecondFactorSecret(ctx, tenant, f.UserID, f.Secret, sealed)
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			return n, fmt.Errorf("keys: rewrap TOTP secret of user %q in tenant %q: %w", f.UserID, tenant, err)
		}
		if ok {
			n++
		}
	}
	return n, nil
}

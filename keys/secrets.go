package keys

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/herald-idp/herald/storage"
)

// sealedSecretPrefix names the storage.Secrets entries SealedSecret keeps.
// A new name rather than sealing in place: replicas of the previous release
// read the old, unsealed entry during a rolling upgrade, and a stored value
// of either kind cannot be told apart by its bytes.
const sealedSecretPrefix = "sealed/"

// errNoLegacySecret makes storage.Secrets.Secret store nothing (a failing
// generator stores nothing), so that it can be used as a read.
var errNoLegacySecret = errors.New("keys: no unsealed secret")

func secretAD(name string) []byte { return additionalData("", "secret/"+name) }

// SealedSecret returns the installation-wide secret called name: size
// random bytes, generated on first use and stored in secrets sealed under
// the KEK (AES-256-GCM, the name as additional data), like the signing keys;
// unencrypted only when no KEK is configured (development). An
// installation that kept the secret unsealed under name before keeps its
// value (so that what it protected stays valid); that old entry is left for
// replicas of the previous release. Every replica gets the same value.
func (m *Manager) SealedSecret(ctx context.Context, secrets storage.Secrets, name string, size int) ([]byte, error) {
	ad := secretAD(name)
	stored, err := secrets.Secret(ctx, sealedSecretPrefix+name, func() ([]byte, error) {
		v, err := secrets.Secret(ctx, name, func() ([]byte, error) { return nil, errNoLegacySecret })
		switch {
		case errors.Is(err, errNoLegacySecret):
			v = make([]byte, size)
			if _, err := rand.Read(v); err != nil {
				return nil, err
			}
		case err != nil:
			return nil, err
		}
		return m.sealSecret(v, ad)
	})
	if err != nil {
		return nil, fmt.Errorf("keys: secret %q: %w", name, err)
	}
	v, err := m.openSecret(stored, ad, false)
	if err != nil {
		return nil, fmt.Errorf("keys: secret %q: %w", name, kekError(err))
	}
	if len(v) != size {
		return nil, fmt.Errorf("keys: secret %q is %d bytes, want %d", name, len(v), size)
	}
	return v, nil
}

func (m *Manager) sealSecret(v, ad []byte) ([]byte, error) {
	if m.sealer.aead == nil {
		return append([]byte{formatPlain}, v...), nil
	}
	return m.sealer.sealAD(v, ad)
}

func (m *Manager) openSecret(stored, ad []byte, allowPlain bool) ([]byte, error) {
	if len(stored) == 0 {
		return nil, ErrOpenFailed
	}
	switch stored[0] {
	case formatPlain:
		if m.sealer.aead != nil && !allowPlain {
			return nil, ErrPlainKeyWithKEK
		}
		// A copy: callers clear what they opened (op/login clears TOTP
		// secrets), which must not zero the stored record they hold.
		return bytes.Clone(stored[1:]), nil
	case formatSealed:
		v, _, err := m.sealer.openSealed(stored, ad)
		return v, err
	}
	return nil, fmt.Errorf("keys: unknown sealed format %d", stored[0])
}

// rewrapSecret re-seals one SealedSecret entry under the current KEK (or
// seals a plain one); absent entries are skipped. It reports whether it
// changed the entry.
func (m *Manager) rewrapSecret(ctx context.Context, stored []byte, name string, ad []byte) (bool, error) {
	for range 3 {
		if m.sealer.sealedUnderCurrent(stored, ad) {
			return false, nil
		}
		v, err := m.openSecret(stored, ad, true)
		if err != nil {
			return false, kekError(err)
		}
		sealed, err := m.sealSecret(v, ad)
		clear(v)
		if err != nil {
			return false, err
		}
		ok, err := m.secrets.SwapSecret(ctx, name, stored, sealed)
		if err != nil || ok {
			return ok, err
		}
		// Changed under us (another rewrap): look again.
		stored, err = m.secrets.Secret(ctx, name, func() ([]byte, error) { return nil, errNoLegacySecret })
		if err != nil {
			return false, err
		}
	}
	return false, fmt.Errorf("keys: secret %q kept changing; run rewrap again", name)
}

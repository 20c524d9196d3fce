package keys

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/herald-idp/herald/storage"
)

// kekCheckName is the storage.Secrets entry that holds the KEK check value:
// a known plaintext sealed under the KEK that sealed the stored keys. At
// start-up it tells "wrong or missing KEK" apart from a working one before
// any request is served, even for tenants whose keys are not loaded yet.
const kekCheckName = "kek-check"

// kekCheckPlain is what the check value seals. The additional data binds it
// to an empty tenant, which no real key can have.
var kekCheckPlain = []byte("herald key-encryption key check v1")

var kekCheckAD = additionalData("", "herald-kek-check")

// kekProbeTenants bounds how many tenants' keys CheckKEK opens.
const kekProbeTenants = 3

// Errors of CheckKEK. Their text names no environment variable: the keys
// package does not know how the KEK was configured; cmd adds that.
var (
	// ErrWrongKEK: the configured KEK (and any previous one) does not open
	// what is stored.
	ErrWrongKEK = errors.New("keys: the key-encryption key does not match the one that sealed the stored keys")
	// ErrPlaintextStored: a KEK is configured but the installation stored
	// its keys unencrypted so far; a rewrap seals them.
	ErrPlaintextStored = errors.New("keys: signing keys are stored unencrypted although a key-encryption key is configured (run herald keys rewrap)")
)

// WithSecrets gives the Manager the store's installation-wide secrets, where
// CheckKEK and Rewrap keep the KEK check value.
func WithSecrets(s storage.Secrets) Option {
	return func(m *Manager) { m.secrets = s }
}

// Encrypted reports whether a KEK is configured (keys are sealed).
func (m *Manager) Encrypted() bool { return m.sealer.aead != nil }

// CheckKEK verifies at start-up that the configured key-encryption key (or
// a previous one) opens what is stored: the KEK check value, created on
// first use, and the keys of up to three of tenants. It returns
// ErrSealedKeyNoKEK when keys are sealed but no KEK is configured,
// ErrWrongKEK when it does not match, and ErrPlaintextStored when a KEK is
// configured for keys stored without one. A replica that fails this must
// not serve: every token request would fail.
func (m *Manager) CheckKEK(ctx context.Context, tenants []string) error {
	if m.secrets == nil {
		return errors.New("keys: CheckKEK needs WithSecrets")
	}
	// Open stored keys first, so that a wrong KEK on an installation that
	// predates the check value is refused before it seals a check value.
	probed := 0
	for _, t := range tenants {
		if probed == kekProbeTenants {
			break
		}
		recs, err := m.store.ListKeys(ctx, t)
		if err != nil {
			return fmt.Errorf("keys: list keys of tenant %q: %w", t, err)
		}
		if len(recs) == 0 {
			continue
		}
		probed++
		for _, rec := range recs {
			if _, err := m.sealer.open(t, rec.ID, rec.PrivateKey, false); err != nil {
				return kekError(err)
			}
		}
	}
	stored, err := m.secrets.Secret(ctx, kekCheckName, func() ([]byte, error) {
		return m.sealCheck()
	})
	if err != nil {
		return fmt.Errorf("keys: key-encryption key check value: %w", err)
	}
	plain, err := m.openCheck(stored, false)
	if err != nil {
		return kekError(err)
	}
	if !bytes.Equal(plain, kekCheckPlain) {
		return ErrWrongKEK
	}
	return nil
}

func kekError(err error) error {
	switch {
	case errors.Is(err, ErrOpenFailed):
		return ErrWrongKEK
	case errors.Is(err, ErrPlainKeyWithKEK):
		return ErrPlaintextStored
	}
	return err
}

func (m *Manager) sealCheck() ([]byte, error) {
	if m.sealer.aead == nil {
		return append([]byte{formatPlain}, kekCheckPlain...), nil
	}
	return m.sealer.sealAD(kekCheckPlain, kekCheckAD)
}

// openCheck opens the KEK check value: a secret like any other, under its
// own associated data.
func (m *Manager) openCheck(stored []byte, allowPlain bool) ([]byte, error) {
	return m.openSecret(stored, kekCheckAD, allowPlain)
}

// RewrapResult counts what Rewrap did.
type RewrapResult struct {
	Resealed  int `json:"resealed"`  // keys sealed anew under the current KEK
	Unchanged int `json:"unchanged"` // keys already sealed under it
	Secrets   int `json:"secrets_resealed"`
	// UserSecrets counts users' TOTP secrets sealed anew (WithSecondFactors).
	UserSecrets int  `json:"user_secrets_resealed"`
	Check       bool `json:"check_value_resealed"`
}

// Rewrap re-encrypts every key of tenants, the SealedSecret entries called
// secretNames, and the KEK check value under the current KEK, opening them with the current or a previous KEK, or
// reading them unencrypted. Each key is rewritten in its own transaction
// (UpdateKey), so replicas keep serving throughout: a replica that reads a
// key mid-way opens it with whichever of its KEKs matches, and its cached
// keys are unaffected. Run it again after a failure: keys done already are
// skipped.
func (m *Manager) Rewrap(ctx context.Context, tenants []string, secretNames ...string) (*RewrapResult, error) {
	if m.sealer.aead == nil {
		return nil, errors.New("keys: rewrap needs a key-encryption key to seal under")
	}
	if m.secrets == nil {
		return nil, errors.New("keys: Rewrap needs WithSecrets")
	}
	res := &RewrapResult{}
	for _, tenant := range tenants {
		records, err := m.store.ListKeys(ctx, tenant)
		if err != nil {
			return res, fmt.Errorf("keys: list keys of tenant %q: %w", tenant, err)
		}
		for _, rec := range records {
			if m.sealer.sealedUnderCurrent(rec.PrivateKey, additionalData(tenant, rec.ID)) {
				res.Unchanged++
				continue
			}
			resealed := false
			_, err := m.store.UpdateKey(ctx, tenant, rec.ID, func(k *storage.SigningKey) error {
				resealed = false // re-decided on every attempt, inside the transaction
				if m.sealer.sealedUnderCurrent(k.PrivateKey, additionalData(tenant, k.ID)) {
					return nil
				}
				der, err := m.sealer.open(tenant, k.ID, k.PrivateKey, true)
				if err != nil {
					return err
				}
				if _, err := parseSigner(k.Algorithm, der); err != nil {
					return fmt.Errorf("keys: key %q of tenant %q: %w", k.ID, tenant, err)
				}
				sealed, err := m.sealer.seal(tenant, k.ID, der)
				clear(der)
				if err != nil {
					return err
				}
				k.PrivateKey, resealed = sealed, true
				return nil
			})
			if err != nil {
				return res, fmt.Errorf("keys: rewrap key %q of tenant %q: %w", rec.ID, tenant, kekError(err))
			}
			if resealed {
				res.Resealed++
			} else {
				res.Unchanged++
			}
		}
		m.Invalidate(tenant)
		n, err := m.rewrapUserSecrets(ctx, tenant)
		res.UserSecrets += n
		if err != nil {
			return res, err
		}
	}
	for _, name := range secretNames {
		stored, err := m.secrets.Secret(ctx, sealedSecretPrefix+name, func() ([]byte, error) { return nil, errNoLegacySecret })
		if errors.Is(err, errNoLegacySecret) {
			continue // never created: nothing to rewrap
		}
		if err != nil {
			return res, fmt.Errorf("keys: secret %q: %w", name, err)
		}
		changed, err := m.rewrapSecret(ctx, stored, sealedSecretPrefix+name, secretAD(name))
		if err != nil {
			return res, fmt.Errorf("keys: rewrap secret %q: %w", name, err)
		}
		if changed {
			res.Secrets++
		}
	}
	// The check value last: once it opens only under the new KEK, a replica
	// started with just the old one refuses to start, which is right now
	// that every key is sealed under the new one.
	for range 3 {
		stored, err := m.secrets.Secret(ctx, kekCheckName, m.sealCheck)
		if err != nil {
			return res, fmt.Errorf("keys: key-encryption key check value: %w", err)
		}
		if m.sealer.sealedUnderCurrent(stored, kekCheckAD) {
			return res, nil
		}
		plain, err := m.openCheck(stored, true)
		if err != nil {
			return res, kekError(err)
		}
		if !bytes.Equal(plain, kekCheckPlain) {
			return res, ErrWrongKEK
		}
		sealed, err := m.sealCheck()
		if err != nil {
			return res, err
		}
		ok, err := m.secrets.SwapSecret(ctx, kekCheckName, stored, sealed)
		if err != nil {
			return res, fmt.Errorf("keys: key-encryption key check value: %w", err)
		}
		if ok {
			res.Check = true
			return res, nil
		}
	}
	return res, errors.New("keys: key-encryption key check value kept changing; run rewrap again")
}

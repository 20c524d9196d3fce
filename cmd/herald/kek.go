package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/herald-idp/herald/keys"
	"github.com/herald-idp/herald/storage"
)

// errKEKRequired: PostgreSQL without a KEK and without the development
// switch. Replicas share the database, so a generated local file would not
// do, and plaintext keys would let anyone who reads the database or a
// backup of it sign tokens for every tenant.
var errKEKRequired = errors.New("HERALD_KEY_ENCRYPTION_KEY (or HERALD_KEY_ENCRYPTION_KEY_FILE) is required with this database: " +
	"the base64 of 32 random bytes (openssl rand -base64 32), the same on every replica, kept out of the database. " +
	"For development only, HERALD_ALLOW_PLAINTEXT_KEYS=true stores signing keys unencrypted")

// plaintextKeysAllowed is keyEncryptionKey's answer when no KEK is
// configured and none can be generated.
func (c *Config) plaintextKeysAllowed() error {
	if c.AllowPlaintextKeys {
		return nil
	}
	return errKEKRequired
}

// previousKEK returns the KEK of HERALD_KEY_ENCRYPTION_KEY_PREVIOUS(_FILE):
// accepted for opening keys sealed before a KEK change, never for sealing.
// nil when unset.
func (c *Config) previousKEK() ([]byte, error) {
	switch {
	case c.KeyEncryptionKeyPrevious != "" && c.KeyEncryptionKeyPreviousFile != "":
		return nil, errors.New("HERALD_KEY_ENCRYPTION_KEY_PREVIOUS and HERALD_KEY_ENCRYPTION_KEY_PREVIOUS_FILE: set only one")
	case c.KeyEncryptionKeyPrevious != "":
		k, err := decodeKEK([]byte(c.KeyEncryptionKeyPrevious))
		if err != nil {
			return nil, fmt.Errorf("HERALD_KEY_ENCRYPTION_KEY_PREVIOUS: %w", err)
		}
		return k, nil
	case c.KeyEncryptionKeyPreviousFile != "":
		return readKEKFile("HERALD_KEY_ENCRYPTION_KEY_PREVIOUS_FILE", c.KeyEncryptionKeyPreviousFile)
	}
	return nil, nil
}

func readKEKFile(setting, path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", setting, err)
	}
	k, err := decodeKEK(b)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", setting, path, err)
	}
	return k, nil
}

// keyPolicy is the key lifecycle timing: the documented defaults with the
// configured rotation period.
func (c *Config) keyPolicy() (keys.Policy, error) {
	p := keys.DefaultPolicy()
	if c.KeyRotationPeriod != 0 {
		p.RotationPeriod = c.KeyRotationPeriod
	}
	if err := p.Validate(); err != nil {
		return p, fmt.Errorf("HERALD_KEY_ROTATION_PERIOD: %w", err)
	}
	return p, nil
}

// newKeyManager builds the key manager over store: the configured KEK
// seals, the previous one (if any) also opens, and — unless the command is
// the rewrap that repairs exactly this — the KEK is checked against what is
// stored, so that a replica with a missing or wrong KEK refuses to start
// instead of answering every token request with 500.
func newKeyManager(ctx context.Context, cfg *Config, store storage.Store, kek []byte, logger *slog.Logger, checkKEK bool) (*keys.Manager, error) {
	prev, err := cfg.previousKEK()
	if err != nil {
		return nil, err
	}
	policy, err := cfg.keyPolicy()
	if err != nil {
		return nil, err
	}
	opts := []keys.Option{keys.WithSecrets(store.Secrets()), keys.WithSecondFactors(store.SecondFactors()), keys.WithPreviousKEK(prev), keys.WithPolicy(policy)}
	if _, notified := store.(storage.Notifier); !notified {
		// No change notifications (SQLite, where the CLI writes from another
		// process): see a rotation within a second, like the other caches.
		opts = append(opts, keys.WithCacheTTL(time.Second))
	}
	km, err := keys.NewManager(store.Keys(), kek, opts...)
	if err != nil {
		return nil, err
	}
	if checkKEK {
		tenants, err := tenantNames(ctx, store)
		if err != nil {
			return nil, err
		}
		if err := km.CheckKEK(ctx, tenants); err != nil {
			return nil, kekStartupError(err)
		}
	}
	if kek == nil {
		// After the check: on a database whose keys are sealed the check
		// refuses, and this warning would be false.
		logger.Warn("DEVELOPMENT ONLY: signing keys are stored unencrypted (HERALD_ALLOW_PLAINTEXT_KEYS=true); "+
			"anyone who can read the database can sign tokens",
			"hint", "set HERALD_KEY_ENCRYPTION_KEY or HERALD_KEY_ENCRYPTION_KEY_FILE, then run herald keys rewrap")
	}
	return km, nil
}

func tenantNames(ctx context.Context, store storage.Store) ([]string, error) {
	ts, err := store.Tenants().ListTenants(ctx)
	if err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = t.Name
	}
	return names, nil
}

// kekStartupError says what to do about a failed KEK check, naming the
// settings involved (never their values).
func kekStartupError(err error) error {
	switch {
	case errors.Is(err, keys.ErrSealedKeyNoKEK):
		return errors.New("the stored signing keys are encrypted but no key-encryption key is configured: " +
			"set HERALD_KEY_ENCRYPTION_KEY (or HERALD_KEY_ENCRYPTION_KEY_FILE) to the key they were sealed with")
	case errors.Is(err, keys.ErrWrongKEK):
		return errors.New("HERALD_KEY_ENCRYPTION_KEY (or HERALD_KEY_ENCRYPTION_KEY_FILE) does not match the key-encryption key " +
			"that sealed the stored signing keys: set the right one (during a KEK change, the other one in " +
			"HERALD_KEY_ENCRYPTION_KEY_PREVIOUS); refusing to start rather than fail every token request")
	case errors.Is(err, keys.ErrPlaintextStored):
		return errors.New("the stored signing keys are unencrypted but HERALD_KEY_ENCRYPTION_KEY is set: " +
			"run herald keys rewrap (with the same settings) once to seal them")
	}
	return fmt.Errorf("check the key-encryption key: %w", err)
}

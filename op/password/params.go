package password

import (
	"errors"
	"fmt"
)

// Fixed argon2id output sizes: a 16-byte salt (RFC 9106 §3.1 recommends 128
// bits) and a 32-byte tag.
const (
	SaltLength = 16
	KeyLength  = 32
)

// Limits of Params.Validate.
const (
	// MinMemoryKiB is OWASP's floor for argon2id (19 MiB with t=2, p=1;
	// Password Storage Cheat Sheet).
	MinMemoryKiB = 19 * 1024
	// MaxMemoryKiB guards against a typo that would make every login
	// allocate gigabytes (4 GiB).
	MaxMemoryKiB = 4 * 1024 * 1024
)

// Params are the argon2id cost parameters. Each hash records the ones it was
// made with, so they can change at any time: old hashes still verify and are
// upgraded at the next login (Hasher.Verify's needsRehash).
type Params struct {
	MemoryKiB   uint32 // m, in KiB
	Iterations  uint32 // t, passes over memory
	Parallelism uint8  // p, lanes
}

// DefaultParams returns m=64 MiB, t=3, p=2. This is RFC 9106 §4's second
// recommended option (64 MiB, t=3) with the lanes scaled from 4 to 2 so a
// server can run more logins at once, and well above OWASP's minimum
// (19 MiB, t=2, p=1): a hash costs roughly 50-100 ms of one core.
func DefaultParams() Params {
	return Params{MemoryKiB: 64 * 1024, Iterations: 3, Parallelism: 2}
}

// Validate reports every parameter outside Herald's limits. Messages
// name the field so a configuration error is easy to fix.
func (p Params) Validate() error {
	var errs []error
	if p.MemoryKiB < MinMemoryKiB {
		errs = append(errs, fmt.Errorf("password: MemoryKiB is %d, must be at least %d (19 MiB, OWASP)", p.MemoryKiB, MinMemoryKiB))
	}
	if p.MemoryKiB > MaxMemoryKiB {
		errs = append(errs, fmt.Errorf("password: MemoryKiB is %d, must be at most %d (4 GiB)", p.MemoryKiB, MaxMemoryKiB))
	}
	if p.Iterations < 1 {
		errs = append(errs, errors.New("password: Iterations must be at least 1"))
	}
	if p.Parallelism < 1 {
		errs = append(errs, errors.New("password: Parallelism must be at least 1"))
	}
	return errors.Join(errs...)
}

// Bounds on the parameters of a stored hash before Herald spends work on it.
// Hashes come from our own database or from an import; a planted or corrupt
// one must not pin a CPU for minutes, exhaust memory, panic argon2 (t=0,
// p=0 and an empty tag all panic inside x/crypto/argon2) or be easy to match
// (a 1-byte tag matches one password in 256).
const (
	maxStoredMemoryKiB  = 1024 * 1024 // 1 GiB, or the configured value if larger
	maxStoredIterations = 16          // or the configured value if larger
	minStoredSaltLength = 8           // RFC 9106 §3.1 minimum
	minStoredKeyLength  = 16          // 128-bit tag
	// maxBcryptCost: cost 14 is ~1 s of CPU; beyond that a single login is a
	// denial of service. Imported hashes above it must be reset.
	maxBcryptCost = 14
)

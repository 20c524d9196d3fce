package storage

import (
	"context"
	"crypto/subtle"
	"time"
)

// SecondFactor is a user's TOTP second factor (RFC 6238; docs/mfa.md). A
// record with a zero ConfirmedAt is a set-up in progress: it is never asked
// for at sign-in and is replaced by the next set-up.
type SecondFactor struct {
	TenantID string
	UserID   string
	// Secret is the TOTP secret sealed under the key-encryption key by the
	// keys package (bound to tenant and user); never the plain secret.
	Secret []byte
	// ConfirmedAt is when the user proved the set-up with a first code;
	// zero while pending.
	ConfirmedAt time.Time
	// LastUsedStep is the TOTP time step (unix time / 30 s) of the last
	// accepted code: a code of this step or an earlier one is refused
	// (RFC 6238 §5.2: "MUST NOT accept the second attempt of the same OTP").
	LastUsedStep int64
	// RecoveryCodes are the hashes of the unused recovery codes (the codes
	// themselves are shown once and never stored).
	RecoveryCodes []string
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Confirmed reports whether the factor is in use (set-up finished).
func (f *SecondFactor) Confirmed() bool { return !f.ConfirmedAt.IsZero() }

// SecondFactors holds users' second factors, at most one per user. A user's
// record goes with the user (DeleteUser) and the tenant (DeleteTenant).
type SecondFactors interface {
	// SecondFactor returns the user's factor, confirmed or pending;
	// ErrNotFound if there is none.
	SecondFactor(ctx context.Context, tenant, userID string) (*SecondFactor, error)
	// BeginSecondFactor stores f (ConfirmedAt must be zero) as the user's
	// pending set-up, replacing a pending one. If the user has a confirmed
	// factor it stores nothing and returns ErrAlreadyExists (remove it
	// first). An unknown user or tenant is ErrNotFound.
	BeginSecondFactor(ctx context.Context, f *SecondFactor) error
	// ConfirmSecondFactor finishes a set-up atomically: the pending factor
	// whose sealed secret is still secret (a set-up restarted meanwhile is
	// not confirmed by the old one's code) becomes confirmed at at, with
	// step as its last used step and recoveryCodes as its code hashes.
	// ErrAlreadyExists if the user's factor is confirmed already;
	// ErrNotFound if there is no such pending factor.
	ConfirmSecondFactor(ctx context.Context, tenant, userID string, secret []byte, step int64, recoveryCodes []string, at time.Time) error
	// UseTOTPStep records the use of the code of time step step, atomically:
	// only a step after LastUsedStep of the confirmed factor is accepted;
	// any other is ErrAlreadyUsed (a replayed code). Of concurrent uses of
	// one step exactly one succeeds. No confirmed factor: ErrNotFound.
	UseTOTPStep(ctx context.Context, tenant, userID string, step int64, at time.Time) error
	// UseRecoveryCode removes the recovery-code hash codeHash from the
	// confirmed factor, atomically (comparing in constant time, see
	// MatchHash), and reports how many codes remain. Of concurrent uses of
	// one code exactly one succeeds. An unknown or used code, or no
	// confirmed factor: ErrNotFound.
	UseRecoveryCode(ctx context.Context, tenant, userID, codeHash string, at time.Time) (remaining int, err error)
	// ReplaceRecoveryCodes sets the confirmed factor's code hashes (the old
	// codes stop working). No confirmed factor: ErrNotFound.
	ReplaceRecoveryCodes(ctx context.Context, tenant, userID string, codeHashes []string, at time.Time) error
	// DeleteSecondFactor removes the user's factor, confirmed or pending;
	// ErrNotFound if there is none.
	DeleteSecondFactor(ctx context.Context, tenant, userID string) error
	// ListSecondFactors returns the tenant's factors, confirmed or pending,
	// ordered by user ID (re-sealing the secrets under a new KEK).
	ListSecondFactors(ctx context.Context, tenant string) ([]*SecondFactor, error)
	// SwapSecondFactorSecret replaces the user's sealed secret with new if
	// it is still old (compare-and-set, so that a re-seal never overwrites
	// a set-up restarted meanwhile) and reports whether it did. No factor:
	// ErrNotFound.
	SwapSecondFactorSecret(ctx context.Context, tenant, userID string, old, new []byte) (bool, error)
}

// MatchHash returns the index of h in hashes, or -1. Every element is
// compared in constant time and the loop never stops early, so the time
// taken says nothing about which (or whether one) matched. Backends use it
// for UseRecoveryCode.
func MatchHash(hashes []string, h string) int {
	found := -1
	for i, c := range hashes {
		if subtle.ConstantTimeCompare([]byte(c), []byte(h)) == 1 && found < 0 {
			found = i
		}
	}
	return found
}

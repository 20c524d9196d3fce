package storage

import (
	"context"
	"time"
)

// LoginAttempts counts sign-in attempts under opaque keys (keyed hashes of
// a source address, an account, or both), so that every replica applies the
// same exponential back-off. Records expire by themselves: there is no
// permanent lock.
type LoginAttempts interface {
	// Attempt decides, atomically, whether one more attempt under key may
	// go ahead at now. If the key is still backing off (now is before its
	// RetryAt) nothing changes and Allowed is false. Otherwise the attempt
	// is counted, RetryAt becomes now + rule.Delay(count), the record is
	// kept until RetryAt + rule.Window, and Allowed is true. Of concurrent
	// calls each sees the counts of those before it.
	Attempt(ctx context.Context, tenant, key string, now time.Time, rule ThrottleRule) (ThrottleDecision, error)
	// ResetAttempts forgets key (after a successful login). Absent keys are
	// not an error.
	ResetAttempts(ctx context.Context, tenant, key string) error
}

// ThrottleRule is an exponential back-off: Free attempts go through at
// once, then attempt Free+k must wait Base·2^(k-1) after the one before it,
// at most Max. A key with no attempt for Window after its last wait ends
// starts from zero again.
type ThrottleRule struct {
	Free   int
	Base   time.Duration
	Max    time.Duration
	Window time.Duration
}

// Delay is how long after the count-th attempt the next one must wait.
// Backends implement exactly this formula (Redis in Lua, in milliseconds).
func (r ThrottleRule) Delay(count int) time.Duration {
	if count <= r.Free || r.Base <= 0 {
		return 0
	}
	e := count - r.Free - 1
	if e >= 40 {
		return r.Max
	}
	d := r.Base << e
	if d > r.Max || d <= 0 {
		d = r.Max
	}
	return d.Truncate(time.Millisecond)
}

// ThrottleDecision is the answer of LoginAttempts.Attempt.
type ThrottleDecision struct {
	Allowed bool
	// Count is the number of attempts counted so far (this one included
	// when Allowed).
	Count int
	// RetryAt is when the next attempt may go ahead.
	RetryAt time.Time
}

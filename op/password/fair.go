package password

import (
	"context"
	"sync"

	"golang.org/x/crypto/bcrypt"
)

// Fair hashing under a flood (issue 10, item 3). A login storm is many
// addresses each sending guesses as fast as it can. Two rules keep one
// real user's login within a couple of seconds:
//
//   - an address may run at most perAddress hashes at once; more concurrent
//     requests from it fail at once with ErrBusy, costing nothing, so twenty
//     addresses hold at most 20×perAddress waiters instead of every slot;
//   - callers on a known device (Caller.Priority, set by the login flow
//     when the device cookie proves an earlier login of that account) may
//     also use reservedSlots(maxConcurrent) slots that nobody else can take.
//
// Memory: at most (maxConcurrent + reserved) × MemoryKiB is hashing at once.

// DefaultPerAddress is how many hashes one source address may run at once.
const DefaultPerAddress = 2

// reservedSlots is a quarter of maxConcurrent, at least one.
func reservedSlots(maxConcurrent int) int { return max(1, maxConcurrent/4) }

// Caller says on whose behalf a hash runs.
type Caller struct {
	// Address is the client's source address (or network); "" means no
	// per-address cap (administrative calls).
	Address string
	// Priority: a known device, which may use the reserved slots.
	Priority bool
}

type callerKey struct{}

// WithCaller returns ctx carrying c for Verify, VerifyLogin and Hash.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

func callerFrom(ctx context.Context) Caller {
	c, _ := ctx.Value(callerKey{}).(Caller)
	return c
}

// SetPerAddress changes the per-address cap (n ≤ 0: DefaultPerAddress).
// Call it before the hasher is used.
func (h *Hasher) SetPerAddress(n int) {
	if n <= 0 {
		n = DefaultPerAddress
	}
	h.perAddress = n
}

// takeAddress counts one more hash for addr, or fails with ErrBusy when the
// address already runs perAddress of them.
func (h *Hasher) takeAddress(addr string) (release func(), err error) {
	if addr == "" {
		return func() {}, nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.inFlight[addr] >= h.perAddress {
		return nil, ErrBusy
	}
	h.inFlight[addr]++
	var once sync.Once
	return func() {
		once.Do(func() {
			h.mu.Lock()
			defer h.mu.Unlock()
			if h.inFlight[addr]--; h.inFlight[addr] <= 0 {
				delete(h.inFlight, addr) // the map holds only running addresses
			}
		})
	}, nil
}

// dummyBcryptCost is the cost of the bcrypt comparison that logins of
// argon2id users and of unknown users pay, so that they take as long as
// those of imported bcrypt users (imports are accepted from cost 10; a
// higher imported cost still shows until the first login rehashes it).
const dummyBcryptCost = bcrypt.MinCost + 6 // 10

// VerifyLogin is Verify for the login form, with one shape of work whatever
// the account: exactly one argon2id verification at the configured cost and
// one bcrypt comparison at dummyBcryptCost or the stored hash's cost.
// encoded == "" means the username is unknown (then match is false). Under
// this, unknown users, wrong passwords of argon2id users and wrong
// passwords of imported bcrypt users cost the same (ASVS V2.2, V11.1).
func (h *Hasher) VerifyLogin(ctx context.Context, password, encoded string) (match, needsRehash bool, err error) {
	if len(password) > MaxLength {
		return false, false, ErrTooLong
	}
	if h.paramsErr != nil {
		return false, false, h.paramsErr
	}
	// One slot for all of it: the flood's bcrypt work is bounded too, and
	// every kind of account waits for a slot once.
	release, err := h.acquire(ctx)
	if err != nil {
		return false, false, err
	}
	defer release()
	ctx = context.WithValue(ctx, slotHeldKey{}, true)
	isBcrypt := isBcryptHash(encoded)
	switch {
	case encoded == "":
		_, err = h.VerifyDummy(ctx, password)
	case isBcrypt:
		match, needsRehash, err = h.verifyBcrypt(ctx, password, encoded)
		if err == nil {
			_, err = h.VerifyDummy(ctx, password)
		}
		return match, needsRehash, err
	default:
		match, needsRehash, err = h.Verify(ctx, password, encoded)
	}
	if err != nil {
		return false, false, err
	}
	h.bcryptDummyCompare(password)
	return match, needsRehash, nil
}

func isBcryptHash(encoded string) bool {
	return len(encoded) > 4 && (encoded[:4] == "$2a$" || encoded[:4] == "$2b$" || encoded[:4] == "$2y$")
}

// slotHeldKey marks a ctx whose caller already holds a hashing slot.
type slotHeldKey struct{}

// bcryptDummyCompare spends one bcrypt comparison at dummyBcryptCost.
func (h *Hasher) bcryptDummyCompare(password string) {
	h.bcryptDummyOnce.Do(func() {
		h.bcryptDummy, _ = bcrypt.GenerateFromPassword([]byte("herald dummy password"), dummyBcryptCost)
	})
	h.bcryptRuns.Add(1)
	pw := []byte(password)
	if len(pw) > 72 {
		pw = pw[:72]
	}
	_ = bcrypt.CompareHashAndPassword(h.bcryptDummy, pw) // the result means nothing
}

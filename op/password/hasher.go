package password

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alexedwards/argon2id"
	"golang.org/x/crypto/bcrypt"
)

// DefaultMaxWait is how long a caller waits for a free hashing slot when
// NewHasher is given maxWait <= 0.
const DefaultMaxWait = 3 * time.Second

var (
	// ErrBusy: every hashing slot stayed taken for maxWait. The HTTP layer
	// answers 503 with Retry-After; it is not a failed login.
	ErrBusy = errors.New("password: too many concurrent password checks, try again later")
	// ErrUnknownHashFormat: the stored hash is neither argon2id nor bcrypt.
	ErrUnknownHashFormat = errors.New("password: unknown password hash format")
	// ErrMalformedHash: the stored hash has a known prefix but cannot be
	// used (bad encoding, or parameters outside safe bounds).
	ErrMalformedHash = errors.New("password: malformed or unsafe password hash")
)

// Hasher hashes and verifies passwords with argon2id. Each hash or verify
// holds one of a fixed number of slots, so that a login storm queues (and
// then fails fast with ErrBusy) instead of allocating memory without bound:
// at most maxConcurrent × MemoryKiB is in use at once. Safe for concurrent
// use.
type Hasher struct {
	params    Params
	paramsErr error
	slots     chan struct{}
	maxWait   time.Duration

	// reserved are extra slots only callers with Caller.Priority (a known
	// device) may take, so that a flood of guesses cannot queue them out.
	reserved chan struct{}
	// perAddress caps the hashes one source address runs at once (fair.go).
	perAddress int
	mu         sync.Mutex
	inFlight   map[string]int

	dummyOnce sync.Once
	dummy     string

	bcryptDummyOnce sync.Once
	bcryptDummy     []byte

	// counts of work done, for the structural timing tests.
	argon2Runs, bcryptRuns atomic.Int64

	// waiting counts callers blocked for a slot (Load); observer, when
	// set, hears of every slot taken or refused (SetObserver).
	waiting  atomic.Int64
	observer Observer
}

// Observer learns of every hashing slot (telemetry): when the caller
// started waiting, and whether it got the slot ("acquired"), gave up
// ("busy": ErrBusy) or left ("canceled"). The done it returns is called
// when the slot is released (at once when none was taken).
type Observer interface {
	HashSlot(ctx context.Context, start time.Time, result string) (done func())
}

// SetObserver installs o. Call it before the hasher is used.
func (h *Hasher) SetObserver(o Observer) { h.observer = o }

// Load reports the hashes running now and the callers waiting for a slot.
func (h *Hasher) Load() (running, waiting int) {
	return len(h.slots) + len(h.reserved), int(h.waiting.Load())
}

// NewHasher returns a Hasher that makes argon2id hashes with p, runs at
// most maxConcurrent hashes at once (<= 0: runtime.NumCPU()) and lets a
// caller wait up to maxWait for a slot (<= 0: DefaultMaxWait). Invalid
// params are reported by every Hash call (validate them at start-up with
// Params.Validate).
func NewHasher(p Params, maxConcurrent int, maxWait time.Duration) *Hasher {
	if maxConcurrent <= 0 {
		maxConcurrent = runtime.NumCPU()
	}
	if maxWait <= 0 {
		maxWait = DefaultMaxWait
	}
	return &Hasher{
		params:     p,
		paramsErr:  p.Validate(),
		slots:      make(chan struct{}, maxConcurrent),
		maxWait:    maxWait,
		reserved:   make(chan struct{}, reservedSlots(maxConcurrent)),
		perAddress: DefaultPerAddress,
		inFlight:   map[string]int{},
	}
}

// Params returns the parameters new hashes are made with.
func (h *Hasher) Params() Params { return h.params }

// Hash returns the PHC string of password: $argon2id$v=19$m=...,t=...,p=...$salt$tag.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	if len(password) > MaxLength {
		return "", ErrTooLong
	}
	if h.paramsErr != nil {
		return "", h.paramsErr
	}
	release, err := h.acquire(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	encoded, err := argon2id.CreateHash(password, h.libraryParams())
	if err != nil {
		return "", fmt.Errorf("password: hash: %w", err)
	}
	return encoded, nil
}

// Verify reports whether password matches encoded, an argon2id PHC string
// or a bcrypt hash ($2a$, $2b$, $2y$) of an imported user. needsRehash is
// true only together with match, when the caller should store a fresh Hash:
// for bcrypt always (migration to argon2id), for argon2id when the hash was
// made with other parameters than the configured ones. Both libraries
// compare in constant time. An unknown or unusable format is an error, never
// a match.
func (h *Hasher) Verify(ctx context.Context, password, encoded string) (match, needsRehash bool, err error) {
	if len(password) > MaxLength {
		return false, false, ErrTooLong
	}
	switch {
	case strings.HasPrefix(encoded, "$argon2id$"):
		return h.verifyArgon2id(ctx, password, encoded)
	case strings.HasPrefix(encoded, "$2a$"), strings.HasPrefix(encoded, "$2b$"), strings.HasPrefix(encoded, "$2y$"):
		return h.verifyBcrypt(ctx, password, encoded)
	}
	return false, false, ErrUnknownHashFormat
}

// VerifyDummy spends the same work as verifying a real argon2id hash made
// with the configured parameters, and always reports no match. Call it when
// the username is unknown, so that response time does not reveal whether an
// account exists (ASVS V2.2, checklist I3). It fails like Verify: ErrBusy,
// the ctx error, ErrTooLong.
func (h *Hasher) VerifyDummy(ctx context.Context, password string) (bool, error) {
	if h.paramsErr != nil {
		return false, h.paramsErr
	}
	h.dummyOnce.Do(func() { h.dummy = h.makeDummy() })
	_, _, err := h.Verify(ctx, password, h.dummy)
	return false, err
}

// makeDummy builds an argon2id PHC string with the configured parameters and
// a random salt and tag. No password hashes to that tag, and verifying
// against it derives a key with exactly the configured cost, so there is no
// need to spend a hash creating it.
func (h *Hasher) makeDummy() string {
	b := make([]byte, SaltLength+KeyLength)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go ≥ 1.24)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s",
		h.params.MemoryKiB, h.params.Iterations, h.params.Parallelism,
		enc.EncodeToString(b[:SaltLength]), enc.EncodeToString(b[SaltLength:]))
}

func (h *Hasher) verifyArgon2id(ctx context.Context, password, encoded string) (bool, bool, error) {
	// Decode and bound the parameters before taking a slot or spending work.
	stored, salt, key, err := argon2id.DecodeHash(encoded)
	if err != nil {
		return false, false, fmt.Errorf("%w: %v", ErrMalformedHash, err)
	}
	if err := h.checkStoredArgon2id(stored, len(salt), len(key)); err != nil {
		return false, false, err
	}
	release, err := h.acquire(ctx)
	if err != nil {
		return false, false, err
	}
	defer release()
	h.argon2Runs.Add(1)
	match, _, err := argon2id.CheckHash(password, encoded)
	if err != nil {
		return false, false, fmt.Errorf("%w: %v", ErrMalformedHash, err)
	}
	if !match {
		return false, false, nil
	}
	needsRehash := stored.Memory != h.params.MemoryKiB ||
		stored.Iterations != h.params.Iterations ||
		stored.Parallelism != h.params.Parallelism ||
		stored.SaltLength != SaltLength ||
		stored.KeyLength != KeyLength
	return true, needsRehash, nil
}

func (h *Hasher) checkStoredArgon2id(p *argon2id.Params, saltLen, keyLen int) error {
	maxMemory := max(uint32(maxStoredMemoryKiB), h.params.MemoryKiB)
	maxIterations := max(uint32(maxStoredIterations), h.params.Iterations)
	switch {
	case p.Memory < 8*uint32(p.Parallelism) || p.Memory > maxMemory:
		return fmt.Errorf("%w: argon2id memory %d KiB out of bounds", ErrMalformedHash, p.Memory)
	case p.Iterations < 1 || p.Iterations > maxIterations:
		return fmt.Errorf("%w: argon2id iterations %d out of bounds", ErrMalformedHash, p.Iterations)
	case p.Parallelism < 1:
		return fmt.Errorf("%w: argon2id parallelism is 0", ErrMalformedHash)
	case saltLen < minStoredSaltLength:
		return fmt.Errorf("%w: argon2id salt of %d bytes is too short", ErrMalformedHash, saltLen)
	case keyLen < minStoredKeyLength:
		return fmt.Errorf("%w: argon2id tag of %d bytes is too short", ErrMalformedHash, keyLen)
	}
	return nil
}

func (h *Hasher) verifyBcrypt(ctx context.Context, password, encoded string) (bool, bool, error) {
	cost, err := bcrypt.Cost([]byte(encoded))
	if err != nil {
		return false, false, fmt.Errorf("%w: %v", ErrMalformedHash, err)
	}
	if cost > maxBcryptCost {
		return false, false, fmt.Errorf("%w: bcrypt cost %d above %d", ErrMalformedHash, cost, maxBcryptCost)
	}
	release, err := h.acquire(ctx)
	if err != nil {
		return false, false, err
	}
	defer release()
	// bcrypt only reads the first 72 bytes; the imported hash was made that
	// way, so longer passwords verify as they did before the import. The
	// rehash to argon2id then covers the whole password.
	h.bcryptRuns.Add(1)
	switch err := bcrypt.CompareHashAndPassword([]byte(encoded), []byte(password)); {
	case err == nil:
		return true, true, nil
	case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
		return false, false, nil
	default:
		return false, false, fmt.Errorf("%w: %v", ErrMalformedHash, err)
	}
}

// acquire takes a hashing slot, waiting at most maxWait and no longer than
// ctx allows. A caller whose ctx has already ended gets no slot: the client
// is gone and the work would be wasted. The Caller in ctx (fair.go) may be
// refused at once (its address has too many hashes running) or may use the
// reserved slots.
func (h *Hasher) acquire(ctx context.Context) (release func(), err error) {
	if ctx.Value(slotHeldKey{}) != nil && ctx.Err() == nil {
		return func() {}, nil // VerifyLogin holds one slot for all its work
	}
	if h.observer == nil {
		return h.acquireSlot(ctx)
	}
	start := time.Now()
	slot, err := h.acquireSlot(ctx)
	result := "acquired"
	switch {
	case errors.Is(err, ErrBusy):
		result = "busy"
	case err != nil:
		result = "canceled"
	}
	done := h.observer.HashSlot(ctx, start, result)
	if err != nil {
		return nil, err
	}
	return func() { slot(); done() }, nil
}

// acquireSlot is acquire without the observer.
func (h *Hasher) acquireSlot(ctx context.Context) (release func(), err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c := callerFrom(ctx)
	releaseAddr, err := h.takeAddress(c.Address)
	if err != nil {
		return nil, err
	}
	general := func() { <-h.slots; releaseAddr() }
	reserved := func() { <-h.reserved; releaseAddr() }
	select {
	case h.slots <- struct{}{}:
		return general, nil
	default:
	}
	var priority chan struct{} // nil: blocks for ever in the select below
	if c.Priority {
		priority = h.reserved
		select {
		case h.reserved <- struct{}{}:
			return reserved, nil
		default:
		}
	}
	timer := time.NewTimer(h.maxWait)
	defer timer.Stop()
	h.waiting.Add(1)
	defer h.waiting.Add(-1)
	select {
	case h.slots <- struct{}{}:
		return general, nil
	case priority <- struct{}{}:
		return reserved, nil
	case <-ctx.Done():
		releaseAddr()
		return nil, ctx.Err()
	case <-timer.C:
		releaseAddr()
		return nil, ErrBusy
	}
}

func (h *Hasher) libraryParams() *argon2id.Params {
	return &argon2id.Params{
		Memory:      h.params.MemoryKiB,
		Iterations:  h.params.Iterations,
		Parallelism: h.params.Parallelism,
		SaltLength:  SaltLength,
		KeyLength:   KeyLength,
	}
}

package password

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// testParams is the smallest cost Validate accepts.
var testParams = Params{MemoryKiB: MinMemoryKiB, Iterations: 1, Parallelism: 1}

// cheapParams are below the minimum, to keep the suite fast under -race;
// only newTestHasher accepts them.
var cheapParams = Params{MemoryKiB: 1024, Iterations: 1, Parallelism: 1}

// newTestHasher is NewHasher without the parameter floor (test-only path).
func newTestHasher(p Params, maxConcurrent int, maxWait time.Duration) *Hasher {
	h := NewHasher(p, maxConcurrent, maxWait)
	h.paramsErr = nil
	return h
}

func TestParamsValidate(t *testing.T) {
	tests := []struct {
		name      string
		params    Params
		wantField string // "" = valid
	}{
		{"default", DefaultParams(), ""},
		{"minimum", testParams, ""},
		{"memory below 19 MiB", Params{MemoryKiB: MinMemoryKiB - 1, Iterations: 3, Parallelism: 1}, "MemoryKiB"},
		{"memory above 4 GiB", Params{MemoryKiB: MaxMemoryKiB + 1, Iterations: 3, Parallelism: 1}, "MemoryKiB"},
		{"zero iterations", Params{MemoryKiB: MinMemoryKiB, Iterations: 0, Parallelism: 1}, "Iterations"},
		{"zero parallelism", Params{MemoryKiB: MinMemoryKiB, Iterations: 1, Parallelism: 0}, "Parallelism"},
		{"zero value", Params{}, "MemoryKiB"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.params.Validate()
			if tc.wantField == "" {
				if err != nil {
					t.Fatalf("Validate(%+v) = %v, want nil", tc.params, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantField) {
				t.Fatalf("Validate(%+v) = %v, want an error naming %s", tc.params, err, tc.wantField)
			}
		})
	}
	if p := DefaultParams(); p != (Params{MemoryKiB: 65536, Iterations: 3, Parallelism: 2}) {
		t.Errorf("DefaultParams() = %+v, want m=65536 t=3 p=2", p)
	}
}

func TestNewHasherDefaults(t *testing.T) {
	h := NewHasher(testParams, 0, 0)
	if cap(h.slots) != runtime.NumCPU() || h.maxWait != DefaultMaxWait {
		t.Errorf("NewHasher(…, 0, 0): %d slots, wait %v; want %d, %v", cap(h.slots), h.maxWait, runtime.NumCPU(), DefaultMaxWait)
	}
	// The smallest valid params hash and verify through the public path.
	minimum := NewHasher(testParams, 1, time.Second)
	encoded, err := minimum.Hash(t.Context(), "correct horse battery")
	if err != nil || !strings.HasPrefix(encoded, "$argon2id$v=19$m=19456,t=1,p=1$") {
		t.Fatalf("Hash with minimum params = %q, %v", encoded, err)
	}
	if match, rehash, err := minimum.Verify(t.Context(), "correct horse battery", encoded); !match || rehash || err != nil {
		t.Fatalf("Verify with minimum params = %v, %v, %v; want true, false, nil", match, rehash, err)
	}
	bad := NewHasher(Params{MemoryKiB: 1024, Iterations: 1, Parallelism: 1}, 1, time.Second)
	if _, err := bad.Hash(t.Context(), "correct horse battery"); err == nil || !strings.Contains(err.Error(), "MemoryKiB") {
		t.Errorf("Hash with invalid params = %v, want an error naming MemoryKiB", err)
	}
	if _, err := bad.VerifyDummy(t.Context(), "x"); err == nil {
		t.Error("VerifyDummy with invalid params succeeded")
	}
}

func TestHashVerify(t *testing.T) {
	h := newTestHasher(cheapParams, 2, time.Second)
	ctx := t.Context()
	passwords := []string{
		"correct horse battery staple",
		"пароль-с-юникодом-🔑",
		"ends with space ",
		strings.Repeat("x", MaxLength), // exactly the maximum: accepted, not truncated
	}
	for _, pw := range passwords {
		encoded, err := h.Hash(ctx, pw)
		if err != nil {
			t.Fatalf("Hash: %v", err)
		}
		if !strings.HasPrefix(encoded, "$argon2id$v=19$m=1024,t=1,p=1$") {
			t.Fatalf("Hash = %q, want an argon2id PHC string with the configured params", encoded)
		}
		if strings.Contains(encoded, pw) {
			t.Fatal("hash contains the password")
		}
		match, rehash, err := h.Verify(ctx, pw, encoded)
		if err != nil || !match || rehash {
			t.Errorf("Verify(right password) = %v, %v, %v; want true, false, nil", match, rehash, err)
		}
		wrongs := []string{pw[:len(pw)-1]}
		if pw == passwords[0] { // the full set once: argon2id is slow under -race
			wrongs = append(wrongs, pw+"x", strings.ToUpper(pw), "")
		}
		for _, wrong := range wrongs {
			match, rehash, err := h.Verify(ctx, wrong, encoded)
			if err != nil || match || rehash {
				t.Errorf("Verify(wrong password) = %v, %v, %v; want false, false, nil", match, rehash, err)
			}
		}
	}
	a, _ := h.Hash(ctx, "same password twice")
	b, _ := h.Hash(ctx, "same password twice")
	if a == b {
		t.Error("two hashes of one password are equal: salt not random")
	}
}

func TestNeedsRehashOnOtherParams(t *testing.T) {
	ctx := t.Context()
	old := newTestHasher(cheapParams, 1, time.Second)
	encoded, err := old.Hash(ctx, "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		params     Params
		wantRehash bool
	}{
		{"same params", cheapParams, false},
		{"more iterations", Params{MemoryKiB: 1024, Iterations: 2, Parallelism: 1}, true},
		{"more memory", Params{MemoryKiB: 2048, Iterations: 1, Parallelism: 1}, true},
		{"more lanes", Params{MemoryKiB: 1024, Iterations: 1, Parallelism: 2}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newTestHasher(tc.params, 1, time.Second)
			match, rehash, err := h.Verify(ctx, "correct horse battery staple", encoded)
			if err != nil || !match || rehash != tc.wantRehash {
				t.Errorf("Verify = %v, %v, %v; want true, %v, nil", match, rehash, err, tc.wantRehash)
			}
			if _, rehash, _ := h.Verify(ctx, "wrong password here", encoded); rehash {
				t.Error("needsRehash true without a match")
			}
		})
	}
}

func TestVerifyBcrypt(t *testing.T) {
	h := newTestHasher(cheapParams, 1, time.Second)
	ctx := t.Context()
	const pw = "imported user password"
	cost10, err := bcrypt.GenerateFromPassword([]byte(pw), 10)
	if err != nil {
		t.Fatal(err)
	}
	if match, rehash, err := h.Verify(ctx, pw, string(cost10)); err != nil || !match || !rehash {
		t.Fatalf("cost 10: Verify(right) = %v, %v, %v; want true, true, nil", match, rehash, err)
	}
	// The remaining cases use the minimum cost: bcrypt is slow under -race.
	cheap, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	// Go writes $2a$; $2b$ and $2y$ name the same algorithm in other
	// implementations (OpenBSD, PHP).
	for _, prefix := range []string{"$2a$", "$2b$", "$2y$"} {
		encoded := prefix + string(cheap[4:])
		match, rehash, err := h.Verify(ctx, pw, encoded)
		if err != nil || !match || !rehash {
			t.Errorf("%s: Verify(right) = %v, %v, %v; want true, true, nil", prefix, match, rehash, err)
		}
		match, rehash, err = h.Verify(ctx, pw+"!", encoded)
		if err != nil || match || rehash {
			t.Errorf("%s: Verify(wrong) = %v, %v, %v; want false, false, nil", prefix, match, rehash, err)
		}
	}
}

func TestVerifyRejectsBadHashes(t *testing.T) {
	h := newTestHasher(cheapParams, 1, time.Second)
	bcryptHash, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	const salt = "c29tZXNhbHRzb21lc2FsdA" // 16 bytes
	const tag = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	tests := []struct {
		name    string
		encoded string
		wantErr error // nil: any error
	}{
		{"empty", "", ErrUnknownHashFormat},
		{"plain text", "pw", ErrUnknownHashFormat},
		{"sha256 hex", "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8", ErrUnknownHashFormat},
		{"argon2i variant", "$argon2i$v=19$m=19456,t=1,p=1$" + salt + "$" + tag, ErrUnknownHashFormat},
		{"bcrypt $2x$", "$2x$" + string(bcryptHash[4:]), ErrUnknownHashFormat},
		{"argon2 version 16", "$argon2id$v=16$m=19456,t=1,p=1$" + salt + "$" + tag, ErrMalformedHash},
		{"missing field", "$argon2id$v=19$m=19456,t=1,p=1$" + salt, ErrMalformedHash},
		{"empty tag (argon2 panics)", "$argon2id$v=19$m=19456,t=1,p=1$" + salt + "$", ErrMalformedHash},
		{"1-byte tag", "$argon2id$v=19$m=19456,t=1,p=1$" + salt + "$AA", ErrMalformedHash},
		{"short salt", "$argon2id$v=19$m=19456,t=1,p=1$c2FsdA$" + tag, ErrMalformedHash},
		{"zero iterations (argon2 panics)", "$argon2id$v=19$m=19456,t=0,p=1$" + salt + "$" + tag, ErrMalformedHash},
		{"zero lanes (argon2 panics)", "$argon2id$v=19$m=19456,t=1,p=0$" + salt + "$" + tag, ErrMalformedHash},
		{"memory above 1 GiB", "$argon2id$v=19$m=4194304,t=1,p=1$" + salt + "$" + tag, ErrMalformedHash},
		{"iterations above bound", "$argon2id$v=19$m=19456,t=1000000,p=1$" + salt + "$" + tag, ErrMalformedHash},
		{"bad base64", "$argon2id$v=19$m=19456,t=1,p=1$!!!$" + tag, ErrMalformedHash},
		{"bcrypt cost 15 above bound", strings.Replace(string(bcryptHash), "$04$", "$15$", 1), ErrMalformedHash},
		{"truncated bcrypt", string(bcryptHash[:20]), ErrMalformedHash},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			match, rehash, err := h.Verify(t.Context(), "pw", tc.encoded)
			if match || rehash {
				t.Fatalf("Verify(%q) matched", tc.encoded)
			}
			if err == nil || (tc.wantErr != nil && !errors.Is(err, tc.wantErr)) {
				t.Fatalf("Verify(%q) error = %v, want %v", tc.encoded, err, tc.wantErr)
			}
			if strings.Contains(err.Error(), tc.encoded) && tc.encoded != "" {
				t.Errorf("error %q echoes the stored hash", err)
			}
		})
	}
}

func TestTooLongBeforeHashing(t *testing.T) {
	// One slot, held: if the length check came after the limiter these
	// calls would report ErrBusy instead.
	h := newTestHasher(cheapParams, 1, time.Millisecond)
	release, err := h.acquire(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	long := strings.Repeat("a", MaxLength+1)
	if _, err := h.Hash(t.Context(), long); !errors.Is(err, ErrTooLong) {
		t.Errorf("Hash(%d bytes) = %v, want ErrTooLong", len(long), err)
	}
	if _, _, err := h.Verify(t.Context(), long, "$argon2id$v=19$m=19456,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"); !errors.Is(err, ErrTooLong) {
		t.Errorf("Verify(%d bytes) = %v, want ErrTooLong", len(long), err)
	}
	if _, err := h.VerifyDummy(t.Context(), long); !errors.Is(err, ErrTooLong) {
		t.Errorf("VerifyDummy(%d bytes) = %v, want ErrTooLong", len(long), err)
	}
}

func TestLimiterBusy(t *testing.T) {
	h := newTestHasher(cheapParams, 1, time.Millisecond)
	ctx := t.Context()
	encoded, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	// Another hash is in progress: it holds the only slot.
	release, err := h.acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Hash(ctx, "correct horse battery staple"); !errors.Is(err, ErrBusy) {
		t.Errorf("Hash with no free slot = %v, want ErrBusy", err)
	}
	if _, _, err := h.Verify(ctx, "correct horse battery staple", encoded); !errors.Is(err, ErrBusy) {
		t.Errorf("Verify with no free slot = %v, want ErrBusy", err)
	}
	if _, err := h.VerifyDummy(ctx, "correct horse battery staple"); !errors.Is(err, ErrBusy) {
		t.Errorf("VerifyDummy with no free slot = %v, want ErrBusy", err)
	}
	release()
	if match, _, err := h.Verify(ctx, "correct horse battery staple", encoded); err != nil || !match {
		t.Errorf("Verify after the slot is freed = %v, %v; want true, nil", match, err)
	}
}

func TestLimiterWaitsForSlot(t *testing.T) {
	h := newTestHasher(cheapParams, 1, time.Hour)
	release, err := h.acquire(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := h.Hash(t.Context(), "correct horse battery staple")
		done <- err
	}()
	release() // the waiter (whether already queued or not) gets the slot
	if err := <-done; err != nil {
		t.Fatalf("Hash after waiting = %v, want success", err)
	}
}

func TestContextCancellation(t *testing.T) {
	h := newTestHasher(cheapParams, 1, time.Hour)
	release, err := h.acquire(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, _, err := h.Verify(ctx, "pw", "$argon2id$v=19$m=19456,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
		done <- err
	}()
	cancel()
	// maxWait is an hour: only the cancellation can end this wait.
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Verify with cancelled ctx = %v, want context.Canceled", err)
	}

	// A ctx that ended before the call gets no slot even when one is free.
	free := newTestHasher(cheapParams, 1, time.Hour)
	if _, err := free.Hash(ctx, "pw"); !errors.Is(err, context.Canceled) {
		t.Errorf("Hash with an ended ctx = %v, want context.Canceled", err)
	}
}

func TestVerifyDummy(t *testing.T) {
	h := newTestHasher(cheapParams, 1, time.Second)
	for _, pw := range []string{"", "pw", "correct horse battery staple"} {
		match, err := h.VerifyDummy(t.Context(), pw)
		if err != nil || match {
			t.Errorf("VerifyDummy(%q) = %v, %v; want false, nil", pw, match, err)
		}
	}
	// The dummy costs what a real hash with the configured params costs.
	if !strings.HasPrefix(h.dummy, "$argon2id$v=19$m=1024,t=1,p=1$") {
		t.Errorf("dummy hash %q does not use the configured params", h.dummy)
	}
	if _, _, err := h.Verify(t.Context(), "pw", h.dummy); err != nil {
		t.Errorf("dummy hash does not verify as a well-formed hash: %v", err)
	}
}

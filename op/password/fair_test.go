package password

import (
	"context"
	"errors"
	"sort"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// TestPerAddressCap: an address with DefaultPerAddress hashes running is
// refused at once; other addresses and administrative calls are not.
func TestPerAddressCap(t *testing.T) {
	h := newTestHasher(cheapParams, 8, time.Second)
	attacker := WithCaller(t.Context(), Caller{Address: "198.51.100.7"})
	var releases []func()
	for range DefaultPerAddress {
		rel, err := h.acquire(attacker)
		if err != nil {
			t.Fatal(err)
		}
		releases = append(releases, rel)
	}
	start := time.Now()
	if _, err := h.acquire(attacker); !errors.Is(err, ErrBusy) {
		t.Fatalf("third concurrent hash from one address: %v, want ErrBusy", err)
	}
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Fatalf("refusal took %v, want immediate", d)
	}
	other, err := h.acquire(WithCaller(t.Context(), Caller{Address: "198.51.100.8"}))
	if err != nil {
		t.Fatalf("another address: %v", err)
	}
	other()
	for _, r := range releases {
		r()
	}
	rel, err := h.acquire(attacker)
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	rel()
	if len(h.inFlight) != 0 {
		t.Fatalf("in-flight map keeps %d idle addresses", len(h.inFlight))
	}
}

// TestReservedSlots: with every general slot taken, a known device gets a
// reserved slot at once while an unknown one waits and fails with ErrBusy.
func TestReservedSlots(t *testing.T) {
	h := newTestHasher(cheapParams, 2, 200*time.Millisecond)
	for range 2 {
		rel, err := h.acquire(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		defer rel()
	}
	if _, err := h.acquire(WithCaller(t.Context(), Caller{Address: "a"})); !errors.Is(err, ErrBusy) {
		t.Fatalf("unknown device with the pool full: %v, want ErrBusy", err)
	}
	start := time.Now()
	rel, err := h.acquire(WithCaller(t.Context(), Caller{Address: "b", Priority: true}))
	if err != nil {
		t.Fatalf("known device with the pool full: %v", err)
	}
	if d := time.Since(start); d > 50*time.Millisecond {
		t.Fatalf("known device waited %v", d)
	}
	rel()
}

// TestFloodKnownDeviceFast: 20 addresses flood wrong passwords at a small
// pool; a known device still verifies within 2 s, every time. (Cheap
// parameters: the test is about waiting for a slot, and -race makes
// argon2id many times slower.)
func TestFloodKnownDeviceFast(t *testing.T) {
	h := newTestHasher(cheapParams, 2, 3*time.Second)
	hash, err := h.Hash(t.Context(), "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	for i := range 20 {
		for range 3 {
			wg.Go(func() {
				actx := WithCaller(ctx, Caller{Address: "10.0.0." + string(rune('a'+i))})
				for ctx.Err() == nil {
					if _, _, err := h.VerifyLogin(actx, "wrong guess", hash); errors.Is(err, ErrBusy) {
						time.Sleep(5 * time.Millisecond) // a refused request still costs a round trip
					}
				}
			})
		}
	}
	defer func() { cancel(); wg.Wait() }()
	time.Sleep(200 * time.Millisecond)
	user := WithCaller(t.Context(), Caller{Address: "192.0.2.1", Priority: true})
	bound := 2 * time.Second
	if raceEnabled {
		bound = 30 * time.Second // bcrypt under -race takes seconds by itself
	}
	for i := range 5 {
		start := time.Now()
		ok, _, err := h.VerifyLogin(user, "correct horse battery staple", hash)
		if d := time.Since(start); err != nil || !ok || d > bound {
			t.Fatalf("login %d under flood: ok=%v err=%v after %v", i, ok, err, d)
		}
	}
}

// TestVerifyLoginSameWork proves by structure that unknown users, wrong
// argon2id passwords and wrong bcrypt passwords do the same work: one
// argon2id verification and one bcrypt comparison each.
func TestVerifyLoginSameWork(t *testing.T) {
	h := newTestHasher(cheapParams, 2, time.Second)
	argon, err := h.Hash(t.Context(), "right password")
	if err != nil {
		t.Fatal(err)
	}
	bc, err := bcrypt.GenerateFromPassword([]byte("right password"), dummyBcryptCost)
	if err != nil {
		t.Fatal(err)
	}
	for name, encoded := range map[string]string{"unknown": "", "argon2id": argon, "bcrypt": string(bc)} {
		a0, b0 := h.argon2Runs.Load(), h.bcryptRuns.Load()
		match, _, err := h.VerifyLogin(t.Context(), "wrong password", encoded)
		if err != nil || match {
			t.Fatalf("%s: match=%v err=%v", name, match, err)
		}
		if a, b := h.argon2Runs.Load()-a0, h.bcryptRuns.Load()-b0; a != 1 || b != 1 {
			t.Errorf("%s: %d argon2id and %d bcrypt runs, want 1 and 1", name, a, b)
		}
	}
	for name, encoded := range map[string]string{"argon2id": argon, "bcrypt": string(bc)} {
		if match, _, err := h.VerifyLogin(t.Context(), "right password", encoded); err != nil || !match {
			t.Fatalf("%s right password: match=%v err=%v", name, match, err)
		}
	}
}

// TestVerifyLoginTimingMedians measures 30 attempts of each kind,
// interleaved so that load from elsewhere on the machine hits all three
// alike, and compares the medians. The tolerance is generous (the machine
// is shared); the structural test above is the exact proof.
func TestVerifyLoginTimingMedians(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("timing: not under -short or -race (the structural test runs)")
	}
	h := NewHasher(testParams, 2, time.Minute)
	argon, err := h.Hash(t.Context(), "right password")
	if err != nil {
		t.Fatal(err)
	}
	bc, err := bcrypt.GenerateFromPassword([]byte("right password"), dummyBcryptCost)
	if err != nil {
		t.Fatal(err)
	}
	kinds := []struct{ name, encoded string }{{"unknown", ""}, {"argon2id", argon}, {"bcrypt", string(bc)}}
	times := make([][]time.Duration, len(kinds))
	for range 30 {
		for i, k := range kinds {
			start := time.Now()
			if _, _, err := h.VerifyLogin(t.Context(), "wrong password", k.encoded); err != nil {
				t.Fatal(err)
			}
			times[i] = append(times[i], time.Since(start))
		}
	}
	med := make([]time.Duration, len(kinds))
	for i := range kinds {
		sort.Slice(times[i], func(a, b int) bool { return times[i][a] < times[i][b] })
		med[i] = times[i][len(times[i])/2]
		t.Logf("%s: median %v", kinds[i].name, med[i])
	}
	for i := 1; i < len(kinds); i++ {
		ratio := float64(med[i]) / float64(med[0])
		if ratio < 0.7 || ratio > 1.3 {
			t.Errorf("median of %s is %.2f× that of unknown users (want within 30%%)", kinds[i].name, ratio)
		}
	}
}
